// ListOffsets: for each partition, the offset for a timestamp (server/partition_ops.h
// lookup_offset): -1 latest (the high watermark; also the last stable offset on a single node
// without transactions), -2 earliest, -3 the record with the largest timestamp, -4 earliest
// local, or the first record at or after a time in ms. Looked up on the owner shard.

#include "protocol/messages/list_offsets.h"

#include "server/handlers/handlers.h"
#include "server/handlers/partition_errors.h"
#include "server/partition_ops.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::list_offsets_response;

}  // namespace

asio::awaitable<handler_outcome> list_offsets(request_context& ctx) {
  auto req = decode_request<protocol::list_offsets_request>(ctx);
  if (!req) co_return close_connection{"malformed ListOffsets request: " + req.error().message};
  const broker_context& broker = *ctx.broker;
  auto image = broker.images->current();

  response resp;
  for (const auto& t : req->topics) {
    response::list_offsets_topic_response topic_out;
    topic_out.name = t.name;
    auto topic = image->find_topic(t.name);
    for (const auto& p : t.partitions) {
      response::list_offsets_partition_response out;
      out.partition_index = p.partition_index;
      if (!topic || p.partition_index < 0 || p.partition_index >= topic->partition_count()) {
        out.error_code = static_cast<int16_t>(protocol::error_code::unknown_topic_or_partition);
        topic_out.partitions.push_back(std::move(out));
        continue;
      }
      model::topic_partition tp{topic->name, model::partition_id(p.partition_index)};
      if (ctx.version() == 0) {
        auto legacy = lookup_legacy_offsets(*broker.partitions, tp, p.timestamp, p.max_num_offsets,
                                            req->replica_id < 0);
        auto offsets = co_await std::move(legacy);
        if (offsets.error) {
          out.error_code = protocol::number(kafka_error(offsets.error->code));
        } else {
          out.old_style_offsets = std::move(offsets.offsets);
        }
        topic_out.partitions.push_back(std::move(out));
        continue;
      }
      auto call = lookup_offset(*broker.partitions, tp, p.timestamp);
      auto found = co_await std::move(call);
      if (found.error) {
        out.error_code = protocol::number(kafka_error(found.error->code));
      } else {
        out.offset = found.offset;
        out.timestamp = found.timestamp;
        if (found.offset >= 0 && ctx.version() >= 4)
          out.leader_epoch =
              topic->partitions[static_cast<size_t>(p.partition_index)].leader_epoch.value();
      }
      topic_out.partitions.push_back(std::move(out));
    }
    resp.topics.push_back(std::move(topic_out));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
