#pragma once

// The produce/fetch/list-offsets logic on partitions, kept out of the handlers (STYLE 10): batch
// validation for produce, appends, reads and offset lookups on the owner shard (through
// partition_registry::run_on_owner), and the Fetch long poll. Handlers decode requests, call
// these per partition and map partition_errc to Kafka error codes
// (handlers/partition_errors.h).

#include <asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/model.h"
#include "protocol/record_batch.h"
#include "server/partition_error.h"
#include "server/partition_registry.h"
#include "storage/log.h"

namespace sluice::server {

// Checks a Produce record set before it is appended, as Kafka does for Produce v3+: exactly one
// whole v2 batch; lengths, magic, CRC32C, records (compressed batches decompressed with a
// bound); its size against `batch_bytes_max` (max.message.bytes); zstd only when
// `zstd_allowed` (Produce v7+); a producer id only with a sequence number. Pure; runs on the
// handler's shard.
// What validation learned of a CreateTime batch's timestamps. `max_timestamp_fix` is set when the
// header's max timestamp is not the largest record timestamp (some clients write -1): Kafka
// rewrites it, and so does Produce (protocol::set_max_timestamp).
struct batch_timestamps {
  protocol::record_timestamps records;
  std::optional<int64_t> max_timestamp_fix;
};
result<void, partition_error> validate_produce_records(std::span<const uint8_t> records,
                                                       int64_t batch_bytes_max,
                                                       bool zstd_allowed = true,
                                                       batch_timestamps* timestamps = nullptr);

// message.timestamp.before.max.ms / after.max.ms for CreateTime topics: the reason for
// INVALID_TIMESTAMP when a record's timestamp is further than that from `now_ms` (records
// without one are not checked).
std::optional<std::string> timestamp_out_of_bounds(const protocol::record_timestamps& ts,
                                                   int64_t now_ms, int64_t before_max_ms,
                                                   int64_t after_max_ms);

// The outcomes below are plain values (an `error` when it failed) rather than result<>: asio's
// co_spawn needs a default-constructible result to carry them back from the owner shard.
struct produce_outcome {
  std::optional<partition_error> error;
  model::offset base_offset;
  model::offset log_start_offset;
  int64_t log_append_time_ms = -1;  // -1 for CreateTime
};

struct append_item {
  model::topic_partition tp;
  std::span<uint8_t> records;    // validated; patched in place, alive until the call completes
  model::leader_epoch epoch;     // written as each batch's partition leader epoch
  bool log_append_time = false;  // message.timestamp.type=LogAppendTime: stamp the batches
};

// Produce v0-v2: the message set (formats 0/1) as one v2 batch (protocol/legacy_records.h), with
// the Kafka error a damaged set gets. Runs on the handler's shard; the caller then validates the
// batch like any other.
result<std::vector<uint8_t>, partition_error> upconvert_produce_records(
    std::span<const uint8_t> message_set);

// LogAppendTime: sets the timestamp-type attribute and max timestamp of every batch in
// `records` (validated) to `now_ms` and recomputes their CRCs, as Kafka does.
void stamp_log_append_time(std::span<uint8_t> records, int64_t now_ms);

// Appends each item on its partition's owner shard, moves the high watermark to the log end
// (single node) and wakes waiting fetches; one outcome per item, in order. A retried batch of
// an idempotent producer gets the offsets it was first appended at. When the log's
// flush.messages calls for a flush, the outcome waits for the group-commit fdatasync (which
// runs off the shard). Every append is
// posted before the caller first suspends, so the appends of one connection's requests reach
// each partition in request order, as Kafka guarantees, even though the connection runs
// several handlers at once.
asio::awaitable<std::vector<produce_outcome>> append_all(partition_registry& registry,
                                                         std::vector<append_item> items);

struct fetch_outcome {
  std::optional<partition_error> error;
  std::optional<storage::segment_read> range;
  model::offset high_watermark;
  model::offset log_start_offset;
};

// Reads from `offset` up to `max_bytes` below the high watermark (a whole first batch when
// `min_one_batch`), on the owner shard.
asio::awaitable<fetch_outcome> read_records(partition_registry& registry, model::topic_partition tp,
                                            model::offset offset, uint64_t max_bytes,
                                            bool min_one_batch);

// Registers `waiter` on every partition in `tps` (each at its fetch offset), on their owners.
asio::awaitable<void> register_waiter(
    partition_registry& registry, std::vector<std::pair<model::topic_partition, model::offset>> tps,
    std::shared_ptr<fetch_waiter> waiter);

// ListOffsets: the special timestamps of Kafka (-1 latest, -2 earliest, -3 max timestamp, -4
// earliest local) or a time in ms.
struct offset_lookup {
  std::optional<partition_error> error;
  int64_t offset = -1;     // -1: no such record
  int64_t timestamp = -1;  // -1: none (latest, earliest)
};
inline constexpr int64_t latest_timestamp = -1;
inline constexpr int64_t earliest_timestamp = -2;
inline constexpr int64_t max_timestamp = -3;
inline constexpr int64_t earliest_local_timestamp = -4;

asio::awaitable<offset_lookup> lookup_offset(partition_registry& registry,
                                             model::topic_partition tp, int64_t timestamp);

// ListOffsets v0: up to `max_count` offsets, newest first, "before" `timestamp`, as Kafka 3.x
// answered it: the base offset of every segment (the log start for the first) and the log end,
// each with the time of its segment's newest record (Kafka used the file's mtime); latest
// starts at the log end, earliest at the log start; a consumer sees nothing above the high
// watermark.
struct legacy_offsets {
  std::optional<partition_error> error;
  std::vector<int64_t> offsets;
};
asio::awaitable<legacy_offsets> lookup_legacy_offsets(partition_registry& registry,
                                                      model::topic_partition tp, int64_t timestamp,
                                                      int32_t max_count, bool from_consumer);

}  // namespace sluice::server
