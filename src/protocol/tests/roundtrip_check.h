#pragma once

// Support for codec_roundtrip_test.cc: random values for the generated fill_random() functions
// (build tree, protocol/testing/fill.cc) and the round-trip check run for every message type.

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/wire.h"

namespace sluice::protocol {

// Seeded random values that are valid on the wire. Arrays are short (0-3 elements) so that the
// nesting of the largest messages stays small.
class random_filler {
 public:
  explicit random_filler(uint64_t seed) : _rng(seed) {
    for (auto& b : _pool) b = static_cast<uint8_t>(_rng());
  }

  bool coin() { return (_rng() & 1) != 0; }
  size_t below(size_t n) { return static_cast<size_t>(_rng() % n); }

  template <typename T>
  requires std::is_integral_v<T>
  void fill(T& x) {
    if constexpr (std::is_same_v<T, bool>) {
      x = coin();
    } else {
      // Small values half the time, so that defaults and edge values come up too.
      x = coin() ? static_cast<T>(_rng()) : static_cast<T>(static_cast<int>(below(5)) - 2);
    }
  }
  void fill(double& x) { x = static_cast<double>(static_cast<int64_t>(_rng())) / 1024.0; }
  void fill(model::uuid& x) {
    for (auto& b : x.bytes) b = static_cast<uint8_t>(_rng());
  }
  void fill(std::string& x) {
    x.clear();
    const size_t n = below(9);
    for (size_t i = 0; i < n; ++i) x.push_back(static_cast<char>('a' + below(26)));
  }
  void fill(std::vector<uint8_t>& x) { x.assign(_pool.begin(), _pool.begin() + below(9)); }
  template <typename T>
  void fill(std::optional<T>& x, bool nullable) {
    if (nullable && below(4) == 0) {
      x.reset();
      return;
    }
    fill(x.emplace());
  }
  // Records view a random slice of a pool that lives as long as this filler.
  void fill(records_data& x, bool nullable) {
    if (nullable && below(4) == 0) {
      x = records_data();
      return;
    }
    const size_t at = below(_pool.size() / 2);
    x = records_data::view(std::span<const uint8_t>(_pool).subspan(at, below(_pool.size() / 2)));
  }

  template <typename T>
  void fill_array(std::vector<T>& x) {
    x.resize(below(4));
    for (auto& e : x) fill(e);
  }
  template <typename T>
  void fill_array(std::optional<std::vector<T>>& x, bool nullable) {
    if (nullable && below(4) == 0) {
      x.reset();
      return;
    }
    fill_array(x.emplace());
  }
  template <typename T>
  void fill_structs(std::vector<T>& x, int16_t version) {
    x.resize(below(4));
    for (auto& e : x) fill_random(e, *this, version);
  }
  template <typename T>
  void fill_structs(std::optional<std::vector<T>>& x, bool nullable, int16_t version) {
    if (nullable && below(4) == 0) {
      x.reset();
      return;
    }
    fill_structs(x.emplace(), version);
  }
  template <typename T>
  void fill_struct(std::optional<T>& x, bool nullable, int16_t version) {
    if (nullable && below(4) == 0) {
      x.reset();
      return;
    }
    fill_random(x.emplace(), *this, version);
  }
  // Sometimes adds unknown tagged fields, with tags from `tag_min` up, in ascending order.
  void fill_unknown_tags(tagged_fields& x, int tag_min) {
    x.fields.clear();
    if (below(4) != 0) return;
    uint32_t tag = static_cast<uint32_t>(tag_min) + static_cast<uint32_t>(below(3));
    for (size_t i = 0, n = 1 + below(2); i < n; ++i) {
      x.fields.push_back(raw_tagged_field{tag, {}});
      fill(x.fields.back().data);
      tag += 1 + static_cast<uint32_t>(below(200));
    }
  }

 private:
  std::mt19937_64 _rng;
  std::array<uint8_t, 64> _pool{};
};

// One generated message type, type-erased for the test table.
struct message_case {
  std::string_view name;
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
  // Runs the round trip at `version`; returns "" or what went wrong.
  std::string (*check)(int16_t version, uint64_t seed);
};

// Every request and response type (generated).
const std::vector<message_case>& all_message_cases();

inline std::vector<uint8_t> flatten_or_empty(writer&& w) {
  auto flat = std::move(w).finish().flatten();
  return flat ? std::move(flat).value() : std::vector<uint8_t>{};
}

// Fill at `version` from `seed`, encode, decode, compare; re-encode to the same bytes; every
// truncation fails to decode; single-byte corruptions decode or fail but never crash (the
// sanitizer build checks the "never crash" part).
template <typename T>
std::string check_roundtrip(int16_t version, uint64_t seed) {
  random_filler filler(seed);
  T original;
  fill_random(original, filler, version);

  writer w;
  if (auto s = original.encode(w, version); !s) {
    return fmt::format("encode failed: {} at {}", s.error().message, s.error().offset);
  }
  const size_t claimed_size = w.size();
  auto flat = std::move(w).finish().flatten();
  if (!flat) return "flatten failed: " + flat.error().message;
  const std::vector<uint8_t>& bytes = *flat;
  if (bytes.size() != claimed_size) {
    return fmt::format("writer size {} but {} bytes flattened", claimed_size, bytes.size());
  }

  T decoded;
  if (auto s = decode_message(decoded, bytes, version); !s) {
    return fmt::format("decode failed: {} at {}", s.error().message, s.error().offset);
  }
  if (!(decoded == original)) return "decoded message differs from the original";

  writer again;
  if (auto s = decoded.encode(again, version); !s) return "re-encode failed: " + s.error().message;
  if (flatten_or_empty(std::move(again)) != bytes) return "re-encoded bytes differ";

  for (size_t n = 0; n < bytes.size(); ++n) {
    T truncated;
    reader r(std::span<const uint8_t>(bytes).first(n));
    if (truncated.decode(r, version)) {
      return fmt::format("decoding the first {} of {} bytes succeeded", n, bytes.size());
    }
  }

  std::vector<uint8_t> corrupt = bytes;
  for (size_t i = 0; i < corrupt.size(); ++i) {
    const uint8_t saved = corrupt[i];
    for (uint8_t value : {uint8_t{0x00}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xff}}) {
      corrupt[i] = value;
      T damaged;
      reader r(corrupt);
      (void)damaged.decode(r, version);
    }
    corrupt[i] = saved;
  }
  return {};
}

}  // namespace sluice::protocol
