// Idempotent-producer state: the sequence rules on their own, then through a log (duplicates,
// gaps, fencing) and across clean and unclean reopens, rolls, truncation and expiry.

#include "storage/producer_state.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "protocol/batch_builder.h"
#include "storage/log.h"
#include "storage/tests/test_util.h"

namespace sluice::storage {
namespace {

constexpr int64_t pid = 4000;

std::vector<uint8_t> idempotent_batch(int records, int16_t epoch, int32_t sequence,
                                      int64_t timestamp_ms, int64_t producer_id = pid) {
  protocol::batch_builder builder;
  builder.producer(producer_id, epoch, sequence);
  for (int i = 0; i < records; ++i) {
    std::string value = fmt::format("v{}-{}", sequence, i);
    builder.add(timestamp_ms, std::nullopt, protocol::bytes_of(value));
  }
  return builder.build();
}

batch_info info_of(int records, int16_t epoch, int32_t sequence, int64_t base_offset = 0) {
  batch_info b;
  b.base_offset = model::offset(base_offset);
  b.last_offset = model::offset(base_offset + records - 1);
  b.producer_id = pid;
  b.producer_epoch = epoch;
  b.base_sequence = sequence;
  b.max_timestamp = model::timestamp_ms(1000);
  return b;
}

producer_entry entry_after(std::initializer_list<batch_info> batches) {
  producer_entry e;
  for (const auto& b : batches) producer_state::record(e, b);
  return e;
}

}  // namespace

TEST(producer_state, sequence_rules) {
  // A producer not seen before may start at any sequence (its state may have expired).
  EXPECT_EQ(producer_state::check(nullptr, info_of(3, 0, 42)).verdict, sequence_verdict::append);
  auto e = entry_after({info_of(3, 0, 0, 0), info_of(2, 0, 3, 3)});
  EXPECT_EQ(e.batches.back().last_sequence, 4);
  EXPECT_EQ(producer_state::check(&e, info_of(1, 0, 5)).verdict, sequence_verdict::append);
  auto gap = producer_state::check(&e, info_of(1, 0, 7));
  EXPECT_EQ(gap.verdict, sequence_verdict::out_of_order);
  EXPECT_NE(gap.message.find("expected 5"), std::string::npos) << gap.message;
  auto dup = producer_state::check(&e, info_of(3, 0, 0));
  ASSERT_EQ(dup.verdict, sequence_verdict::duplicate);
  EXPECT_EQ(dup.duplicate_of.first_offset, model::offset(0));
  EXPECT_EQ(dup.duplicate_of.last_offset, model::offset(2));
  // Same first sequence, different length: not the same batch.
  EXPECT_EQ(producer_state::check(&e, info_of(2, 0, 0)).verdict, sequence_verdict::out_of_order);
  // Fencing and epoch bumps.
  auto bumped = entry_after({info_of(1, 3, 0)});
  EXPECT_EQ(producer_state::check(&bumped, info_of(1, 2, 1)).verdict, sequence_verdict::fenced);
  EXPECT_EQ(producer_state::check(&bumped, info_of(1, 4, 0)).verdict, sequence_verdict::append);
  EXPECT_EQ(producer_state::check(&bumped, info_of(1, 4, 1)).verdict,
            sequence_verdict::out_of_order);
}

TEST(producer_state, keeps_five_batches_and_wraps_sequences) {
  producer_entry e;
  for (int i = 0; i < 7; ++i) producer_state::record(e, info_of(1, 0, i, i));
  ASSERT_EQ(e.batches.size(), producer_state::batches_kept);
  EXPECT_EQ(e.batches.front().first_sequence, 2);
  // The oldest retries are beyond what is remembered: out of order, as in Kafka.
  EXPECT_EQ(producer_state::check(&e, info_of(1, 0, 1)).verdict, sequence_verdict::out_of_order);
  EXPECT_EQ(producer_state::check(&e, info_of(1, 0, 2)).verdict, sequence_verdict::duplicate);
  // Sequences wrap from INT32_MAX to 0.
  EXPECT_EQ(sequence_after(INT32_MAX, 1), 0);
  EXPECT_EQ(sequence_after(INT32_MAX - 1, 3), 1);
  auto near_end = entry_after({info_of(2, 0, INT32_MAX - 1)});
  EXPECT_EQ(near_end.batches.back().last_sequence, INT32_MAX);
  EXPECT_EQ(producer_state::check(&near_end, info_of(1, 0, 0)).verdict, sequence_verdict::append);
}

TEST(producer_state, snapshot_blob_round_trips_and_rejects_damage) {
  producer_state state;
  state.put(7, entry_after({info_of(3, 1, 0, 10), info_of(1, 1, 3, 13)}));
  state.put(-5 + 10, entry_after({info_of(1, 0, 9, 20)}));
  auto blob = state.encode();
  auto back = producer_state::decode(blob);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, state);
  for (size_t cut = 0; cut < blob.size(); ++cut) {
    EXPECT_FALSE(producer_state::decode(std::span(blob).first(cut)).has_value()) << cut;
  }
  auto longer = blob;
  longer.push_back(0);
  EXPECT_FALSE(producer_state::decode(longer).has_value());
}

TEST(producer_state, expiry_by_last_timestamp) {
  producer_state state;
  auto old_batch = info_of(1, 0, 0);
  old_batch.max_timestamp = model::timestamp_ms(1000);
  auto new_batch = info_of(1, 0, 0);
  new_batch.max_timestamp = model::timestamp_ms(5000);
  producer_state::record(state.get(1), old_batch);
  producer_state::record(state.get(2), new_batch);
  EXPECT_EQ(state.expire(6000, 5000), 1u);
  EXPECT_EQ(state.find(1), nullptr);
  EXPECT_NE(state.find(2), nullptr);
}

namespace {

struct producer_log_fixture {
  testing::temp_dir dir;
  int64_t clock_ms = 1'700'000'000'000;
  log_config config;
  std::string log_dir = dir / "orders-0";

  std::unique_ptr<log> open(bool clean) {
    auto l = log::open(posix_file_system(), log_dir, {"orders", model::partition_id(0)}, config,
                       testing::test_options(&clock_ms, clean));
    SLUICE_ASSERT(l.has_value(), "open: {}", l.error().describe());
    return std::move(*l);
  }
  sresult<append_result> append(log& l, int records, int16_t epoch, int32_t sequence) {
    auto batch = idempotent_batch(records, epoch, sequence, clock_ms);
    return l.append(batch, model::leader_epoch(0));
  }
};

}  // namespace

TEST(producer_log, duplicates_get_the_original_offsets_and_gaps_fail) {
  producer_log_fixture f;
  auto l = f.open(false);
  ASSERT_EQ(f.append(*l, 3, 0, 0)->base_offset, model::offset(0));
  ASSERT_EQ(f.append(*l, 2, 0, 3)->base_offset, model::offset(3));
  auto retry = f.append(*l, 3, 0, 0);
  ASSERT_TRUE(retry.has_value());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->base_offset, model::offset(0));
  EXPECT_EQ(retry->last_offset, model::offset(2));
  EXPECT_EQ(l->log_end_offset(), model::offset(5));  // nothing appended
  EXPECT_EQ(f.append(*l, 1, 0, 9).error().code, errc::out_of_order_sequence);
  ASSERT_TRUE(f.append(*l, 1, 1, 0).has_value());  // the producer bumped its epoch
  EXPECT_EQ(f.append(*l, 1, 0, 5).error().code, errc::invalid_producer_epoch);
  EXPECT_EQ(l->log_end_offset(), model::offset(6));
  // Plain batches are not affected.
  auto plain = testing::make_batch(2, 10, f.clock_ms);
  EXPECT_EQ(l->append(plain, model::leader_epoch(0))->base_offset, model::offset(6));
}

TEST(producer_log, state_survives_clean_and_unclean_reopen) {
  for (bool clean : {true, false}) {
    SCOPED_TRACE(clean ? "clean" : "unclean");
    producer_log_fixture f;
    {
      auto l = f.open(false);
      ASSERT_TRUE(f.append(*l, 3, 0, 0).has_value());
      ASSERT_TRUE(f.append(*l, 3, 0, 3).has_value());
      if (clean) {
        ASSERT_TRUE(l->close().has_value());
        EXPECT_TRUE(std::filesystem::exists(f.log_dir + "/00000000000000000006.snapshot"));
      } else {
        ASSERT_TRUE(l->flush().has_value());  // killed: no close, no snapshot
      }
    }
    auto l = f.open(clean);
    auto retry = f.append(*l, 3, 0, 3);
    ASSERT_TRUE(retry.has_value());
    EXPECT_TRUE(retry->duplicate);
    EXPECT_EQ(retry->base_offset, model::offset(3));
    EXPECT_EQ(f.append(*l, 1, 0, 7).error().code, errc::out_of_order_sequence);
    EXPECT_EQ(f.append(*l, 1, 0, 6)->base_offset, model::offset(6));
  }
}

TEST(producer_log, roll_snapshots_bound_the_replay_and_truncation_rebuilds) {
  producer_log_fixture f;
  f.config.segment_bytes = 300;  // a few batches per segment
  {
    auto l = f.open(false);
    for (int32_t seq = 0; seq < 40; seq += 2) ASSERT_TRUE(f.append(*l, 2, 0, seq).has_value());
    EXPECT_GT(l->segment_count(), 3u);
    auto snapshots = list_producer_snapshots(posix_file_system(), f.log_dir);
    ASSERT_TRUE(snapshots.has_value());
    EXPECT_EQ(snapshots->size(), 2u);  // the two newest are kept
    ASSERT_TRUE(l->flush().has_value());
  }
  auto l = f.open(false);  // unclean: newest roll snapshot + the active segment
  EXPECT_TRUE(f.append(*l, 2, 0, 38)->duplicate);
  EXPECT_TRUE(f.append(*l, 2, 0, 30)->duplicate);
  // Truncating below the last two batches forgets them: their sequences become new again.
  ASSERT_TRUE(l->truncate_to(model::offset(36)).has_value());
  auto again = f.append(*l, 2, 0, 36);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->base_offset, model::offset(36));
}

TEST(producer_log, expired_producers_start_over_and_the_rest_survive_close) {
  producer_log_fixture f;
  auto l = f.open(false);
  ASSERT_TRUE(f.append(*l, 1, 0, 0).has_value());
  ASSERT_TRUE(l->snapshot_producers().has_value());
  EXPECT_EQ(l->expire_producers(f.clock_ms + 1000, 5000), 0u);
  EXPECT_EQ(l->expire_producers(f.clock_ms + 5000, 5000), 1u);
  // Unknown again: any sequence is accepted.
  EXPECT_FALSE(f.append(*l, 1, 0, 77)->duplicate);
  EXPECT_EQ(l->producers().size(), 1u);
  ASSERT_TRUE(l->close().has_value());
  auto reopened = f.open(true);
  EXPECT_EQ(reopened->producers().size(), 1u);
  EXPECT_NE(reopened->producers().find(pid), nullptr);
}

}  // namespace sluice::storage
