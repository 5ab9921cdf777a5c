// Every request and response type at every served version: random values survive encode/decode
// unchanged and re-encode to the same bytes; truncated input is an error, corrupt input is never a
// crash. The fillers are generated (protocol/testing/fill.cc), the check is in roundtrip_check.h.

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

#include "protocol/api.h"
#include "protocol/tests/roundtrip_check.h"

namespace sluice::protocol {
namespace {

// SLUICE_SEED=<n> replays a failure; by default the seeds are fixed so that runs are repeatable.
uint64_t base_seed() {
  const char* text = std::getenv("SLUICE_SEED");
  return text ? std::strtoull(text, nullptr, 10) : 20240601;
}

constexpr int seeds_per_version = 8;

TEST(codec_roundtrip, every_message_every_version) {
  const uint64_t base = base_seed();
  ASSERT_FALSE(all_message_cases().empty());
  for (const auto& c : all_message_cases()) {
    for (int16_t v = c.min_version; v <= c.max_version; ++v) {
      for (int i = 0; i < seeds_per_version; ++i) {
        const uint64_t seed = base + static_cast<uint64_t>(i) * 7919 + c.api_key * 131 + v;
        const std::string problem = c.check(v, seed);
        EXPECT_EQ(problem, "") << c.name << " v" << v << " seed " << seed
                               << " (replay with SLUICE_SEED=" << base << ")";
      }
    }
  }
}

TEST(codec_roundtrip, every_api_has_a_request_and_a_response) {
  std::multiset<int16_t> keys;
  for (const auto& c : all_message_cases()) keys.insert(c.api_key);
  for (const auto& api : all_apis()) {
    EXPECT_EQ(keys.count(api.key), 2u) << api.name;
    EXPECT_LE(api.min_version, api.max_version) << api.name;
    EXPECT_EQ(find_api(api.key), &api);
  }
  EXPECT_EQ(keys.size(), 2 * all_apis().size());
}

}  // namespace
}  // namespace sluice::protocol
