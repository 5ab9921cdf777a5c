#include "protocol/crc32c.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <string_view>
#include <vector>

namespace sluice::protocol {
namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Known answers: the standard check value, and the test vectors of RFC 3720 (iSCSI) appendix B.4.
struct known_answer {
  std::vector<uint8_t> data;
  uint32_t crc;
};

std::vector<known_answer> known_answers() {
  std::vector<known_answer> v;
  const auto check = as_bytes("123456789");
  v.push_back({{check.begin(), check.end()}, 0xE3069283});
  v.push_back({{}, 0});
  v.push_back({std::vector<uint8_t>(32, 0x00), 0x8A9136AA});
  v.push_back({std::vector<uint8_t>(32, 0xFF), 0x62A8AB43});
  std::vector<uint8_t> ascending(32);
  std::iota(ascending.begin(), ascending.end(), 0);
  v.push_back({ascending, 0x46DD794E});
  std::vector<uint8_t> descending(ascending.rbegin(), ascending.rend());
  v.push_back({descending, 0x113FDB5C});
  return v;
}

TEST(crc32c, known_answers) {
  for (const auto& k : known_answers()) {
    EXPECT_EQ(crc32c(k.data), k.crc) << k.data.size() << " bytes";
    EXPECT_EQ(crc32c_portable(k.data), k.crc) << k.data.size() << " bytes";
    if (crc32c_hardware_available()) {
      EXPECT_EQ(crc32c_hardware(k.data), k.crc) << k.data.size() << " bytes";
    }
  }
}

TEST(crc32c, extends_a_running_crc) {
  const auto data = as_bytes("123456789");
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t head = crc32c(data.first(split));
    EXPECT_EQ(crc32c(data.subspan(split), head), 0xE3069283u) << split;
    EXPECT_EQ(crc32c_portable(data.subspan(split), crc32c_portable(data.first(split))), 0xE3069283u)
        << split;
  }
}

TEST(crc32c, hardware_matches_portable_on_random_inputs) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  const auto seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  std::vector<uint8_t> buffer(8192 + 16);
  for (auto& b : buffer) b = static_cast<uint8_t>(rng());
  for (int i = 0; i < 2000; ++i) {
    // Random start offsets exercise unaligned loads; random lengths every tail size.
    const size_t offset = rng() % 16;
    const size_t length = rng() % (i < 1000 ? 64 : 8192);
    const auto data = std::span<const uint8_t>(buffer).subspan(offset, length);
    const uint32_t seed_crc = (i % 3 == 0) ? 0 : static_cast<uint32_t>(rng());
    ASSERT_EQ(crc32c_hardware(data, seed_crc), crc32c_portable(data, seed_crc))
        << "offset " << offset << " length " << length;
  }
}

TEST(crc32c, detects_every_single_bit_flip) {
  std::vector<uint8_t> data(100);
  std::iota(data.begin(), data.end(), 7);
  const uint32_t good = crc32c(data);
  for (size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      data[i] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_NE(crc32c(data), good) << i << ":" << bit;
      data[i] ^= static_cast<uint8_t>(1 << bit);
    }
  }
}

}  // namespace
}  // namespace sluice::protocol
