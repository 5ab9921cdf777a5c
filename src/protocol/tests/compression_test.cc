#include "protocol/compression.h"

#include <gtest/gtest.h>
#include <lz4frame.h>

#include <array>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::protocol {
namespace {

using bytes = std::vector<uint8_t>;

constexpr std::array<compression_codec, 5> all_codecs = {
    compression_codec::none, compression_codec::gzip, compression_codec::snappy,
    compression_codec::lz4, compression_codec::zstd};
constexpr std::array<compression_codec, 4> real_codecs = {
    compression_codec::gzip, compression_codec::snappy, compression_codec::lz4,
    compression_codec::zstd};

bytes to_bytes(std::string_view s) {
  return bytes(s.begin(), s.end());
}

// The text every known frame below decompresses to.
constexpr std::string_view known_text = "hello, kafka! hello, kafka! hello, kafka!";

// Produced independently of this code by the command line tools:
//   printf "$known_text" | gzip -c -n      (GNU gzip)
//   printf "$known_text" | lz4 -c -q       (lz4 v1.9.4: independent blocks, content checksum)
//   printf "$known_text" | zstd -c -q      (zstd v1.5.4: from a pipe, so no content size)
const bytes known_gzip = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
                          0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0xc8, 0x4e, 0x4c,
                          0xcb, 0x4e, 0x54, 0x54, 0xc8, 0xc0, 0xcd, 0x03, 0x00, 0xef,
                          0x2d, 0x71, 0x35, 0x29, 0x00, 0x00, 0x00};
const bytes known_lz4 = {0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x18, 0x00, 0x00, 0x00,
                         0xef, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x6b, 0x61, 0x66,
                         0x6b, 0x61, 0x21, 0x20, 0x0e, 0x00, 0x03, 0x50, 0x61, 0x66, 0x6b,
                         0x61, 0x21, 0x00, 0x00, 0x00, 0x00, 0x72, 0x10, 0x90, 0x1a};
const bytes known_zstd = {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0xa5, 0x00, 0x00, 0x70, 0x68,
                          0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61,
                          0x21, 0x20, 0x01, 0x00, 0x11, 0x4e, 0x25, 0x72, 0xa4, 0x33, 0xc1};
// Worked out by hand from the snappy format: varint length 5, a literal tag ((5 - 1) << 2),
// then the five literal bytes.
const bytes known_snappy_raw = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
// The same block in snappy-java framing: magic, version 1, compatible version 1, then the block
// with its int32 big-endian length.
const bytes known_snappy_xerial = {0x82, 'S', 'N',  'A',  'P', 'P', 'Y', 0x00, 0,
                                   0,    0,   1,    0,    0,   0,   1,   0,    0,
                                   0,    7,   0x05, 0x10, 'h', 'e', 'l', 'l',  'o'};

// Random bytes, or random words from a small vocabulary (which every codec shrinks).
bytes sample(size_t size, bool compressible, uint32_t seed) {
  std::mt19937 rng(seed);
  constexpr std::array<std::string_view, 4> words = {"kafka ", "sluice ", "record ", "batch "};
  bytes out;
  while (out.size() < size) {
    if (compressible) {
      const auto word = words[rng() % words.size()];
      out.insert(out.end(), word.begin(), word.end());
    } else {
      out.push_back(static_cast<uint8_t>(rng()));
    }
  }
  out.resize(size);
  return out;
}

TEST(compression, round_trips_every_codec) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  for (auto codec : all_codecs) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{70000}, size_t{1} << 20}) {
      for (bool compressible : {true, false}) {
        const bytes in = sample(size, compressible, seed);
        auto c = compress(codec, in);
        ASSERT_TRUE(c) << to_string(codec) << ": " << c.error().message;
        auto d = decompress(codec, *c, size);
        ASSERT_TRUE(d) << to_string(codec) << " " << size << ": " << d.error().message;
        EXPECT_TRUE(*d == in) << to_string(codec) << " " << size;
        if (compressible && size >= 1000 && codec != compression_codec::none) {
          EXPECT_LT(c->size(), size) << to_string(codec);
        }
      }
    }
  }
}

TEST(compression, round_trips_at_every_level) {
  const bytes in = sample(10000, true, 1);
  for (int level = 1; level <= 9; ++level) {
    auto c = compress(compression_codec::gzip, in, level);
    ASSERT_TRUE(c);
    EXPECT_EQ(*decompress(compression_codec::gzip, *c, in.size()), in);
  }
  for (int level : {-1, 0, 1, 3, 9, 12, 17}) {
    auto c = compress(compression_codec::lz4, in, level);
    ASSERT_TRUE(c) << level;
    EXPECT_EQ(*decompress(compression_codec::lz4, *c, in.size()), in);
  }
  for (int level : {-5, 1, 3, 19, 22}) {
    auto c = compress(compression_codec::zstd, in, level);
    ASSERT_TRUE(c) << level;
    EXPECT_EQ(*decompress(compression_codec::zstd, *c, in.size()), in);
  }
}

TEST(compression, rejects_invalid_levels) {
  const bytes in = to_bytes("x");
  auto gzip = compress(compression_codec::gzip, in, 10);
  ASSERT_FALSE(gzip);
  EXPECT_EQ(gzip.error().code, compression_errc::invalid_level);
  auto zstd = compress(compression_codec::zstd, in, 23);
  ASSERT_FALSE(zstd);
  EXPECT_EQ(zstd.error().code, compression_errc::invalid_level);
}

TEST(compression, decompresses_frames_made_by_other_tools) {
  const bytes text = to_bytes(known_text);
  auto gzip = decompress(compression_codec::gzip, known_gzip, 1000);
  ASSERT_TRUE(gzip) << gzip.error().message;
  EXPECT_EQ(*gzip, text);
  auto lz4 = decompress(compression_codec::lz4, known_lz4, 1000);
  ASSERT_TRUE(lz4) << lz4.error().message;
  EXPECT_EQ(*lz4, text);
  auto zstd = decompress(compression_codec::zstd, known_zstd, 1000);
  ASSERT_TRUE(zstd) << zstd.error().message;
  EXPECT_EQ(*zstd, text);
  auto raw = decompress(compression_codec::snappy, known_snappy_raw, 1000);
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_EQ(*raw, to_bytes("hello"));
  auto xerial = decompress(compression_codec::snappy, known_snappy_xerial, 1000);
  ASSERT_TRUE(xerial) << xerial.error().message;
  EXPECT_EQ(*xerial, to_bytes("hello"));
}

TEST(compression, snappy_writes_xerial_framing) {
  const bytes in = sample(100000, true, 2);
  auto c = compress(compression_codec::snappy, in);
  ASSERT_TRUE(c);
  ASSERT_GE(c->size(), 20u);
  EXPECT_TRUE(
      std::equal(known_snappy_xerial.begin(), known_snappy_xerial.begin() + 16, c->begin()));
  // 100000 bytes in 32 KiB blocks: four blocks, each length-prefixed.
  size_t blocks = 0;
  for (size_t pos = 16; pos < c->size(); ++blocks) {
    const uint32_t n = uint32_t{(*c)[pos]} << 24 | uint32_t{(*c)[pos + 1]} << 16 |
                       uint32_t{(*c)[pos + 2]} << 8 | uint32_t{(*c)[pos + 3]};
    pos += 4 + n;
    ASSERT_LE(pos, c->size());
  }
  EXPECT_EQ(blocks, 4u);
}

TEST(compression, lz4_writes_independent_64k_blocks_with_valid_header_checksum) {
  auto c = compress(compression_codec::lz4, sample(1000, true, 3));
  ASSERT_TRUE(c);
  ASSERT_GE(c->size(), 7u);
  EXPECT_EQ((*c)[4] & 0x20, 0x20) << "block independence flag";
  EXPECT_EQ((*c)[4] & 0x10, 0x00) << "no block checksums";
  EXPECT_EQ(((*c)[5] >> 4) & 0x7, 4) << "64 KiB maximum block size";
  // A wrong header checksum (KIP-57: what pre-0.10 Kafka wrote) must be rejected.
  bytes broken = *c;
  broken[6] ^= 0xff;
  EXPECT_FALSE(decompress(compression_codec::lz4, broken, 1000));
}

// kafka-python 2.0.2's lz4_encode_old_kafka(b"format 0 lz4, as Kafka 0.9 framed it"): the frame
// of a message-format-0 wrapper, with the header checksum Kafka 0.8/0.9 computed (0x1a: the
// hash taken from the magic number on, KAFKA-3160) and no content size.
const bytes kafka_09_lz4 = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x1a, 0x24, 0x00, 0x00, 0x80,
                            0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74, 0x20, 0x30, 0x20, 0x6c, 0x7a,
                            0x34, 0x2c, 0x20, 0x61, 0x73, 0x20, 0x4b, 0x61, 0x66, 0x6b, 0x61,
                            0x20, 0x30, 0x2e, 0x39, 0x20, 0x66, 0x72, 0x61, 0x6d, 0x65, 0x64,
                            0x20, 0x69, 0x74, 0x00, 0x00, 0x00, 0x00};

TEST(compression, lz4_of_kafka_09_is_read_only_without_the_header_checksum) {
  EXPECT_EQ(decompress(compression_codec::lz4, kafka_09_lz4, 1000).error().code,
            compression_errc::corrupt);
  auto d = decompress_lz4_ignoring_header_checksum(kafka_09_lz4, 1000);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, to_bytes("format 0 lz4, as Kafka 0.9 framed it"));
  // A frame with a correct checksum (from the lz4 tool) is read too.
  auto known = decompress_lz4_ignoring_header_checksum(known_lz4, 1000);
  ASSERT_TRUE(known) << known.error().message;
  EXPECT_EQ(*known, to_bytes(known_text));
  // The rest of the frame is still checked, and the bound still holds.
  bytes cut = kafka_09_lz4;
  cut.resize(cut.size() - 6);
  EXPECT_FALSE(decompress_lz4_ignoring_header_checksum(cut, 1000));
  EXPECT_EQ(decompress_lz4_ignoring_header_checksum(kafka_09_lz4, 10).error().code,
            compression_errc::too_large);
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(decompress_lz4_ignoring_header_checksum(std::span(kafka_09_lz4).first(n), 1000)
                  .error()
                  .code,
              compression_errc::truncated)
        << n;
  }
}

TEST(compression, lz4_rejects_linked_blocks) {
  // More than one block: liblz4 marks a single-block frame independent whatever it is asked.
  const bytes in = sample(200000, true, 4);
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockLinked;
  bytes frame(LZ4F_compressFrameBound(in.size(), &prefs));
  const size_t n = LZ4F_compressFrame(frame.data(), frame.size(), in.data(), in.size(), &prefs);
  ASSERT_FALSE(LZ4F_isError(n));
  frame.resize(n);
  auto d = decompress(compression_codec::lz4, frame, in.size());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, compression_errc::corrupt);
}

TEST(compression, concatenated_gzip_members_and_zstd_frames_decode_to_the_concatenation) {
  for (auto codec : {compression_codec::gzip, compression_codec::zstd}) {
    const bytes a = to_bytes("first part, ");
    const bytes b = to_bytes("second part");
    bytes joined = *compress(codec, a);
    const bytes second = *compress(codec, b);
    joined.insert(joined.end(), second.begin(), second.end());
    auto d = decompress(codec, joined, 100);
    ASSERT_TRUE(d) << to_string(codec) << ": " << d.error().message;
    EXPECT_EQ(*d, to_bytes("first part, second part"));
  }
}

TEST(compression, zip_bomb_stops_at_the_bound) {
  // 16 MiB of zeros compress to a few KiB; decompressing with a 1 MiB bound must fail cleanly,
  // and exactly the original size must succeed.
  const bytes zeros(size_t{16} << 20, 0);
  for (auto codec : real_codecs) {
    auto c = compress(codec, zeros);
    ASSERT_TRUE(c);
    EXPECT_LT(c->size(), zeros.size() / 16) << to_string(codec);
    auto bounded = decompress(codec, *c, size_t{1} << 20);
    ASSERT_FALSE(bounded) << to_string(codec);
    EXPECT_EQ(bounded.error().code, compression_errc::too_large) << to_string(codec);
    auto one_short = decompress(codec, *c, zeros.size() - 1);
    ASSERT_FALSE(one_short) << to_string(codec);
    EXPECT_EQ(one_short.error().code, compression_errc::too_large) << to_string(codec);
    auto exact = decompress(codec, *c, zeros.size());
    ASSERT_TRUE(exact) << to_string(codec) << ": " << exact.error().message;
    EXPECT_EQ(exact->size(), zeros.size());
  }
  auto none = decompress(compression_codec::none, zeros, 10);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, compression_errc::too_large);
}

TEST(compression, snappy_length_claim_is_checked_before_allocating) {
  // A raw block that claims 4 GiB - 1 of output in 5 bytes of varint.
  const bytes claim = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
  auto d = decompress(compression_codec::snappy, claim, size_t{64} << 20);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, compression_errc::too_large);
  bytes framed(known_snappy_xerial.begin(), known_snappy_xerial.begin() + 16);
  framed.insert(framed.end(), {0, 0, 0, 6});
  framed.insert(framed.end(), claim.begin(), claim.end());
  auto f = decompress(compression_codec::snappy, framed, size_t{64} << 20);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, compression_errc::too_large);
}

TEST(compression, every_truncation_fails_or_yields_a_prefix) {
  const bytes in = sample(5000, false, 5);
  for (auto codec : real_codecs) {
    auto c = compress(codec, in);
    ASSERT_TRUE(c);
    for (size_t n = 0; n < c->size(); ++n) {
      auto d = decompress(codec, std::span(*c).first(n), in.size());
      // snappy-java framing has no end marker: a cut at a block boundary is a shorter stream.
      if (d && codec == compression_codec::snappy && n >= 16) {
        EXPECT_LT(d->size(), in.size()) << n;
        continue;
      }
      EXPECT_FALSE(d) << to_string(codec) << " cut at " << n << " of " << c->size();
    }
  }
}

TEST(compression, corrupt_input_never_crashes) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  const bytes in = sample(3000, true, seed);
  for (auto codec : real_codecs) {
    const bytes good = *compress(codec, in);
    for (int i = 0; i < 300; ++i) {
      bytes bad = good;
      const size_t at = rng() % bad.size();
      bad[at] ^= static_cast<uint8_t>(1 + rng() % 255);
      auto d = decompress(codec, bad, in.size() * 2);
      // gzip's trailer CRC means it never returns wrong bytes (a flip in the header's time or OS
      // bytes, or in the padding bits of the last deflate byte, changes nothing); the other
      // codecs may decode to other bytes, which the batch CRC catches above this layer.
      if (codec == compression_codec::gzip && d) {
        EXPECT_EQ(*d, in) << "flip at " << at;
      }
      if (d) {
        EXPECT_LE(d->size(), in.size() * 2);
      }
    }
    const bytes garbage = sample(500, false, seed + 1);
    auto d = decompress(codec, garbage, 1 << 20);
    if (codec != compression_codec::snappy) {
      EXPECT_FALSE(d) << to_string(codec);
    }
  }
}

TEST(compression, a_failed_stream_does_not_affect_the_next) {
  // zstd reuses one decompression context per thread: a stream cut short must leave no state.
  const bytes in = sample(100000, true, 6);
  for (auto codec : real_codecs) {
    const bytes good = *compress(codec, in);
    EXPECT_FALSE(decompress(codec, std::span(good).first(good.size() / 2), in.size()));
    EXPECT_FALSE(decompress(codec, good, in.size() / 2));
    auto d = decompress(codec, good, in.size());
    ASSERT_TRUE(d) << to_string(codec) << ": " << d.error().message;
    EXPECT_EQ(*d, in);
  }
}

TEST(compression, empty_input_is_not_a_stream) {
  for (auto codec : real_codecs) {
    auto d = decompress(codec, {}, 100);
    EXPECT_FALSE(d) << to_string(codec);
  }
  auto none = decompress(compression_codec::none, {}, 100);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(compression, unknown_codec_is_an_error) {
  const auto codec = static_cast<compression_codec>(5);
  auto c = compress(codec, to_bytes("x"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, compression_errc::unknown_codec);
  auto d = decompress(codec, to_bytes("x"), 10);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, compression_errc::unknown_codec);
  EXPECT_EQ(to_string(codec), "unknown");
  EXPECT_EQ(to_string(compression_codec::zstd), "zstd");
}

}  // namespace
}  // namespace sluice::protocol
