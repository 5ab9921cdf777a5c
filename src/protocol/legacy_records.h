#pragma once

// Kafka's message formats v0 and v1 (the "MessageSet" that Produce v0-v2 and Fetch v0-v3 carry),
// converted to and from record batch v2, the only format Sluice stores (KIP-724 removed the old
// ones from Kafka 4; Sluice converts, as Kafka 3.x did).
//
// A message set is a sequence of entries: offset int64, message size int32, then the message:
// crc int32 (CRC-32, the zlib polynomial, over the rest of the message), magic int8 (0 or 1),
// attributes int8 (bits 0-2 codec, bit 3 log-append time in v1), timestamp int64 (v1 only), key
// and value as int32-length bytes (-1: null). A compressed message is a wrapper whose value is
// a compressed message set of the real messages; in v1 their offsets are relative (0..n-1) and
// the wrapper carries the last absolute offset.
//
// Pure functions, no I/O; thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/compression.h"
#include "protocol/record_batch.h"

namespace sluice::protocol {

inline constexpr int8_t legacy_magic_v0 = 0;
inline constexpr int8_t legacy_magic_v1 = 1;

// The message format a Fetch version reads: v0-v1 format 0, v2-v3 format 1, later batches (2).
int8_t fetch_message_format(int16_t fetch_version);

// Produce v0-v2: checks every message (sizes, CRC, magic 0 or 1, codec, the inner messages of
// compressed wrappers, decompressed with `decompressed_bytes_max` as the bound) and writes the
// whole set as one v2 batch, compressed with the codec of its wrappers (none when it had none),
// as Kafka's broker up-converts. Messages of format 0 have no timestamp: they get -1 (Kafka's
// NO_TIMESTAMP). Errors: bad_crc for a CRC mismatch, bad_magic for a magic other than 0 or 1,
// bad_compression for an unknown codec or a stream that does not decompress (lz4 in format 0 is
// read without checking its frame's header checksum, which Kafka 0.8/0.9 wrote wrong, as Kafka
// reads it), and the other batch_errc codes as validate_batch uses them.
result<std::vector<uint8_t>, batch_error> upconvert_message_set(
    std::span<const uint8_t> message_set,
    size_t decompressed_bytes_max = batch_decompressed_bytes_max_default);

// Fetch v0-v3: the records of `batches` (whole v2 batches as stored, as a read returned them)
// at or after `first_offset`, as uncompressed messages of format `magic` (0 or 1). Control
// batches are left out; headers are dropped (the old formats have none). Stops before the
// message that would take the output past `bytes_max`, but always returns at least one when
// there is one. Kafka 3.x recompressed with the batch's codec instead; the result is the same
// data to every client.
result<std::vector<uint8_t>, batch_error> downconvert_batches(std::span<const uint8_t> batches,
                                                              int8_t magic, int64_t first_offset,
                                                              size_t bytes_max);

// Builds a message set, for tests and for the null sink of the benchmarks: messages of `magic`
// with these keys/values/timestamps at offsets 0..n-1, uncompressed or (codec != none) as one
// compressed wrapper.
struct legacy_message {
  std::optional<std::vector<uint8_t>> key;
  std::optional<std::vector<uint8_t>> value;
  int64_t timestamp = -1;  // ignored in format 0
};
std::vector<uint8_t> build_message_set(const std::vector<legacy_message>& messages, int8_t magic,
                                       compression_codec codec = compression_codec::none);

}  // namespace sluice::protocol
