// DeleteRecords: moves the log start offset of each partition up to the requested offset (-1: the
// high watermark) on its owner shard (server/offset_ops.h delete_records_before) and answers the
// new log start offset as low_watermark. Internal topics are refused with INVALID_TOPIC_EXCEPTION
// and topics whose cleanup.policy lacks "delete" with POLICY_VIOLATION, as Kafka does.
//
// Durability: before answering, the log-start-offset checkpoints are written (on the controller's
// thread, which may block on fsync), so the new start survives a crash as well as a clean
// restart. timeout_ms bounds Kafka's wait for followers; a single node has none to wait for.

#include "protocol/messages/delete_records.h"

#include "base/logging.h"
#include "server/controller_thread.h"
#include "server/handlers/handlers.h"
#include "server/handlers/partition_errors.h"
#include "server/offset_ops.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::delete_records_response;

}  // namespace

asio::awaitable<handler_outcome> delete_records(request_context& ctx) {
  auto req = decode_request<protocol::delete_records_request>(ctx);
  if (!req) co_return close_connection{"malformed DeleteRecords request: " + req.error().message};
  const broker_context& broker = *ctx.broker;
  auto image = broker.images->current();

  response resp;
  // (topic, partition) indexes of the answers whose log start moved: they become errors if the
  // checkpoints cannot be written.
  std::vector<std::pair<size_t, size_t>> moved;
  for (const auto& t : req->topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.name = t.name;
    auto topic = image->find_topic(t.name);
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.low_watermark = -1;
      if (!topic || p.partition_index < 0 || p.partition_index >= topic->partition_count()) {
        out.error_code = protocol::number(protocol::error_code::unknown_topic_or_partition);
        continue;
      }
      if (topic->is_internal()) {
        out.error_code = protocol::number(protocol::error_code::invalid_topic_exception);
        continue;
      }
      model::topic_partition tp{topic->name, model::partition_id(p.partition_index)};
      auto call = delete_records_before(*broker.partitions, tp, p.offset);
      auto done = co_await std::move(call);
      // `out` and `topic_out` stay valid across the suspension: nothing is added to their
      // vectors until the next iteration.
      if (done.error) {
        out.error_code = protocol::number(kafka_error(done.error->code));
        continue;
      }
      out.low_watermark = done.low_watermark;
      if (done.moved) moved.emplace_back(resp.topics.size() - 1, topic_out.partitions.size() - 1);
    }
  }
  if (!moved.empty()) {
    storage::log_manager* logs = &broker.partitions->logs();
    auto call = on_controller(*broker.controller_executor, broker.controller,
                              [logs](cluster::controller&) { return logs->write_checkpoints(); });
    auto written = co_await std::move(call);
    if (!written) {
      logger("server")->error("DeleteRecords: cannot write the log start offset checkpoints: {}",
                              written.error().describe());
      for (auto [t, p] : moved) {
        resp.topics[t].partitions[p].error_code =
            protocol::number(protocol::error_code::kafka_storage_error);
        resp.topics[t].partitions[p].low_watermark = -1;
      }
    }
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
