#pragma once

// Big-endian loads and stores of fixed-width integers, the byte order of every multi-byte integer
// in a Kafka record batch. The caller guarantees that sizeof(T) bytes are there.

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace sluice::protocol {

namespace detail {
// std::byteswap is C++23; GCC 12 in C++20 mode has only the builtins.
template <std::unsigned_integral U>
constexpr U byte_swap(U v) {
  if constexpr (sizeof(U) == 1) return v;
  if constexpr (sizeof(U) == 2) return __builtin_bswap16(v);
  if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
  if constexpr (sizeof(U) == 8) return __builtin_bswap64(v);
}
}  // namespace detail

template <std::integral T>
T load_big_endian(const uint8_t* p) {
  using unsigned_t = std::make_unsigned_t<T>;
  unsigned_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little) v = detail::byte_swap(v);
  return static_cast<T>(v);
}

template <std::integral T>
void store_big_endian(uint8_t* p, T value) {
  auto v = static_cast<std::make_unsigned_t<T>>(value);
  if constexpr (std::endian::native == std::endian::little) v = detail::byte_swap(v);
  std::memcpy(p, &v, sizeof(v));
}

}  // namespace sluice::protocol
