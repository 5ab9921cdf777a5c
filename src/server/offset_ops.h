#pragma once

// The per-partition logic of OffsetForLeaderEpoch, DeleteRecords and DescribeLogDirs, kept out of
// the handlers (STYLE 10). Each operation runs on the partition's owner shard (through
// partition_registry::run_on_owner) and returns a plain value; handlers map partition_errc to Kafka
// error codes. The pure parts (epoch fencing, the DeleteRecords target) are separate functions
// so that unit tests reach them without a broker.

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/model.h"
#include "server/partition_error.h"
#include "server/partition_registry.h"
#include "storage/checkpoint.h"

namespace sluice::server {

// OffsetForLeaderEpoch fences a caller whose metadata is stale, as Kafka does: -1 (no current
// epoch given) is not checked; an older epoch than the partition's is FENCED_LEADER_EPOCH, a
// newer one UNKNOWN_LEADER_EPOCH.
enum class epoch_check { ok, fenced, unknown };
epoch_check check_current_leader_epoch(int32_t current_leader_epoch, int32_t partition_epoch);

// The end offset of `requested` from the log's leader-epoch cache (storage::epoch_end_offset),
// with the partition's current leader epoch counted as starting at the log end offset when no
// batch of it has been written yet (Kafka's leader records it so when it is elected). -1/-1
// (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET) when the cache has no answer.
// The pure part: `entries` are the log's leader-epoch cache entries.
std::optional<storage::epoch_entry> leader_epoch_end_offset(
    std::vector<storage::epoch_entry> entries, model::leader_epoch current_leader,
    model::leader_epoch requested, model::offset log_end);

struct epoch_end_offset_outcome {
  std::optional<partition_error> error;
  int32_t leader_epoch = -1;
  int64_t end_offset = -1;
};
asio::awaitable<epoch_end_offset_outcome> epoch_end_offset(partition_registry& registry,
                                                           model::topic_partition tp,
                                                           model::leader_epoch current_leader,
                                                           model::leader_epoch requested);

// DeleteRecords: the new log start offset for a requested offset, as Kafka's
// Partition.deleteRecordsOnLeader decides it: POLICY_VIOLATION unless cleanup.policy has
// "delete"; -1 means the high watermark; any other negative offset and any offset above the
// high watermark are out of range. An offset at or below the log start offset is accepted and
// changes nothing.
inline constexpr int64_t delete_to_high_watermark = -1;
result<model::offset, partition_error> delete_records_target(int64_t requested,
                                                             model::offset high_watermark,
                                                             bool cleanup_delete);

struct delete_records_outcome {
  std::optional<partition_error> error;
  int64_t low_watermark = -1;  // the log start offset afterwards
  bool moved = false;          // the log start offset advanced: checkpoints must be written
};
// Advances the log start offset on the owner shard (segments wholly below it go to deferred
// deletion). Durability is the caller's: it writes the log-start-offset checkpoint when `moved`.
asio::awaitable<delete_records_outcome> delete_records_before(partition_registry& registry,
                                                              model::topic_partition tp,
                                                              int64_t offset);

// DescribeLogDirs: a partition's size on disk (its segments' .log bytes, Kafka's log.size) and
// whether its log failed (its log dir is then reported offline). nullopt: no log here.
struct log_dir_partition {
  int64_t size_bytes = 0;
  bool failed = false;
};
asio::awaitable<std::optional<log_dir_partition>> describe_partition(partition_registry& registry,
                                                                     model::topic_partition tp);

}  // namespace sluice::server
