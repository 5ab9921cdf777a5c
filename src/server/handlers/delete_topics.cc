// DeleteTopics: by name (v1-5: topic_names) or by name or id (v6+: topics). One result per
// requested topic, in request order.

#include "protocol/messages/delete_topics.h"

#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> delete_topics(request_context& ctx) {
  auto req = decode_request<protocol::delete_topics_request>(ctx);
  if (!req) co_return close_connection{"malformed DeleteTopics request: " + req.error().message};
  const int16_t version = ctx.version();

  std::vector<cluster::topic_ref> refs;
  if (version >= 6) {
    for (const auto& t : req->topics) refs.push_back({t.name, t.topic_id});
  } else {
    for (const auto& name : req->topic_names) refs.push_back({name, {}});
  }
  auto call = call_controller(*ctx.broker,
                              [refs](cluster::controller& c) { return c.delete_topics(refs); });
  // Built outside the co_await: GCC 12 destroys temporaries of a co_await expression twice.
  auto results = co_await std::move(call);

  using protocol::error_code;
  const error_code deletion_disabled =
      version >= 3 ? error_code::topic_deletion_disabled : error_code::invalid_request;
  protocol::delete_topics_response resp;
  for (size_t i = 0; i < results.size(); ++i) {
    protocol::delete_topics_response::deletable_topic_result result;
    result.name = refs[i].name;
    result.topic_id = refs[i].id;
    if (results[i]) {
      result.name = results[i]->name;
      if (version >= 6) result.topic_id = results[i]->topic_id;
    } else {
      result.error_code = static_cast<int16_t>(
          kafka_error(results[i].error().code, error_code::kafka_storage_error, deletion_disabled));
      result.error_message = results[i].error().message;
    }
    resp.responses.push_back(std::move(result));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
