// OffsetCommit: stores a group's offsets in __consumer_offsets (coordinator/). Partitions of
// unknown topics get UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by id, v10+); a group-level
// error (generation, member, rebalance) is every partition's answer; metadata longer than
// offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE for that partition only. Commits
// with generation -1 and no member id come from consumers that assign partitions themselves.

#include "protocol/messages/offset_commit.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::offset_commit_response;

}  // namespace

asio::awaitable<handler_outcome> offset_commit(request_context& ctx) {
  auto req = decode_request<protocol::offset_commit_request>(ctx);
  if (!req) co_return close_connection{"malformed OffsetCommit request: " + req.error().message};
  auto ensure = ensure_offsets_topic_for_v0(ctx);
  co_await std::move(ensure);
  auto image = ctx.broker->images->current();
  const bool by_id = ctx.version() >= 10;
  response resp;
  coordinator::commit_request in;
  in.group_id = req->group_id;
  in.generation = req->generation_id_or_member_epoch;
  in.member_id = req->member_id;
  in.group_instance_id = req->group_instance_id;
  if (ctx.version() <= 4) in.retention_time_ms = req->retention_time_ms;
  // Where each committed partition's answer goes: (topic index, partition index).
  std::vector<std::pair<size_t, size_t>> slots;
  for (const auto& t : req->topics) {
    response::offset_commit_response_topic topic_out;
    topic_out.name = t.name;
    topic_out.topic_id = t.topic_id;
    auto topic = by_id ? image->find_topic(t.topic_id) : image->find_topic(t.name);
    for (const auto& p : t.partitions) {
      response::offset_commit_response_partition out;
      out.partition_index = p.partition_index;
      if (!topic || p.partition_index < 0 || p.partition_index >= topic->partition_count()) {
        out.error_code =
            static_cast<int16_t>(by_id ? protocol::error_code::unknown_topic_id
                                       : protocol::error_code::unknown_topic_or_partition);
      } else {
        slots.emplace_back(resp.topics.size(), topic_out.partitions.size());
        in.partitions.push_back({topic->name, p.partition_index, p.committed_offset,
                                 p.committed_leader_epoch, p.committed_metadata});
      }
      topic_out.partitions.push_back(std::move(out));
    }
    resp.topics.push_back(std::move(topic_out));
  }
  if (!in.partitions.empty() || in.group_id.empty()) {
    auto call = ctx.broker->groups->commit(std::move(in));
    auto [group_error, results] = co_await std::move(call);
    for (size_t i = 0; i < slots.size(); ++i) {
      auto code = group_error != coordinator::errc::none ? group_error
                  : i < results.size()                   ? results[i]
                                                         : coordinator::errc::unknown_server_error;
      resp.topics[slots[i].first].partitions[slots[i].second].error_code = kafka_error(code);
    }
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
