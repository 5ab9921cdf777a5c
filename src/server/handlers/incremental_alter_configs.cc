// IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on each resource's config
// overrides. One result per resource, in request order; resource types other than TOPIC and
// BROKER, and unknown operations, get INVALID_REQUEST.

#include "protocol/messages/incremental_alter_configs.h"

#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

using request = protocol::incremental_alter_configs_request;

bool known_operations(const request::alter_configs_resource& resource) {
  for (const auto& c : resource.configs)
    if (c.config_operation < 0 || c.config_operation > 3) return false;
  return true;
}

// A resource with an unknown operation goes to the controller without alterations, so that it
// still counts in the controller's check for a resource named twice; its answer stays
// INVALID_REQUEST either way.
cluster::config_change to_change(const request::alter_configs_resource& r,
                                 cluster::config_resource_type type) {
  cluster::config_change change{{type, r.resource_name}, {}};
  if (!known_operations(r)) return change;
  for (const auto& c : r.configs) {
    change.alterations.push_back(
        {c.name, static_cast<cluster::config_op>(c.config_operation), c.value});
  }
  return change;
}

}  // namespace

asio::awaitable<handler_outcome> incremental_alter_configs(request_context& ctx) {
  auto req = decode_request<request>(ctx);
  if (!req) {
    co_return close_connection{"malformed IncrementalAlterConfigs request: " + req.error().message};
  }
  std::vector<cluster::config_change> changes;
  std::vector<size_t> sent;  // request index of each change
  for (size_t i = 0; i < req->resources.size(); ++i) {
    auto type = config_resource_type(req->resources[i].resource_type);
    if (!type) continue;
    changes.push_back(to_change(req->resources[i], *type));
    sent.push_back(i);
  }
  const bool validate_only = req->validate_only;
  auto call = call_controller(
      *ctx.broker, [changes = std::move(changes), validate_only](cluster::controller& c) {
        return c.incremental_alter_configs(changes, validate_only);
      });
  // Built outside the co_await: GCC 12 destroys temporaries of a co_await expression twice.
  auto results = co_await std::move(call);

  protocol::incremental_alter_configs_response resp;
  size_t next = 0;
  for (size_t i = 0; i < req->resources.size(); ++i) {
    const auto& r = req->resources[i];
    protocol::incremental_alter_configs_response::alter_configs_resource_response result;
    result.resource_type = r.resource_type;
    result.resource_name = r.resource_name;
    result.error_message = std::nullopt;
    if (next == sent.size() || sent[next] != i) {
      result.error_code = static_cast<int16_t>(protocol::error_code::invalid_request);
      result.error_message = unsupported_resource_message(r.resource_type);
    } else if (const auto& outcome = results[next++]; !outcome) {
      result.error_code = static_cast<int16_t>(kafka_error(outcome.error().code));
      result.error_message = outcome.error().message;
    } else if (!known_operations(r)) {
      result.error_code = static_cast<int16_t>(protocol::error_code::invalid_request);
      result.error_message = "Unknown config operation; expected 0 (SET) to 3 (SUBTRACT).";
    }
    resp.responses.push_back(std::move(result));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
