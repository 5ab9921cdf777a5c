#include "protocol/varint.h"

#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <random>
#include <vector>

namespace sluice::protocol {
namespace {

using bytes = std::vector<uint8_t>;

bytes encode_varint(int32_t v) {
  bytes out;
  append_varint(out, v);
  return out;
}

bytes encode_varlong(int64_t v) {
  bytes out;
  append_varlong(out, v);
  return out;
}

constexpr int32_t int32_min = std::numeric_limits<int32_t>::min();
constexpr int32_t int32_max = std::numeric_limits<int32_t>::max();
constexpr int64_t int64_min = std::numeric_limits<int64_t>::min();
constexpr int64_t int64_max = std::numeric_limits<int64_t>::max();

TEST(varint, zigzag_maps_small_magnitudes_to_small_numbers) {
  EXPECT_EQ(zigzag_encode(int32_t{0}), 0u);
  EXPECT_EQ(zigzag_encode(int32_t{-1}), 1u);
  EXPECT_EQ(zigzag_encode(int32_t{1}), 2u);
  EXPECT_EQ(zigzag_encode(int32_t{-2}), 3u);
  EXPECT_EQ(zigzag_encode(int32_max), 0xFFFFFFFEu);
  EXPECT_EQ(zigzag_encode(int32_min), 0xFFFFFFFFu);
  EXPECT_EQ(zigzag_encode(int64_max), 0xFFFFFFFFFFFFFFFEull);
  EXPECT_EQ(zigzag_encode(int64_min), 0xFFFFFFFFFFFFFFFFull);
  for (int32_t v : {0, 1, -1, 63, -64, int32_min, int32_max}) {
    EXPECT_EQ(zigzag_decode(zigzag_encode(v)), v);
  }
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_min, int64_max}) {
    EXPECT_EQ(zigzag_decode(zigzag_encode(v)), v);
  }
}

TEST(varint, encodes_known_vectors) {
  EXPECT_EQ(encode_varint(0), (bytes{0x00}));
  EXPECT_EQ(encode_varint(-1), (bytes{0x01}));
  EXPECT_EQ(encode_varint(1), (bytes{0x02}));
  EXPECT_EQ(encode_varint(63), (bytes{0x7e}));
  EXPECT_EQ(encode_varint(-64), (bytes{0x7f}));
  EXPECT_EQ(encode_varint(64), (bytes{0x80, 0x01}));
  EXPECT_EQ(encode_varint(300), (bytes{0xd8, 0x04}));
  EXPECT_EQ(encode_varint(int32_max), (bytes{0xfe, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(encode_varint(int32_min), (bytes{0xff, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(encode_varlong(int64_max),
            (bytes{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  EXPECT_EQ(encode_varlong(int64_min),
            (bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  bytes u;
  append_unsigned_varint(u, 0xFFFFFFFFu);
  EXPECT_EQ(u, (bytes{0xff, 0xff, 0xff, 0xff, 0x0f}));
  u.clear();
  append_unsigned_varint(u, 127);
  append_unsigned_varint(u, 128);
  EXPECT_EQ(u, (bytes{0x7f, 0x80, 0x01}));
}

TEST(varint, round_trips_edge_values) {
  for (int32_t v : {0, 1, -1, 63, -64, 64, -65, 8191, -8192, int32_min, int32_min + 1, int32_max,
                    int32_max - 1}) {
    const bytes b = encode_varint(v);
    EXPECT_EQ(b.size(), varint_size(v));
    auto r = read_varint(b);
    ASSERT_TRUE(r) << v;
    EXPECT_EQ(r->value, v);
    EXPECT_EQ(r->size_bytes, b.size());
  }
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1} << 35, -(int64_t{1} << 35), int64_min,
                    int64_min + 1, int64_max, int64_max - 1}) {
    const bytes b = encode_varlong(v);
    EXPECT_EQ(b.size(), varlong_size(v));
    auto r = read_varlong(b);
    ASSERT_TRUE(r) << v;
    EXPECT_EQ(r->value, v);
    EXPECT_EQ(r->size_bytes, b.size());
  }
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, ~uint64_t{0}}) {
    bytes b;
    append_unsigned_varlong(b, v);
    EXPECT_EQ(b.size(), unsigned_varlong_size(v));
    auto r = read_unsigned_varlong(b);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value, v);
  }
  EXPECT_EQ(varlong_size(int64_min), varlong_bytes_max);
  EXPECT_EQ(varint_size(int32_min), varint_bytes_max);
}

TEST(varint, round_trips_random_values) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    // Random bit widths, so that every encoded length is exercised.
    const auto v64 = static_cast<int64_t>(rng() >> (rng() % 64));
    const auto v32 = static_cast<int32_t>(static_cast<uint32_t>(rng()) >> (rng() % 32));
    const int64_t s64 = (rng() & 1) ? v64 : static_cast<int64_t>(0 - static_cast<uint64_t>(v64));
    const int32_t s32 = (rng() & 1) ? v32 : static_cast<int32_t>(0u - static_cast<uint32_t>(v32));
    auto r64 = read_varlong(encode_varlong(s64));
    ASSERT_TRUE(r64);
    ASSERT_EQ(r64->value, s64);
    auto r32 = read_varint(encode_varint(s32));
    ASSERT_TRUE(r32);
    ASSERT_EQ(r32->value, s32);
    std::array<uint8_t, varlong_bytes_max> buffer{};
    const size_t n = write_varlong(s64, buffer);
    ASSERT_EQ(bytes(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(n)),
              encode_varlong(s64));
  }
}

TEST(varint, every_prefix_is_truncated) {
  const bytes full = encode_varlong(int64_min);
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = read_varlong(std::span(full).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), varint_errc::truncated);
  }
  const bytes full32 = encode_varint(int32_min);
  for (size_t n = 0; n < full32.size(); ++n) {
    auto r = read_varint(std::span(full32).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), varint_errc::truncated);
  }
}

TEST(varint, never_reads_past_the_span) {
  // The byte after the span would end the number; the reader must not look at it.
  const bytes buffer = {0x80, 0x80, 0x00};
  auto r = read_varint(std::span(buffer).first(2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), varint_errc::truncated);
}

TEST(varint, rejects_too_many_bytes) {
  const bytes six = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  auto r = read_varint(six);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), varint_errc::too_long);
  bytes eleven(10, 0x80);
  eleven.push_back(0x00);
  auto r64 = read_varlong(eleven);
  ASSERT_FALSE(r64);
  EXPECT_EQ(r64.error(), varint_errc::too_long);
}

TEST(varint, rejects_bits_beyond_the_width) {
  // 5th byte of a 32-bit value carries 4 bits; 10th byte of a 64-bit value carries 1.
  EXPECT_TRUE(read_unsigned_varint(bytes{0xff, 0xff, 0xff, 0xff, 0x0f}));
  auto r = read_unsigned_varint(bytes{0xff, 0xff, 0xff, 0xff, 0x10});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), varint_errc::too_long);
  bytes ten(9, 0xff);
  ten.push_back(0x01);
  EXPECT_TRUE(read_unsigned_varlong(ten));
  ten.back() = 0x02;
  auto r64 = read_unsigned_varlong(ten);
  ASSERT_FALSE(r64);
  EXPECT_EQ(r64.error(), varint_errc::too_long);
}

TEST(varint, accepts_overlong_zero_like_kafka) {
  auto r = read_varint(bytes{0x80, 0x00});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 0);
  EXPECT_EQ(r->size_bytes, 2u);
}

TEST(varint, reads_only_the_first_number) {
  const bytes two = {0x02, 0x04};
  auto r = read_varint(two);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 1);
  EXPECT_EQ(r->size_bytes, 1u);
}

TEST(varint_death, write_into_short_buffer_aborts) {
  std::array<uint8_t, 1> small{};
  EXPECT_DEATH((void)write_varint(300, small), "varint of 2 bytes into a 1-byte buffer");
}

}  // namespace
}  // namespace sluice::protocol
