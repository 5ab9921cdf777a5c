#pragma once

// Kafka record batch, format v2 (magic 2): the unit in which producers send records, the log
// stores them and consumers fetch them. The broker validates a batch on produce and then keeps its
// bytes unchanged, patching only base_offset and partition_leader_epoch, which lie outside the
// CRC. All multi-byte integers are big-endian.
//
// Batch header (61 bytes), then the records (compressed as a whole when the codec is not none):
//
//   offset size field
//        0    8 base_offset
//        8    4 batch_length             bytes that follow this field: batch size - 12
//       12    4 partition_leader_epoch
//       16    1 magic                    2 (magic sits at offset 16 in every format version)
//       17    4 crc                      CRC32C (unsigned) of bytes 21 .. end of batch
//       21    2 attributes               bits 0-2 codec, 3 timestamp type (1 = log append time),
//                                        4 transactional, 5 control, 6 delete horizon set
//       23    4 last_offset_delta
//       27    8 base_timestamp
//       35    8 max_timestamp
//       43    8 producer_id
//       51    2 producer_epoch
//       53    4 base_sequence
//       57    4 record_count
//       61      records
//
// Record (all varints zigzag-encoded, see protocol/varint.h):
//
//   length varint (bytes after this field), attributes int8, timestamp_delta varlong,
//   offset_delta varint, key_length varint (-1 = null), key, value_length varint (-1 = null),
//   value, header_count varint, then per header: key_length varint (>= 0), key (UTF-8),
//   value_length varint (-1 = null), value.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/compression.h"

namespace sluice::protocol {

// Byte offsets of the header fields, as in the table above.
namespace batch_field {
inline constexpr size_t base_offset = 0;
inline constexpr size_t batch_length = 8;
inline constexpr size_t partition_leader_epoch = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t crc = 17;
inline constexpr size_t attributes = 21;
inline constexpr size_t last_offset_delta = 23;
inline constexpr size_t base_timestamp = 27;
inline constexpr size_t max_timestamp = 35;
inline constexpr size_t producer_id = 43;
inline constexpr size_t producer_epoch = 51;
inline constexpr size_t base_sequence = 53;
inline constexpr size_t record_count = 57;
inline constexpr size_t records = 61;
}  // namespace batch_field

inline constexpr size_t batch_header_size = 61;
inline constexpr size_t batch_log_overhead = 12;  // base_offset (8) + batch_length (4)
// The CRC covers everything from the attributes to the end of the batch.
inline constexpr size_t batch_crc_start = batch_field::attributes;
inline constexpr int8_t batch_magic_v2 = 2;
static_assert(batch_field::records == batch_header_size);
static_assert(batch_field::partition_leader_epoch == batch_log_overhead);

namespace batch_attribute {
inline constexpr int16_t codec_mask = 0x07;
inline constexpr int16_t log_append_time = 0x08;
inline constexpr int16_t transactional = 0x10;
inline constexpr int16_t control = 0x20;
inline constexpr int16_t delete_horizon = 0x40;
}  // namespace batch_attribute

// Kafka's "no value" markers for the header fields that a plain (non-idempotent) producer leaves
// unset.
inline constexpr int64_t no_producer_id = -1;
inline constexpr int16_t no_producer_epoch = -1;
inline constexpr int32_t no_sequence = -1;
inline constexpr int32_t no_partition_leader_epoch = -1;
inline constexpr int64_t no_timestamp = -1;

// Bounds how far a compressed batch may expand when its records are read. A bound set by us, not
// by the bytes, so that a small hostile batch cannot make the broker allocate gigabytes.
inline constexpr size_t batch_decompressed_bytes_max_default = size_t{64} << 20;

struct batch_header {
  int64_t base_offset;
  int32_t batch_length;
  int32_t partition_leader_epoch;
  int8_t magic;
  uint32_t crc;
  int16_t attributes;
  int32_t last_offset_delta;
  int64_t base_timestamp;
  int64_t max_timestamp;
  int64_t producer_id;
  int16_t producer_epoch;
  int32_t base_sequence;
  int32_t record_count;

  // The raw codec bits may hold 5..7, which no codec uses; validate_batch rejects those.
  compression_codec codec() const;
  bool is_transactional() const;
  bool is_control() const;
  bool has_log_append_time() const;  // timestamp type bit
  int64_t last_offset() const;       // base_offset + last_offset_delta
  size_t size_bytes() const;         // batch_length + 12
};

enum class batch_errc {
  truncated,         // fewer bytes than the header or batch_length says
  bad_length,        // batch_length or a record length is impossible
  bad_magic,         // not format v2
  bad_crc,           // CRC32C mismatch
  bad_record_count,  // record_count disagrees with the records or with last_offset_delta
  bad_record,        // a record does not parse
  too_large,         // decompressed records exceed the bound
  bad_compression,   // unknown codec or a corrupt compressed stream
};

std::string_view to_string(batch_errc code);

struct batch_error {
  batch_errc code;
  std::string message;
};

// Reads the header of the batch that starts at bytes[0]; checks lengths and magic, not the CRC.
// Needs only the 61 header bytes: `bytes` may end before the batch does (a reader that fetched
// just the header) or continue past it (a segment). The caller compares size_bytes() with the
// bytes it has; validate_batch does.
result<batch_header, batch_error> read_batch_header(std::span<const uint8_t> bytes);

// Checks the CRC32C over attributes..end (bytes 21..size). `batch` is exactly one batch; false if
// it is shorter than a header.
bool batch_crc_matches(std::span<const uint8_t> batch);

// Full validation of one batch as a broker does on produce: header, CRC, and (for uncompressed
// batches) that the records parse and their count equals record_count; compressed batches are
// validated by decompressing with a bound when `deep` is set. `batch` is exactly one batch.
//
// Produce rules beyond the format: record_count > 0, last_offset_delta == record_count - 1, each
// record's offset_delta equals its position, and no bytes trail the last record. (A batch that
// compaction emptied has record_count 0; storage recovery should use read_batch_header and
// batch_crc_matches, which accept it.)
// With `timestamps`, a deep validation also gives the smallest and largest record timestamps
// (the largest is what Kafka writes into the header's max timestamp for CreateTime batches);
// records without a timestamp (-1) are left out of the smallest.
struct record_timestamps {
  int64_t min = INT64_MAX;
  int64_t max = -1;
};
result<batch_header, batch_error> validate_batch(
    std::span<const uint8_t> batch, bool deep,
    size_t decompressed_bytes_max = batch_decompressed_bytes_max_default,
    record_timestamps* timestamps = nullptr);

// Patches fields outside the CRC in place (the broker does this on append). The batch must have
// been validated: a span shorter than the field is an assertion failure.
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
// Sets the max timestamp (inside the CRC) and recomputes the CRC.
void set_max_timestamp(std::span<uint8_t> batch, int64_t max_timestamp);

// A record header: the key is a string and never null, the value is nullable bytes.
struct record_header {
  std::string_view key;
  std::optional<std::span<const uint8_t>> value;
};

// One record of a v2 batch. The views point into the bytes the record was parsed from (the batch
// itself when uncompressed, the decompressed buffer otherwise) and are valid while those live.
struct record {
  int8_t attributes = 0;  // unused by Kafka so far, carried as sent
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::span<const uint8_t>> key;    // nullopt = null key
  std::optional<std::span<const uint8_t>> value;  // nullopt = null value (a tombstone)
  std::vector<record_header> headers;
};

// Reads the records section of a batch (the bytes after the 61-byte header, decompressed if the
// batch was compressed) one record at a time. `records` must outlive the reader and every record
// it returns. Each record is checked against the bytes that remain before anything is allocated.
// Not thread-safe.
class record_reader {
 public:
  record_reader(std::span<const uint8_t> records, int32_t record_count);

  // True while fewer than record_count records were read and no read failed.
  bool has_next() const { return !_failed && _records_read < _record_count; }
  // Parses the next record; call only while has_next(). After an error has_next() is false.
  result<record, batch_error> next();
  // Once has_next() is false after success: checks that no bytes follow the last record.
  result<void, batch_error> finish() const;

 private:
  std::span<const uint8_t> _rest;
  int32_t _record_count;
  int32_t _records_read = 0;
  bool _failed = false;
};

// Every record of one batch. When the batch was compressed, `decompressed` owns the bytes the
// records view; otherwise they view the batch, which the caller keeps alive. Move-only, because a
// copy's records would still point into the original's buffer (a moved vector keeps its buffer).
struct batch_records {
  batch_header header{};
  std::vector<uint8_t> decompressed;
  std::vector<record> records;

  batch_records() = default;
  batch_records(batch_records&&) = default;
  batch_records& operator=(batch_records&&) = default;
  batch_records(const batch_records&) = delete;
  batch_records& operator=(const batch_records&) = delete;
};

// Reads the header and every record of `batch` (exactly one batch), decompressing with a bound
// when the batch is compressed. Checks the format (lengths, codec, that exactly record_count
// records fill the records section) but neither the CRC nor the produce rules of validate_batch,
// so that it also reads batches from the log, such as those compaction emptied. Memory: the
// decompressed bytes plus about 100 bytes per record; record_reader streams instead.
result<batch_records, batch_error> read_records(
    std::span<const uint8_t> batch,
    size_t decompressed_bytes_max = batch_decompressed_bytes_max_default);

// The record of a control batch has key = {version int16, type int16}. Types 0 and 1 are
// transaction markers, whose value is {version int16, coordinator_epoch int32}; later versions
// may append fields, which readers skip.
enum class control_record_type : int16_t { abort = 0, commit = 1 };

struct transaction_marker {
  control_record_type type;
  int32_t coordinator_epoch;
};

// Reads a transaction marker from a record of a control batch; nullopt if the record is not one
// (another control type, or a malformed key or value).
std::optional<transaction_marker> read_transaction_marker(const record& r);

}  // namespace sluice::protocol
