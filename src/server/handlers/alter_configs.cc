// AlterConfigs: each resource's config overrides become exactly the given set. One result per
// resource, in request order; resource types other than TOPIC and BROKER get INVALID_REQUEST.

#include "protocol/messages/alter_configs.h"

#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> alter_configs(request_context& ctx) {
  auto req = decode_request<protocol::alter_configs_request>(ctx);
  if (!req) co_return close_connection{"malformed AlterConfigs request: " + req.error().message};

  std::vector<cluster::config_replacement> replacements;
  std::vector<size_t> sent;  // request index of each replacement
  for (size_t i = 0; i < req->resources.size(); ++i) {
    const auto& r = req->resources[i];
    auto type = config_resource_type(r.resource_type);
    if (!type) continue;
    cluster::config_replacement replacement{{*type, r.resource_name}, {}};
    for (const auto& c : r.configs) replacement.entries.push_back({c.name, c.value});
    replacements.push_back(std::move(replacement));
    sent.push_back(i);
  }
  const bool validate_only = req->validate_only;
  auto call = call_controller(
      *ctx.broker, [replacements = std::move(replacements), validate_only](cluster::controller& c) {
        return c.alter_configs(replacements, validate_only);
      });
  // Built outside the co_await: GCC 12 destroys temporaries of a co_await expression twice.
  auto results = co_await std::move(call);

  protocol::alter_configs_response resp;
  size_t next = 0;
  for (size_t i = 0; i < req->resources.size(); ++i) {
    const auto& r = req->resources[i];
    protocol::alter_configs_response::alter_configs_resource_response result;
    result.resource_type = r.resource_type;
    result.resource_name = r.resource_name;
    result.error_message = std::nullopt;
    if (next < sent.size() && sent[next] == i) {
      const auto& outcome = results[next++];
      if (!outcome) {
        result.error_code = static_cast<int16_t>(kafka_error(outcome.error().code));
        result.error_message = outcome.error().message;
      }
    } else {
      result.error_code = static_cast<int16_t>(protocol::error_code::invalid_request);
      result.error_message = unsupported_resource_message(r.resource_type);
    }
    resp.responses.push_back(std::move(result));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
