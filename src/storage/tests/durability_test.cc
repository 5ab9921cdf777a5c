// Flush policy, group commit and fault injection: ENOSPC and torn writes during append, failed
// fsyncs, short reads and losing unsynced data in a crash.

#include <gtest/gtest.h>

#include <cerrno>
#include <deque>
#include <random>

#include "storage/log.h"
#include "storage/tests/fault_file_system.h"
#include "storage/tests/test_util.h"

namespace sluice::storage {
using testing::fake_shard;
using testing::fault_file_system;
using testing::make_batch;
using testing::temp_dir;

namespace {

struct fixture {
  temp_dir dir;
  fault_file_system fs;
  int64_t clock_ms = 1'700'000'000'000;
  log_config config;
  std::string log_dir = dir / "t-0";

  std::unique_ptr<log> open(bool clean = false, model::offset recovery_point = model::offset(0),
                            flusher* group_commit = nullptr, fake_shard* shard = nullptr) {
    auto options = testing::test_options(&clock_ms, clean, recovery_point);
    options.group_commit = group_commit;
    if (shard != nullptr) options.post = shard->poster();
    auto l = log::open(fs, log_dir, {"t", model::partition_id(0)}, config, options);
    SLUICE_ASSERT(l.has_value(), "open: {}", l.error().describe());
    return std::move(*l);
  }
};

sresult<append_result> append(log& l, int i) {
  auto b = make_batch(2, 100, 1000 + i, i);
  return l.append(b, model::leader_epoch(0));
}

}  // namespace

TEST(fault, enospc_during_append_reaches_caller_and_leaves_log_intact) {
  fixture f;
  auto l = f.open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(append(*l, i).has_value());
  auto before = testing::read_all(*l);
  f.fs.set_disk_full(true);
  auto r = append(*l, 5);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::no_space);
  EXPECT_EQ(l->log_end_offset(), model::offset(10));
  EXPECT_EQ(testing::read_all(*l), before);
  EXPECT_FALSE(l->failed());
  f.fs.set_disk_full(false);
  EXPECT_EQ(append(*l, 5)->base_offset, model::offset(10));
}

TEST(fault, torn_write_is_cut_back_before_the_error_returns) {
  fixture f;
  auto l = f.open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(append(*l, i).has_value());
  uint64_t size = l->size_bytes();
  f.fs.fail_write_after(1, EIO, true);
  auto r = append(*l, 3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::io_error);
  EXPECT_EQ(testing::read_file_bytes(f.dir / "t-0/00000000000000000000.log").size(), size);
  EXPECT_EQ(append(*l, 3)->base_offset, model::offset(6));
  EXPECT_EQ(testing::split_batches(testing::read_all(*l)).size(), 4u);
}

TEST(fault, failed_fsync_fails_the_log_but_keeps_it_readable) {
  fixture f;
  auto l = f.open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(append(*l, i).has_value());
  ASSERT_TRUE(l->flush().has_value());
  auto acknowledged = testing::read_all(*l);
  ASSERT_TRUE(append(*l, 3).has_value());
  f.fs.fail_next_syncs(1);
  auto flushed = l->flush();
  ASSERT_FALSE(flushed.has_value());
  EXPECT_TRUE(l->failed());
  EXPECT_EQ(l->recovery_point(), model::offset(6));
  EXPECT_EQ(append(*l, 4).error().code, errc::log_failed);
  EXPECT_EQ(testing::split_batches(testing::read_all(*l)).size(), 4u);
  // A crash now loses what the failed fsync did not cover, and nothing acknowledged.
  auto recovery_point = l->recovery_point();
  l.reset();
  f.fs.crash();
  l = f.open(false, recovery_point);
  EXPECT_EQ(testing::read_all(*l), acknowledged);
}

TEST(fault, crash_loses_only_unsynced_batches) {
  fixture f;
  f.config.segment_bytes = 1024;
  auto l = f.open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(append(*l, i).has_value());
  ASSERT_TRUE(l->flush().has_value());
  auto durable = testing::read_all(*l);
  for (int i = 20; i < 30; ++i) ASSERT_TRUE(append(*l, i).has_value());
  auto recovery_point = l->recovery_point();
  l.reset();
  f.fs.crash();
  l = f.open(false, recovery_point);
  EXPECT_EQ(testing::read_all(*l), durable);
  EXPECT_EQ(append(*l, 99)->base_offset, model::offset(40));
}

TEST(fault, short_reads_do_not_change_what_is_read_or_recovered) {
  fixture f;
  f.config.segment_bytes = 2048;
  auto l = f.open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(append(*l, i).has_value());
  auto all = testing::read_all(*l);
  l.reset();
  f.fs.set_short_reads(7);
  l = f.open(false, model::offset(0));
  EXPECT_EQ(testing::read_all(*l), all);
  EXPECT_EQ(l->log_end_offset(), model::offset(40));
}

TEST(flush_policy, flush_messages_syncs_every_n_messages) {
  fixture f;
  f.config.flush_messages = 4;
  auto l = f.open();
  ASSERT_TRUE(append(*l, 0).has_value());
  EXPECT_EQ(l->recovery_point(), model::offset(0));
  ASSERT_TRUE(append(*l, 1).has_value());  // 4 messages
  EXPECT_EQ(l->recovery_point(), model::offset(4));
}

TEST(flush_policy, flush_ms_syncs_when_time_has_passed) {
  fixture f;
  f.config.flush_ms = 1000;
  auto l = f.open();
  ASSERT_TRUE(append(*l, 0).has_value());
  l->maybe_flush(f.clock_ms + 500);
  EXPECT_EQ(l->recovery_point(), model::offset(0));
  l->maybe_flush(f.clock_ms + 1000);
  EXPECT_EQ(l->recovery_point(), model::offset(2));
}

TEST(group_commit, concurrent_waiters_share_one_fdatasync) {
  fixture f;
  flusher syncer;
  syncer.start();
  fake_shard shard;
  auto l = f.open(false, model::offset(0), &syncer, &shard);
  int done = 0;
  const int waiters = 50;
  for (int i = 0; i < waiters; ++i) {
    auto r = append(*l, i);
    ASSERT_TRUE(r.has_value());
    l->sync(r->last_offset + 1, [&](sresult<void> outcome) {
      EXPECT_TRUE(outcome.has_value());
      ++done;
    });
  }
  int syncs_before = f.fs.syncs();
  shard.run_until([&] { return done == waiters; });
  // The first sync started with the first waiter; at most one more covers all the others.
  EXPECT_LE(f.fs.syncs() - syncs_before, 2);
  EXPECT_LE(syncer.syncs(), 2u);
  EXPECT_EQ(l->recovery_point(), model::offset(2 * waiters));
  syncer.stop();
}

TEST(group_commit, failed_fdatasync_fails_every_waiter_and_the_log) {
  fixture f;
  flusher syncer;
  syncer.start();
  fake_shard shard;
  auto l = f.open(false, model::offset(0), &syncer, &shard);
  ASSERT_TRUE(append(*l, 0).has_value());  // writes the epoch checkpoint, which syncs too
  f.fs.fail_next_syncs(1);
  int failed = 0;
  for (int i = 1; i < 6; ++i) {
    auto r = append(*l, i);
    ASSERT_TRUE(r.has_value());
    l->sync(r->last_offset + 1, [&](sresult<void> outcome) {
      EXPECT_FALSE(outcome.has_value());
      ++failed;
    });
  }
  shard.run_until([&] { return failed == 5; });
  EXPECT_TRUE(l->failed());
  EXPECT_EQ(l->recovery_point(), model::offset(0));
  EXPECT_EQ(testing::split_batches(testing::read_all(*l)).size(), 6u);
  syncer.stop();
}

TEST(group_commit, sync_of_durable_offsets_completes_at_once) {
  fixture f;
  auto l = f.open();
  ASSERT_TRUE(append(*l, 0).has_value());
  ASSERT_TRUE(l->flush().has_value());
  bool called = false;
  l->sync(model::offset(2), [&](sresult<void> outcome) { called = outcome.has_value(); });
  EXPECT_TRUE(called);
}

}  // namespace sluice::storage

namespace sluice::storage {

// Power loss, simulated: random appends, flushes and group-commit waits over small segments,
// then crash() drops every unsynced byte. The recovered log must hold exactly a prefix of what
// was appended that includes everything acknowledged durable.
class power_loss : public ::testing::TestWithParam<uint64_t> {};

TEST_P(power_loss, recovered_log_is_a_prefix_holding_everything_durable) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  temp_dir dir(true);
  fault_file_system fs;
  fs.set_real_syncs(false);  // crash() decides what survives, not the disk
  int64_t clock_ms = 1'700'000'000'000;
  log_config config;
  config.segment_bytes = 1024 + rng() % 8192;
  config.index_interval_bytes = static_cast<uint32_t>(rng() % 2048);
  model::offset recovery_point(0);
  std::vector<std::vector<uint8_t>> appended;  // as stored, in order
  for (int round = 0; round < 5; ++round) {
    auto options = testing::test_options(&clock_ms, false, recovery_point);
    auto l = std::move(*log::open(fs, dir / "p-0", {"p", model::partition_id(0)}, config, options));
    auto recovered = testing::split_batches(testing::read_all(*l));
    ASSERT_LE(recovered.size(), appended.size());
    for (size_t i = 0; i < recovered.size(); ++i) ASSERT_TRUE(recovered[i] == appended[i]) << i;
    ASSERT_GE(l->log_end_offset(), recovery_point) << "round " << round;
    appended = recovered;
    int ops = 5 + static_cast<int>(rng() % 40);
    for (int op = 0; op < ops; ++op) {
      if (rng() % 5 == 0) {
        ASSERT_TRUE(l->flush().has_value());
        continue;
      }
      auto batch = make_batch(1 + static_cast<int>(rng() % 5), rng() % 700, clock_ms, rng());
      ASSERT_TRUE(l->append(batch, model::leader_epoch(round)).has_value());
      appended.push_back(batch);  // patched in place with its offset and epoch
    }
    recovery_point = l->recovery_point();  // what a checkpoint would have recorded
    l.reset();
    fs.crash();
  }
}

INSTANTIATE_TEST_SUITE_P(seeds, power_loss, ::testing::Range<uint64_t>(1, 31));

}  // namespace sluice::storage
