// OffsetDelete: removes committed offsets of a group. GROUP_ID_NOT_FOUND for an unknown group,
// NON_EMPTY_GROUP for an active group that is not a consumer group, GROUP_SUBSCRIBED_TO_TOPIC
// for partitions of topics an active consumer group subscribes to.

#include "protocol/messages/offset_delete.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> offset_delete(request_context& ctx) {
  using response = protocol::offset_delete_response;
  auto req = decode_request<protocol::offset_delete_request>(ctx);
  if (!req) co_return close_connection{"malformed OffsetDelete request: " + req.error().message};
  auto image = ctx.broker->images->current();
  response resp;
  std::vector<std::pair<std::string, int32_t>> partitions;
  std::vector<std::pair<size_t, size_t>> slots;
  for (const auto& t : req->topics) {
    response::offset_delete_response_topic topic_out;
    topic_out.name = t.name;
    auto topic = image->find_topic(t.name);
    for (const auto& p : t.partitions) {
      response::offset_delete_response_partition out;
      out.partition_index = p.partition_index;
      if (!topic || p.partition_index < 0 || p.partition_index >= topic->partition_count()) {
        out.error_code = static_cast<int16_t>(protocol::error_code::unknown_topic_or_partition);
      } else {
        slots.emplace_back(resp.topics.size(), topic_out.partitions.size());
        partitions.emplace_back(t.name, p.partition_index);
      }
      topic_out.partitions.push_back(std::move(out));
    }
    resp.topics.push_back(std::move(topic_out));
  }
  auto call = ctx.broker->groups->delete_offsets(req->group_id, partitions);
  auto [group_error, results] = co_await std::move(call);
  if (group_error != coordinator::errc::none) {
    resp.error_code = kafka_error(group_error);
    resp.topics.clear();
    co_return respond(ctx, resp);
  }
  for (size_t i = 0; i < slots.size() && i < results.size(); ++i)
    resp.topics[slots[i].first].partitions[slots[i].second].error_code = kafka_error(results[i]);
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
