// CreatePartitions: raise topics' partition counts, one result per topic in request order.

#include "protocol/messages/create_partitions.h"

#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> create_partitions(request_context& ctx) {
  auto req = decode_request<protocol::create_partitions_request>(ctx);
  if (!req) {
    co_return close_connection{"malformed CreatePartitions request: " + req.error().message};
  }
  std::vector<cluster::partition_increase> increases;
  for (const auto& t : req->topics) {
    cluster::partition_increase inc{t.name, t.count, std::nullopt};
    if (t.assignments) {
      inc.assignments.emplace();
      for (const auto& a : *t.assignments) inc.assignments->push_back(a.broker_ids);
    }
    increases.push_back(std::move(inc));
  }
  const bool validate_only = req->validate_only;
  auto call = call_controller(
      *ctx.broker, [increases = std::move(increases), validate_only](cluster::controller& c) {
        return c.create_partitions(increases, validate_only);
      });
  // Built outside the co_await: GCC 12 destroys temporaries of a co_await expression twice.
  auto results = co_await std::move(call);

  protocol::create_partitions_response resp;
  for (size_t i = 0; i < results.size(); ++i) {
    protocol::create_partitions_response::create_partitions_topic_result result;
    result.name = req->topics[i].name;
    if (!results[i]) {
      result.error_code = static_cast<int16_t>(kafka_error(results[i].error().code));
      result.error_message = results[i].error().message;
    }
    resp.results.push_back(std::move(result));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
