#include "server/http/counters.h"

#include <gtest/gtest.h>

#include <thread>

#include "protocol/batch_builder.h"
#include "protocol/legacy_records.h"
#include "server/http/metrics_endpoint.h"

namespace sluice::server::metrics {
namespace {

TEST(counters, each_shard_counts_on_its_own_thread_and_the_sum_adds_them) {
  shard_counter_set set(3);
  std::vector<std::thread> shards;
  for (unsigned s = 0; s < set.size(); ++s) {
    shards.emplace_back([&set, s] {
      bind_current_shard(&set.shard(s));
      for (int i = 0; i < 1000; ++i) {
        count_produce_append(10, 2);
        count_request(1, 12);
      }
      count_fetch_bytes(5);
      count_produce_conversion(s);
      count_fetch_conversion(1);
      count_request(api_keys_max, 0);      // out of range: not counted
      count_request(0, api_versions_max);  // out of range: not counted
      bind_current_shard(nullptr);
    });
  }
  for (auto& t : shards) t.join();
  count_produce_append(1, 1);  // this thread is bound to no shard: not counted
  totals t = set.sum();
  EXPECT_EQ(t.bytes_in, 30000u);
  EXPECT_EQ(t.messages_in, 6000u);
  EXPECT_EQ(t.bytes_out, 15u);
  EXPECT_EQ(t.produce_conversions, 0u + 1u + 2u);
  EXPECT_EQ(t.fetch_conversions, 3u);
  EXPECT_EQ(t.requests[1][12], 3000u);
  uint64_t all = 0;
  for (const auto& k : t.requests)
    for (auto n : k) all += n;
  EXPECT_EQ(all, 3000u);
}

TEST(counters, shard_counters_do_not_share_cache_lines) {
  shard_counter_set set(2);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&set.shard(0)) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&set.shard(1)) % 64, 0u);
}

TEST(counters, records_in_batches_sums_record_counts) {
  auto one = protocol::batch_builder(protocol::compression_codec::none)
                 .add(1000, std::nullopt, protocol::bytes_of("a"))
                 .add(1001, std::nullopt, protocol::bytes_of("b"))
                 .build();
  auto two = protocol::batch_builder(protocol::compression_codec::none)
                 .add(1000, std::nullopt, protocol::bytes_of("c"))
                 .build();
  std::vector<uint8_t> both = one;
  both.insert(both.end(), two.begin(), two.end());
  EXPECT_EQ(records_in_batches(one), 2u);
  EXPECT_EQ(records_in_batches(both), 3u);
  // A truncated second batch is not counted.
  EXPECT_EQ(records_in_batches(std::span(both).first(both.size() - 1)), 2u);
  EXPECT_EQ(records_in_batches({}), 0u);
}

TEST(counters, entries_in_message_set_counts_messages) {
  std::vector<protocol::legacy_message> messages(4);
  for (auto& m : messages) m.value = std::vector<uint8_t>{'v'};
  auto set = protocol::build_message_set(messages, protocol::legacy_magic_v1);
  EXPECT_EQ(entries_in_message_set(set), 4u);
  EXPECT_EQ(entries_in_message_set(std::span(set).first(set.size() - 1)), 3u);
  EXPECT_EQ(entries_in_message_set({}), 0u);
}

TEST(metrics_listener, parses_host_port_ipv6_and_empty) {
  auto off = parse_listener("");
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(off->has_value());
  auto v4 = parse_listener("127.0.0.1:9404");
  ASSERT_TRUE(v4.has_value() && v4->has_value());
  EXPECT_EQ((*v4)->host, "127.0.0.1");
  EXPECT_EQ((*v4)->port, 9404);
  auto v6 = parse_listener("[::1]:0");
  ASSERT_TRUE(v6.has_value() && v6->has_value());
  EXPECT_EQ((*v6)->host, "::1");
  EXPECT_EQ((*v6)->port, 0);
  auto name = parse_listener("localhost:65535");
  ASSERT_TRUE(name.has_value() && name->has_value());
  EXPECT_EQ((*name)->host, "localhost");
}

TEST(metrics_listener, refuses_bad_values_naming_the_setting) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:80x", ":9404", "::1:9404", "http://x:1", "a b:1"}) {
    auto parsed = parse_listener(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_NE(parsed.error().find("sluice.metrics.listener"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace sluice::server::metrics
