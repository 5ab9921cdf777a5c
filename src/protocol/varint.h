#pragma once

// Kafka's variable-length integers (the protobuf encoding): 7 bits per byte, least significant
// group first, the high bit set on every byte but the last. Record fields use the signed forms
// (varint, varlong), which zigzag-map signed to unsigned so that small negative numbers stay
// short; flexible protocol versions use the unsigned forms for lengths and tags.
//
// Decoding is bounded: a 32-bit value takes at most 5 bytes and a 64-bit value at most 10, a last
// byte with bits beyond the type's width is rejected, and nothing past the input is read.
// Overlong but in-range encodings (0x80 0x00 for 0) are accepted, as Kafka does.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/assert.h"
#include "base/result.h"

namespace sluice::protocol {

inline constexpr size_t varint_bytes_max = 5;    // 32-bit values
inline constexpr size_t varlong_bytes_max = 10;  // 64-bit values

enum class varint_errc : uint8_t {
  truncated,  // the input ends inside the number
  too_long,   // more bytes than the type allows, or bits beyond its width
};

// A decoded value and the bytes it took.
template <typename T>
struct varint_read {
  T value;
  size_t size_bytes;
};

constexpr uint32_t zigzag_encode(int32_t v) {
  // In C++20 >> on a negative value is arithmetic: the mask is all ones for negative v.
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
constexpr uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int32_t zigzag_decode(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (0u - (v & 1u)));
}
constexpr int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (uint64_t{0} - (v & 1u)));
}

namespace detail {

template <std::unsigned_integral U>
result<varint_read<U>, varint_errc> read_unsigned(std::span<const uint8_t> in) {
  constexpr size_t bytes_max = (sizeof(U) * 8 + 6) / 7;
  // Value bits the last allowed byte may carry: 4 for 32-bit, 1 for 64-bit.
  constexpr unsigned last_byte_bits = sizeof(U) * 8 - 7 * (bytes_max - 1);
  U value = 0;
  for (size_t i = 0; i < bytes_max; ++i) {
    if (i == in.size()) return failure(varint_errc::truncated);
    const uint8_t b = in[i];
    // Also catches a continuation bit on the last allowed byte.
    if (i == bytes_max - 1 && (b >> last_byte_bits) != 0) return failure(varint_errc::too_long);
    value |= static_cast<U>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return varint_read<U>{value, i + 1};
  }
  return failure(varint_errc::too_long);  // not reached: the last byte returns above
}

template <std::unsigned_integral U>
constexpr size_t unsigned_size(U v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

template <std::unsigned_integral U>
size_t write_unsigned(U v, std::span<uint8_t> out) {
  const size_t n = unsigned_size(v);
  SLUICE_ASSERT(out.size() >= n, "varint of {} bytes into a {}-byte buffer", n, out.size());
  for (size_t i = 0; i + 1 < n; ++i) {
    out[i] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  out[n - 1] = static_cast<uint8_t>(v);
  return n;
}

template <std::unsigned_integral U>
void append_unsigned(std::vector<uint8_t>& out, U v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

}  // namespace detail

// Decoding: the value and its size, or why the bytes at in[0] are not one.
inline result<varint_read<uint32_t>, varint_errc> read_unsigned_varint(
    std::span<const uint8_t> in) {
  return detail::read_unsigned<uint32_t>(in);
}
inline result<varint_read<uint64_t>, varint_errc> read_unsigned_varlong(
    std::span<const uint8_t> in) {
  return detail::read_unsigned<uint64_t>(in);
}
inline result<varint_read<int32_t>, varint_errc> read_varint(std::span<const uint8_t> in) {
  auto r = detail::read_unsigned<uint32_t>(in);
  if (!r) return failure(r.error());
  return varint_read<int32_t>{zigzag_decode(r->value), r->size_bytes};
}
inline result<varint_read<int64_t>, varint_errc> read_varlong(std::span<const uint8_t> in) {
  auto r = detail::read_unsigned<uint64_t>(in);
  if (!r) return failure(r.error());
  return varint_read<int64_t>{zigzag_decode(r->value), r->size_bytes};
}

// Encoded sizes in bytes.
constexpr size_t unsigned_varint_size(uint32_t v) {
  return detail::unsigned_size(v);
}
constexpr size_t unsigned_varlong_size(uint64_t v) {
  return detail::unsigned_size(v);
}
constexpr size_t varint_size(int32_t v) {
  return detail::unsigned_size(zigzag_encode(v));
}
constexpr size_t varlong_size(int64_t v) {
  return detail::unsigned_size(zigzag_encode(v));
}

// Encoding into `out`, which must have room (the *_size() of the value, at most *_bytes_max);
// returns the bytes written.
inline size_t write_unsigned_varint(uint32_t v, std::span<uint8_t> out) {
  return detail::write_unsigned(v, out);
}
inline size_t write_unsigned_varlong(uint64_t v, std::span<uint8_t> out) {
  return detail::write_unsigned(v, out);
}
inline size_t write_varint(int32_t v, std::span<uint8_t> out) {
  return detail::write_unsigned(zigzag_encode(v), out);
}
inline size_t write_varlong(int64_t v, std::span<uint8_t> out) {
  return detail::write_unsigned(zigzag_encode(v), out);
}

// Encoding appended to a growing buffer.
inline void append_unsigned_varint(std::vector<uint8_t>& out, uint32_t v) {
  detail::append_unsigned(out, v);
}
inline void append_unsigned_varlong(std::vector<uint8_t>& out, uint64_t v) {
  detail::append_unsigned(out, v);
}
inline void append_varint(std::vector<uint8_t>& out, int32_t v) {
  detail::append_unsigned(out, zigzag_encode(v));
}
inline void append_varlong(std::vector<uint8_t>& out, int64_t v) {
  detail::append_unsigned(out, zigzag_encode(v));
}

}  // namespace sluice::protocol
