#pragma once

// Kafka request and response headers, written by hand because their version is not the message's
// version: it follows from the API table (protocol/api.h).
//
//   request header v0: api_key int16, api_version int16, correlation_id int32
//   request header v1: v0 + client_id (nullable string with an int16 length, even in v2)
//   request header v2: v1 + tagged fields
//   response header v0: correlation_id int32
//   response header v1: v0 + tagged fields

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "protocol/wire.h"

namespace sluice::protocol {

// The first 8 bytes of every request header, whatever its version. The server reads these to
// find the API, then the header version, then decodes the whole header.
struct request_header_prefix {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
};

inline constexpr size_t request_header_prefix_size = 8;

// Reads the prefix from the start of a request frame (after the frame's size).
result<request_header_prefix, codec_error> peek_request_header(std::span<const uint8_t> frame);

struct request_header {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // absent in v0; may be null in v1 and v2
  tagged_fields tags;                    // v2 only; no header tag is known, all are kept

  codec_result decode(reader& r, int16_t header_version);
  codec_result encode(writer& w, int16_t header_version) const;
  bool operator==(const request_header&) const = default;
};

struct response_header {
  int32_t correlation_id = 0;
  tagged_fields tags;  // v1 only

  codec_result decode(reader& r, int16_t header_version);
  codec_result encode(writer& w, int16_t header_version) const;
  bool operator==(const response_header&) const = default;
};

}  // namespace sluice::protocol
