#pragma once

// Compression codecs of Kafka record batches (attributes bits 0-2), with the framing each Kafka
// client expects: gzip is a gzip stream (RFC 1952), snappy is the xerial "snappy-java" framing
// the Java client writes (a plain raw snappy block is also accepted on input, as librdkafka may
// send one), lz4 is the LZ4 frame format with a correct header checksum (KIP-57), and zstd is a
// standard zstd frame. No I/O; every function is thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::protocol {

enum class compression_codec : int8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

// Kafka's name of a codec ("none", "gzip", "snappy", "lz4", "zstd"), or "unknown".
std::string_view to_string(compression_codec codec);

enum class compression_errc : uint8_t {
  unknown_codec,  // the codec value is not one of compression_codec
  corrupt,        // the input is not a valid stream of the codec
  truncated,      // the input ends before the stream does
  too_large,      // the output would exceed output_bytes_max (or the input 4 GiB)
  invalid_level,  // a compression level the codec does not have
  internal,       // the library failed for a reason that is not the input (out of memory)
};

struct compression_error {
  compression_errc code;
  std::string message;
};

// Selects the codec's own default level (the one Kafka's producers use by default).
inline constexpr int compression_level_default = -1000;

// Compresses `in` as one stream of `codec`. For `none` the output is a copy of the input.
// `level` is codec-specific (gzip 0..9, lz4 any value where >= 3 selects LZ4 HC and > 12 means
// 12, zstd from ZSTD_minCLevel() to 22); snappy has no levels and ignores it.
result<std::vector<uint8_t>, compression_error> compress(compression_codec codec,
                                                         std::span<const uint8_t> in,
                                                         int level = compression_level_default);

// Decompresses `in`: for gzip one or more members, for snappy one xerial stream or one raw block,
// for lz4 exactly one frame with independent blocks (all Kafka's Java reader can decode), for zstd
// one or more frames. The output never grows beyond `output_bytes_max`: a stream that would
// decompress to more fails with `too_large`, so a "zip bomb" costs at most output_bytes_max bytes
// of memory, whatever sizes the input claims.
result<std::vector<uint8_t>, compression_error> decompress(compression_codec codec,
                                                           std::span<const uint8_t> in,
                                                           size_t output_bytes_max);

// Decompresses the lz4 frame of a message-format-0 wrapper as decompress(lz4, ...) does, except
// that the frame's header checksum is not checked: Kafka 0.8 and 0.9 computed it over the magic
// number as well as the frame descriptor (KAFKA-3160, fixed with format 1 by KIP-57), and Kafka
// reads format-0 frames without checking that byte.
result<std::vector<uint8_t>, compression_error> decompress_lz4_ignoring_header_checksum(
    std::span<const uint8_t> in, size_t output_bytes_max);

}  // namespace sluice::protocol
