#include "server/fetch_session.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>
#include <climits>
#include <thread>

namespace sluice::server {
namespace {

constexpr int64_t eviction_ms = 1000;

fetch_session_cache make_cache(int64_t slots, int64_t partitions_max = 1000) {
  return fetch_session_cache({slots, eviction_ms, partitions_max}, 1, INT32_MAX);
}

fetch_session_key key(const std::string& topic, int32_t partition) {
  return {{}, topic, partition};
}

fetch_session_partition part(const std::string& topic, int32_t partition, int64_t offset = 0,
                             int64_t hw = 10, int64_t lso = 0) {
  fetch_session_partition p;
  p.key = key(topic, partition);
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  p.high_watermark = hw;
  p.log_start_offset = lso;
  return p;
}

std::vector<fetch_session_partition> parts(int n, const std::string& topic = "t") {
  std::vector<fetch_session_partition> out;
  for (int i = 0; i < n; ++i) out.push_back(part(topic, i));
  return out;
}

fetch_session_cache::incremental_request incremental(int32_t id, int32_t epoch) {
  fetch_session_cache::incremental_request r;
  r.id = id;
  r.epoch = epoch;
  return r;
}

std::vector<int32_t> partitions_of(const std::vector<fetch_session_partition>& plan) {
  std::vector<int32_t> out;
  for (const auto& p : plan) out.push_back(p.key.partition);
  return out;
}

// A read result that says nothing new for a partition created by part().
fetch_partition_result unchanged() {
  return {false, false, 10, 0};
}

TEST(fetch_session, epochs_follow_kafkas_sequence) {
  EXPECT_EQ(next_fetch_epoch(0), 1);
  EXPECT_EQ(next_fetch_epoch(41), 42);
  EXPECT_EQ(next_fetch_epoch(INT32_MAX), 1);
  EXPECT_EQ(next_fetch_epoch(-1), -1);
}

TEST(fetch_session, full_fetch_creates_a_session_at_epoch_one) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(3), false, false, 0);
  ASSERT_NE(id, fetch_session_none);
  EXPECT_TRUE(cache.contains(id));
  EXPECT_EQ(cache.epoch_of(id), 1);
  EXPECT_EQ(cache.cached_partitions(), 3);
}

TEST(fetch_session, no_session_without_partitions) {
  auto cache = make_cache(10);
  EXPECT_EQ(cache.maybe_create({}, false, false, 0), fetch_session_none);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(fetch_session, a_partition_named_twice_is_cached_once) {
  auto cache = make_cache(10);
  auto list = parts(2);
  list.push_back(part("t", 0, 7));
  int32_t id = cache.maybe_create(list, false, false, 0);
  EXPECT_EQ(cache.cached_partitions(), 2);
  auto plan = cache.begin_incremental(incremental(id, 1), 0);
  ASSERT_EQ(plan.error, fetch_session_errc::none);
  EXPECT_EQ(partitions_of(plan.partitions), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(plan.partitions[0].fetch_offset, 7);
}

TEST(fetch_session, incremental_fetch_checks_id_and_epoch) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(2), false, false, 0);
  EXPECT_EQ(cache.begin_incremental(incremental(id + 1, 1), 0).error,
            fetch_session_errc::not_found);
  EXPECT_EQ(cache.begin_incremental(incremental(id, 2), 0).error,
            fetch_session_errc::invalid_epoch);
  auto plan = cache.begin_incremental(incremental(id, 1), 0);
  ASSERT_EQ(plan.error, fetch_session_errc::none);
  EXPECT_EQ(plan.epoch, 2);
  EXPECT_EQ(cache.epoch_of(id), 2);
  EXPECT_EQ(partitions_of(plan.partitions), (std::vector<int32_t>{0, 1}));
  // The same epoch again (a duplicate request) is refused.
  EXPECT_EQ(cache.begin_incremental(incremental(id, 1), 0).error,
            fetch_session_errc::invalid_epoch);
}

TEST(fetch_session, topic_id_use_must_match_the_session) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(1), true, false, 0);
  auto r = incremental(id, 1);
  r.uses_topic_ids = false;
  EXPECT_EQ(cache.begin_incremental(r, 0).error, fetch_session_errc::topic_id_mismatch);
  r.uses_topic_ids = true;
  EXPECT_EQ(cache.begin_incremental(r, 0).error, fetch_session_errc::none);
}

TEST(fetch_session, sessions_by_topic_id_key_partitions_by_id) {
  auto cache = make_cache(10);
  model::uuid a = model::uuid::random();
  fetch_session_partition p;
  p.key = {a, {}, 0};
  int32_t id = cache.maybe_create({p}, true, false, 0);
  auto r = incremental(id, 1);
  r.uses_topic_ids = true;
  p.fetch_offset = 5;
  r.upserts.push_back(p);  // same id: an update, not an addition
  auto plan = cache.begin_incremental(r, 0);
  ASSERT_EQ(plan.partitions.size(), 1u);
  EXPECT_EQ(plan.partitions[0].fetch_offset, 5);
}

TEST(fetch_session, incremental_fetch_adds_updates_and_forgets) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(3), false, false, 0);
  auto r = incremental(id, 1);
  r.upserts = {part("t", 1, 50), part("u", 0, 9)};
  r.forgotten = {key("t", 0), key("nope", 3)};
  auto plan = cache.begin_incremental(r, 0);
  ASSERT_EQ(plan.error, fetch_session_errc::none);
  ASSERT_EQ(plan.partitions.size(), 3u);
  EXPECT_EQ(plan.partitions[0].key, key("t", 1));
  EXPECT_EQ(plan.partitions[0].fetch_offset, 50);
  EXPECT_EQ(plan.partitions[1].key, key("t", 2));
  EXPECT_EQ(plan.partitions[2].key, key("u", 0));
  EXPECT_EQ(cache.cached_partitions(), 3);
}

TEST(fetch_session, forgetting_every_partition_closes_the_session) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(2), false, false, 0);
  auto r = incremental(id, 1);
  r.forgotten = {key("t", 0), key("t", 1)};
  auto plan = cache.begin_incremental(r, 0);
  EXPECT_EQ(plan.error, fetch_session_errc::none);
  EXPECT_TRUE(plan.closed);
  EXPECT_TRUE(plan.partitions.empty());
  EXPECT_FALSE(cache.contains(id));
  EXPECT_EQ(cache.cached_partitions(), 0);
}

TEST(fetch_session, remove_closes_a_session) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(2), false, false, 0);
  EXPECT_TRUE(cache.remove(id));
  EXPECT_FALSE(cache.remove(id));
  EXPECT_EQ(cache.cached_partitions(), 0);
  EXPECT_EQ(cache.begin_incremental(incremental(id, 1), 0).error, fetch_session_errc::not_found);
}

TEST(fetch_session, incremental_response_carries_only_changes) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(5), false, false, 0);
  auto plan = cache.begin_incremental(incremental(id, 1), 0);
  std::vector<fetch_session_key> keys;
  for (const auto& p : plan.partitions) keys.push_back(p.key);
  std::vector<fetch_partition_result> results(5, unchanged());
  results[1].has_records = true;  // new data (the high watermark moved too)
  results[1].high_watermark = 12;
  results[2].log_start_offset = 3;  // retention moved the log start
  results[3].error = true;          // an error
  results[3].high_watermark = -1;
  auto out = cache.finish_incremental(id, plan.epoch, keys, results);
  ASSERT_EQ(out.error, fetch_session_errc::none);
  EXPECT_EQ(out.include, (std::vector<bool>{false, true, true, true, false}));

  // Nothing new: nothing in the response, except the partition whose error cleared (its high
  // watermark was forgotten with the error).
  plan = cache.begin_incremental(incremental(id, plan.epoch), 0);
  keys.clear();
  for (const auto& p : plan.partitions) keys.push_back(p.key);
  // The partition that returned records went to the end of the session.
  EXPECT_EQ(partitions_of(plan.partitions), (std::vector<int32_t>{0, 2, 3, 4, 1}));
  results.assign(5, unchanged());
  results[1].log_start_offset = 3;  // partition 2, unchanged since the last response
  results[4].high_watermark = 12;   // partition 1, unchanged
  out = cache.finish_incremental(id, plan.epoch, keys, results);
  ASSERT_EQ(out.error, fetch_session_errc::none);
  EXPECT_EQ(out.include, (std::vector<bool>{false, false, true, false, false}));
}

TEST(fetch_session, finish_after_another_request_moved_the_epoch_is_refused) {
  auto cache = make_cache(10);
  int32_t id = cache.maybe_create(parts(1), false, false, 0);
  auto first = cache.begin_incremental(incremental(id, 1), 0);
  auto second = cache.begin_incremental(incremental(id, first.epoch), 0);
  ASSERT_EQ(second.error, fetch_session_errc::none);
  std::vector<fetch_session_key> keys{key("t", 0)};
  std::vector<fetch_partition_result> results{unchanged()};
  EXPECT_EQ(cache.finish_incremental(id, first.epoch, keys, results).error,
            fetch_session_errc::invalid_epoch);
  EXPECT_EQ(cache.finish_incremental(id, second.epoch, keys, results).error,
            fetch_session_errc::none);
  cache.remove(id);
  EXPECT_EQ(cache.finish_incremental(id, second.epoch, keys, results).error,
            fetch_session_errc::not_found);
}

TEST(fetch_session, full_cache_refuses_while_sessions_are_fresh) {
  auto cache = make_cache(2);
  int32_t a = cache.maybe_create(parts(2), false, false, 0);
  int32_t b = cache.maybe_create(parts(2), false, false, 0);
  ASSERT_NE(a, fetch_session_none);
  ASSERT_NE(b, fetch_session_none);
  // Newer than eviction_ms and recently used: nothing may be evicted, however large the newcomer.
  EXPECT_EQ(cache.maybe_create(parts(50), false, false, eviction_ms), fetch_session_none);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.evictions(), 0);
}

TEST(fetch_session, stale_session_is_evicted_first) {
  auto cache = make_cache(2);
  int32_t a = cache.maybe_create(parts(5), false, false, 0);
  int32_t b = cache.maybe_create(parts(5), false, false, 0);
  // a is used again; b is not, and becomes stale.
  ASSERT_EQ(cache.begin_incremental(incremental(a, 1), eviction_ms).error,
            fetch_session_errc::none);
  int32_t c = cache.maybe_create(parts(1), false, false, eviction_ms + 1);
  ASSERT_NE(c, fetch_session_none);
  EXPECT_TRUE(cache.contains(a));
  EXPECT_FALSE(cache.contains(b));
  EXPECT_EQ(cache.evictions(), 1);
  EXPECT_EQ(cache.cached_partitions(), 6);
}

TEST(fetch_session, larger_session_evicts_a_smaller_old_one) {
  auto cache = make_cache(2);
  int32_t small = cache.maybe_create(parts(2), false, false, 0);
  int32_t big = cache.maybe_create(parts(8), false, false, 0);
  // Both keep being used, so neither is stale, but both are older than eviction_ms.
  const int64_t later = eviction_ms + 500;
  ASSERT_EQ(cache.begin_incremental(incremental(small, 1), later).error, fetch_session_errc::none);
  ASSERT_EQ(cache.begin_incremental(incremental(big, 1), later).error, fetch_session_errc::none);
  // No larger than the smallest: refused.
  EXPECT_EQ(cache.maybe_create(parts(2), false, false, later), fetch_session_none);
  // Larger than the smallest: replaces it.
  int32_t c = cache.maybe_create(parts(3), false, false, later);
  ASSERT_NE(c, fetch_session_none);
  EXPECT_FALSE(cache.contains(small));
  EXPECT_TRUE(cache.contains(big));
}

TEST(fetch_session, privileged_session_evicts_a_fresh_consumer_session) {
  auto cache = make_cache(1);
  int32_t consumer = cache.maybe_create(parts(5), false, false, 0);
  int32_t follower = cache.maybe_create(parts(1), false, true, 1);
  ASSERT_NE(follower, fetch_session_none);
  EXPECT_FALSE(cache.contains(consumer));
  // A consumer cannot evict a fresh follower session.
  EXPECT_EQ(cache.maybe_create(parts(9), false, false, 2), fetch_session_none);
}

TEST(fetch_session, no_slots_no_sessions) {
  auto cache = make_cache(0);
  EXPECT_EQ(cache.maybe_create(parts(1), false, true, 0), fetch_session_none);
}

TEST(fetch_session, cached_partitions_are_bounded) {
  auto cache = make_cache(10, 10);
  EXPECT_EQ(cache.maybe_create(parts(11), false, false, 0), fetch_session_none);
  int32_t a = cache.maybe_create(parts(6), false, false, 0);
  ASSERT_NE(a, fetch_session_none);
  EXPECT_EQ(cache.maybe_create(parts(5), false, false, 0), fetch_session_none);
  int32_t b = cache.maybe_create(parts(4), false, false, 0);
  ASSERT_NE(b, fetch_session_none);
  EXPECT_EQ(cache.cached_partitions(), 10);
  // Growing a session past the bound closes it; the client falls back to a full fetch.
  auto r = incremental(a, 1);
  r.upserts = {part("u", 0)};
  EXPECT_EQ(cache.begin_incremental(r, 0).error, fetch_session_errc::not_found);
  EXPECT_FALSE(cache.contains(a));
  EXPECT_EQ(cache.cached_partitions(), 4);
}

TEST(fetch_session, ids_come_from_the_cache_range) {
  fetch_session_cache cache({100, eviction_ms, 1000}, 1000, 1010);
  for (int i = 0; i < 10; ++i) {
    int32_t id = cache.maybe_create(parts(1), false, false, 0);
    EXPECT_GE(id, 1000);
    EXPECT_LT(id, 1010);
  }
  EXPECT_EQ(cache.size(), 10u);  // every id of the range, none twice
}

TEST(fetch_sessions, ids_name_their_shard_and_limits_are_split) {
  asio::io_context a, b, c;
  fetch_sessions sessions({&a, &b, &c}, {10, eviction_ms, 100});
  EXPECT_EQ(sessions.cache(0).bounds().slots, 4);
  EXPECT_EQ(sessions.cache(1).bounds().slots, 3);
  EXPECT_EQ(sessions.cache(2).bounds().slots, 3);
  EXPECT_EQ(sessions.cache(0).bounds().partitions_max, 34);
  for (unsigned s = 0; s < 3; ++s) {
    for (int i = 0; i < 3; ++i) {
      int32_t id = sessions.cache(s).maybe_create(parts(1), false, false, 0);
      ASSERT_NE(id, fetch_session_none);
      EXPECT_EQ(sessions.shard_of(id), s);
    }
  }
  EXPECT_EQ(sessions.shard_of(0), std::nullopt);
  EXPECT_EQ(sessions.shard_of(-5), std::nullopt);
  EXPECT_EQ(sessions.shard_of(INT32_MAX), std::nullopt);  // past the last range (3 shards)
  EXPECT_EQ(sessions.shard_running(a.get_executor()), 0u);
  EXPECT_EQ(sessions.shard_running(c.get_executor()), 2u);
}

TEST(fetch_sessions, run_on_executes_on_the_owner_shard) {
  asio::io_context a, b;
  auto guard_a = asio::make_work_guard(a);
  auto guard_b = asio::make_work_guard(b);
  std::thread ta([&] { a.run(); });
  std::thread tb([&] { b.run(); });
  fetch_sessions sessions({&a, &b}, {10, eviction_ms, 100});
  auto future = asio::co_spawn(
      a,
      [&]() -> asio::awaitable<std::pair<std::thread::id, std::thread::id>> {
        auto there =
            sessions.run_on(1, [](fetch_session_cache&) { return std::this_thread::get_id(); });
        auto remote = co_await std::move(there);
        auto here =
            sessions.run_on(0, [](fetch_session_cache&) { return std::this_thread::get_id(); });
        auto local = co_await std::move(here);
        co_return std::pair(remote, local);
      },
      asio::use_future);
  auto [remote, local] = future.get();
  EXPECT_EQ(remote, tb.get_id());
  EXPECT_EQ(local, ta.get_id());
  guard_a.reset();
  guard_b.reset();
  ta.join();
  tb.join();
}

}  // namespace
}  // namespace sluice::server
