#pragma once

// log_config: the topic-level settings of one partition log, with Kafka's names (in comments)
// and Kafka's defaults. The broker-level `log.*` settings provide the defaults of a broker
// (log_manager's config); a topic's own settings override them key by key (apply_overrides).

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "storage/error.h"

namespace sluice::storage {

enum class timestamp_type { create_time, log_append_time };

struct log_config {
  static constexpr int64_t never = std::numeric_limits<int64_t>::max();

  uint64_t segment_bytes = 1ULL << 30;               // segment.bytes
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;       // segment.ms
  uint32_t index_interval_bytes = 4096;              // index.interval.bytes
  uint32_t segment_index_bytes = 10 * 1024 * 1024;   // segment.index.bytes
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;     // retention.ms (-1: unlimited)
  int64_t retention_bytes = -1;                      // retention.bytes (-1: unlimited)
  bool cleanup_delete = true;                        // cleanup.policy contains "delete"
  bool cleanup_compact = false;                      // cleanup.policy contains "compact"
  int64_t flush_messages = never;                    // flush.messages
  int64_t flush_ms = never;                          // flush.ms
  int64_t delete_retention_ms = 24LL * 3600 * 1000;  // delete.retention.ms
  double min_cleanable_dirty_ratio = 0.5;            // min.cleanable.dirty.ratio
  int64_t min_compaction_lag_ms = 0;                 // min.compaction.lag.ms
  int64_t file_delete_delay_ms = 60000;              // file.delete.delay.ms
  int32_t max_message_bytes = 1048588;               // max.message.bytes
  timestamp_type message_timestamp_type = timestamp_type::create_time;  // message.timestamp.type
};

// Applies topic-level overrides given by Kafka key ("segment.bytes" -> "1048576"). Unknown keys
// are ignored (they belong to other subsystems); a known key with a bad value fails with
// invalid_argument and leaves `config` unchanged.
sresult<log_config> apply_overrides(log_config config,
                                    const std::map<std::string, std::string>& overrides);

// The topic-level keys above with the broker-level key that provides their default
// ("segment.bytes" -> "log.segment.bytes"), for the configuration layer.
const std::map<std::string, std::string>& broker_default_keys();

}  // namespace sluice::storage
