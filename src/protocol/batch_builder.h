#pragma once

// batch_builder: writes one valid v2 record batch (see protocol/record_batch.h for the format).
// Used by tests and fuzz seeds, and by the broker for control records (transaction markers) and
// format conversion.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/compression.h"
#include "protocol/record_batch.h"

namespace sluice::protocol {

// The bytes of a string, for keys and values given as text.
inline std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Collects records (encoding each as it is added) and then writes the batch. The defaults are
// those of a plain producer: base offset 0, no leader epoch, no producer id, create time.
// Not thread-safe.
class batch_builder {
 public:
  explicit batch_builder(compression_codec codec = compression_codec::none);

  batch_builder& base_offset(int64_t offset);
  batch_builder& partition_leader_epoch(int32_t epoch);
  // An idempotent or transactional producer's identity; the batch's first record has sequence
  // `base_sequence`.
  batch_builder& producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);
  batch_builder& transactional(bool on = true);
  batch_builder& control(bool on = true);
  // Marks the batch as log-append-time stamped: max_timestamp becomes `append_time_ms`.
  batch_builder& log_append_time(int64_t append_time_ms);
  // Codec level for the compressed records (see compress()).
  batch_builder& compression_level(int level);

  // Adds a record at `timestamp_ms` with the next offset delta. Spans are copied.
  batch_builder& add(int64_t timestamp_ms, std::optional<std::span<const uint8_t>> key,
                     std::optional<std::span<const uint8_t>> value,
                     std::span<const record_header> headers = {});
  // Adds a transaction marker (the only record of its batch) and sets the control and
  // transactional flags.
  batch_builder& add_transaction_marker(int64_t timestamp_ms, control_record_type type,
                                        int32_t coordinator_epoch);

  int32_t record_count() const { return _record_count; }

  // Writes the batch, with the CRC set. At least one record must have been added.
  std::vector<uint8_t> build() const;

 private:
  compression_codec _codec;
  int _compression_level = compression_level_default;
  int64_t _base_offset = 0;
  int32_t _partition_leader_epoch = no_partition_leader_epoch;
  int64_t _producer_id = no_producer_id;
  int16_t _producer_epoch = no_producer_epoch;
  int32_t _base_sequence = no_sequence;
  bool _transactional = false;
  bool _control = false;
  std::optional<int64_t> _log_append_time_ms;
  int64_t _base_timestamp = no_timestamp;
  int64_t _max_timestamp = no_timestamp;
  int32_t _record_count = 0;
  std::vector<uint8_t> _records;  // the encoded, uncompressed records section
};

}  // namespace sluice::protocol
