#pragma once

// Storage's view of a record batch: the header fields the log needs (offsets, size, leader epoch,
// max timestamp) and the three operations it performs on batch bytes (check the CRC, patch the
// base offset and the partition leader epoch). The byte layout belongs to protocol/record_batch.h;
// this file is the only place storage touches it, so the log itself never parses bytes.

#include <cstdint>
#include <optional>
#include <span>

#include "model/model.h"

namespace sluice::storage {

struct batch_info {
  model::offset base_offset;
  model::offset last_offset;
  model::leader_epoch leader_epoch;
  model::timestamp_ms max_timestamp;
  uint32_t size_bytes = 0;  // the whole batch including the 12-byte log overhead
  int32_t record_count = 0;
  int16_t attributes = 0;
  int64_t producer_id = -1;  // >= 0 for idempotent and transactional producers
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

// The smallest batch: a v2 header and no records (docs/format/segment.md).
uint32_t batch_header_bytes();
// How many bytes of a batch must be read to call parse_batch_header().
inline constexpr uint32_t batch_peek_bytes = 61;

// Parses the header at the start of `bytes` (at least batch_peek_bytes of it) and checks what
// can be checked without the body: magic 2, a batch length no smaller than the header, a
// non-negative last offset delta. nullopt when any check fails.
std::optional<batch_info> parse_batch_header(std::span<const uint8_t> bytes);

// True when `batch` (exactly one whole batch) carries a correct CRC32C.
bool batch_crc_valid(std::span<const uint8_t> batch);

// The first record of `batch` (one whole batch) whose timestamp is >= target and whose offset is
// >= offset_min, decoding (and decompressing) the records. With log-append time every record
// carries the batch's max timestamp. nullopt when no record qualifies or the records do not
// decode.
struct record_position {
  model::offset offset;
  model::timestamp_ms timestamp;
};
std::optional<record_position> first_record_at_or_after(std::span<const uint8_t> batch,
                                                        model::timestamp_ms target,
                                                        model::offset offset_min);

// Patches the two fields outside the CRC. `batch` is one whole batch, writable.
void patch_batch(std::span<uint8_t> batch, model::offset base, model::leader_epoch epoch);

}  // namespace sluice::storage
