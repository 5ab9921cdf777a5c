// OffsetForLeaderEpoch: for each partition, the end offset of the requested leader epoch
// (server/offset_ops.h epoch_end_offset), which consumers (KIP-320) and followers compare with
// their position to detect a truncated log. A caller's current_leader_epoch is fenced against
// the image's leader epoch first. replica_id (v3+: -1 for a consumer, a broker id for a follower)
// changes nothing here: Kafka answers both from the leader's log, and a single node has no
// followers.

#include "protocol/messages/offset_for_leader_epoch.h"

#include "server/handlers/handlers.h"
#include "server/handlers/partition_errors.h"
#include "server/offset_ops.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::offset_for_leader_epoch_response;

}  // namespace

asio::awaitable<handler_outcome> offset_for_leader_epoch(request_context& ctx) {
  auto req = decode_request<protocol::offset_for_leader_epoch_request>(ctx);
  if (!req) {
    co_return close_connection{"malformed OffsetForLeaderEpoch request: " + req.error().message};
  }
  const broker_context& broker = *ctx.broker;
  auto image = broker.images->current();

  response resp;
  for (const auto& t : req->topics) {
    response::offset_for_leader_topic_result topic_out;
    topic_out.topic = t.topic;
    auto topic = image->find_topic(t.topic);
    for (const auto& p : t.partitions) {
      response::epoch_end_offset out;
      out.partition = p.partition;
      if (!topic || p.partition < 0 || p.partition >= topic->partition_count()) {
        out.error_code = protocol::number(protocol::error_code::unknown_topic_or_partition);
        topic_out.partitions.push_back(std::move(out));
        continue;
      }
      auto leader_epoch = topic->partitions[static_cast<size_t>(p.partition)].leader_epoch;
      auto fencing = check_current_leader_epoch(p.current_leader_epoch, leader_epoch.value());
      if (fencing == epoch_check::fenced) {
        out.error_code = protocol::number(protocol::error_code::fenced_leader_epoch);
      } else if (fencing == epoch_check::unknown) {
        out.error_code = protocol::number(protocol::error_code::unknown_leader_epoch);
      } else {
        model::topic_partition tp{topic->name, model::partition_id(p.partition)};
        auto call = epoch_end_offset(*broker.partitions, tp, leader_epoch,
                                     model::leader_epoch(p.leader_epoch));
        auto found = co_await std::move(call);
        if (found.error) {
          out.error_code = protocol::number(kafka_error(found.error->code));
        } else {
          out.leader_epoch = found.leader_epoch;
          out.end_offset = found.end_offset;
        }
      }
      topic_out.partitions.push_back(std::move(out));
    }
    resp.topics.push_back(std::move(topic_out));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
