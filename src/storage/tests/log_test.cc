#include "storage/log.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/batch.h"
#include "storage/format.h"
#include "storage/tests/test_util.h"

namespace sluice::storage {
using testing::make_batch;
using testing::temp_dir;

namespace {

struct log_fixture {
  temp_dir dir;
  int64_t clock_ms = 1'700'000'000'000;
  log_config config;
  std::string log_dir = dir / "orders-0";
  model::topic_partition tp{"orders", model::partition_id(0)};

  std::unique_ptr<log> open(bool clean = false, model::offset recovery_point = model::offset(0),
                            file_system& fs = posix_file_system()) {
    auto l =
        log::open(fs, log_dir, tp, config, testing::test_options(&clock_ms, clean, recovery_point));
    SLUICE_ASSERT(l.has_value(), "open: {}", l.error().describe());
    return std::move(*l);
  }
};

append_result append(log& l, std::vector<uint8_t> batch, int32_t epoch = 0) {
  auto r = l.append(batch, model::leader_epoch(epoch));
  SLUICE_ASSERT(r.has_value(), "append: {}", r.error().describe());
  return *r;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(log, append_assigns_offsets_and_patches_base_offset) {
  log_fixture f;
  auto l = f.open();
  EXPECT_EQ(l->log_end_offset(), model::offset(0));
  auto a = append(*l, make_batch(5, 10, f.clock_ms));
  auto b = append(*l, make_batch(3, 10, f.clock_ms));
  EXPECT_EQ(a.base_offset, model::offset(0));
  EXPECT_EQ(a.last_offset, model::offset(4));
  EXPECT_EQ(b.base_offset, model::offset(5));
  EXPECT_EQ(l->log_end_offset(), model::offset(8));
  auto batches = testing::split_batches(testing::read_all(*l));
  ASSERT_EQ(batches.size(), 2u);
  auto info = parse_batch_header(batches[1]);
  EXPECT_EQ(info->base_offset, model::offset(5));
  EXPECT_TRUE(batch_crc_valid(batches[1]));
}

TEST(log, multi_batch_record_set_gets_consecutive_offsets) {
  log_fixture f;
  auto l = f.open();
  auto set = make_batch(2, 10, f.clock_ms);
  auto second = make_batch(4, 10, f.clock_ms);
  set.insert(set.end(), second.begin(), second.end());
  auto r = append(*l, set, 3);
  EXPECT_EQ(r.last_offset, model::offset(5));
  auto batches = testing::split_batches(testing::read_all(*l));
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(parse_batch_header(batches[1])->base_offset, model::offset(2));
  EXPECT_EQ(parse_batch_header(batches[1])->leader_epoch, model::leader_epoch(3));
  EXPECT_EQ(l->epochs().latest_epoch(), model::leader_epoch(3));
}

TEST(log, read_range_is_a_file_range_of_whole_batches) {
  log_fixture f;
  auto l = f.open();
  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(make_batch(2, 100, f.clock_ms, i));
    append(*l, sent.back());
  }
  auto r = l->read(model::offset(7), 1 << 20, l->log_end_offset(), false);
  ASSERT_TRUE(r.has_value() && r->range);
  EXPECT_EQ(r->range->first_offset, model::offset(6));  // the batch holding offset 7
  EXPECT_EQ(r->range->position, 3 * sent[0].size());
  EXPECT_EQ(r->range->length, 17 * sent[0].size());
  EXPECT_GE(r->range->log->fd(), 0);
  // The high watermark bounds what a consumer sees.
  l->set_high_watermark(model::offset(10));
  r = l->read(model::offset(0), 1 << 20, l->high_watermark(), false);
  EXPECT_EQ(r->range->length, 5 * sent[0].size());
  r = l->read(model::offset(10), 1 << 20, l->high_watermark(), false);
  EXPECT_FALSE(r->range);
  // max_bytes cuts the range; min_one_batch still returns a whole first batch.
  r = l->read(model::offset(0), 10, l->log_end_offset(), true);
  EXPECT_EQ(r->range->length, sent[0].size());
  r = l->read(model::offset(0), 10, l->log_end_offset(), false);
  EXPECT_EQ(r->range->length, 10u);
}

TEST(log, read_outside_the_log_is_out_of_range) {
  log_fixture f;
  auto l = f.open();
  append(*l, make_batch(3, 10, f.clock_ms));
  EXPECT_EQ(l->read(model::offset(4), 100, l->log_end_offset(), true).error().code,
            errc::offset_out_of_range);
  auto at_end = l->read(model::offset(3), 100, l->log_end_offset(), true);
  ASSERT_TRUE(at_end.has_value());
  EXPECT_FALSE(at_end->range);
}

TEST(log, rolls_on_segment_bytes_and_reads_across_segments) {
  log_fixture f;
  f.config.segment_bytes = 4096;
  f.config.index_interval_bytes = 512;
  auto l = f.open();
  std::vector<uint8_t> all;
  for (int i = 0; i < 100; ++i) {
    auto b = make_batch(3, 200, f.clock_ms, i);
    append(*l, b);
  }
  EXPECT_GT(l->segment_count(), 10u);
  for (const auto& s : l->segments()) EXPECT_LE(s->size_bytes(), 4096u);
  auto names = files_in(f.log_dir);
  EXPECT_NE(std::find(names.begin(), names.end(), "00000000000000000000.log"), names.end());
  // Every offset is readable and starts the range at the batch holding it.
  for (int64_t o = 0; o < 300; o += 7) {
    auto r = l->read(model::offset(o), 1 << 20, l->log_end_offset(), true);
    ASSERT_TRUE(r.has_value() && r->range) << o;
    EXPECT_EQ(r->range->first_offset, model::offset(o / 3 * 3));
  }
  EXPECT_EQ(testing::split_batches(testing::read_all(*l)).size(), 100u);
}

TEST(log, keeps_only_a_bounded_number_of_sealed_indexes_in_memory) {
  log_fixture f;
  f.config.segment_bytes = 1024;
  f.config.index_interval_bytes = 100;
  auto l = f.open();
  for (int i = 0; i < 100; ++i) append(*l, make_batch(2, 150, f.clock_ms, i));
  ASSERT_GT(l->segment_count(), log::sealed_indexes_max + 5);
  for (int64_t o = 0; o < l->log_end_offset().value(); o += 3) {
    ASSERT_TRUE(l->read(model::offset(o), 100, l->log_end_offset(), true)->range);
  }
  size_t loaded = 0;
  for (const auto& s : l->segments()) loaded += s->indexes_loaded() ? 1 : 0;
  EXPECT_LE(loaded, log::sealed_indexes_max + 1);
  EXPECT_EQ(testing::split_batches(testing::read_all(*l)).size(), 100u);
}

TEST(log, rolls_on_segment_ms_by_batch_timestamp) {
  log_fixture f;
  f.config.segment_ms = 1000;
  auto l = f.open();
  append(*l, make_batch(1, 10, f.clock_ms));
  append(*l, make_batch(1, 10, f.clock_ms + 500));
  EXPECT_EQ(l->segment_count(), 1u);
  append(*l, make_batch(1, 10, f.clock_ms + 1500));
  EXPECT_EQ(l->segment_count(), 2u);
  EXPECT_EQ(l->segments().back()->base_offset(), model::offset(2));
}

TEST(log, rolls_when_the_offset_index_is_full) {
  log_fixture f;
  f.config.segment_index_bytes = 8 * 4;  // four entries
  f.config.index_interval_bytes = 0;     // an entry per batch
  auto l = f.open();
  for (int i = 0; i < 10; ++i) append(*l, make_batch(1, 10, f.clock_ms));
  EXPECT_GE(l->segment_count(), 3u);
  auto names = files_in(f.log_dir);
  EXPECT_NE(std::find(names.begin(), names.end(), "00000000000000000000.index"), names.end());
  EXPECT_EQ(testing::read_file_bytes(f.dir / "orders-0/00000000000000000000.index").size(), 32u);
}

TEST(log, offset_for_timestamp_finds_first_batch_at_or_after) {
  log_fixture f;
  f.config.segment_bytes = 2048;
  f.config.index_interval_bytes = 256;
  auto l = f.open();
  for (int i = 0; i < 50; ++i) append(*l, make_batch(2, 100, 1000 + i * 10));
  // Batch i holds offsets 2i, 2i+1 with timestamps 1000+10i and 1001+10i.
  auto r = l->offset_for_timestamp(model::timestamp_ms(1255));
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((*r)->offset, model::offset(52));  // batch 26, first record: 1260
  EXPECT_EQ((*r)->timestamp, model::timestamp_ms(1260));
  r = l->offset_for_timestamp(model::timestamp_ms(1261));
  EXPECT_EQ((*r)->offset, model::offset(53));  // the second record of batch 26
  EXPECT_EQ((*r)->timestamp, model::timestamp_ms(1261));
  EXPECT_EQ((**l->offset_for_timestamp(model::timestamp_ms(0))).offset, model::offset(0));
  EXPECT_FALSE(l->offset_for_timestamp(model::timestamp_ms(99999))->has_value());
}

TEST(log, reopen_after_clean_close_keeps_everything) {
  log_fixture f;
  f.config.segment_bytes = 4096;
  std::vector<uint8_t> before;
  {
    auto l = f.open();
    for (int i = 0; i < 40; ++i) append(*l, make_batch(2, 150, f.clock_ms, i), 2);
    before = testing::read_all(*l);
    ASSERT_TRUE(l->close().has_value());
  }
  auto l = f.open(true);
  EXPECT_EQ(l->log_end_offset(), model::offset(80));
  EXPECT_EQ(l->recovery_point(), model::offset(80));
  EXPECT_EQ(testing::read_all(*l), before);
  auto r = append(*l, make_batch(1, 10, f.clock_ms));
  EXPECT_EQ(r.base_offset, model::offset(80));
  EXPECT_EQ(l->epochs().latest_epoch(), model::leader_epoch(2));
}

TEST(log, truncate_to_removes_batches_and_later_segments) {
  log_fixture f;
  f.config.segment_bytes = 2048;
  auto l = f.open();
  for (int i = 0; i < 30; ++i) append(*l, make_batch(2, 150, f.clock_ms, i), i < 15 ? 1 : 2);
  size_t segments = l->segment_count();
  ASSERT_TRUE(l->truncate_to(model::offset(21)).has_value());  // mid-batch: removes 20-21
  EXPECT_EQ(l->log_end_offset(), model::offset(20));
  EXPECT_LT(l->segment_count(), segments);
  EXPECT_EQ(l->epochs().latest_epoch(), model::leader_epoch(1));
  EXPECT_EQ(append(*l, make_batch(1, 10, f.clock_ms)).base_offset, model::offset(20));
  EXPECT_EQ(testing::split_batches(testing::read_all(*l)).size(), 11u);
  // The truncation survives a reopen.
  ASSERT_TRUE(l->close().has_value());
  l = f.open(true);
  EXPECT_EQ(l->log_end_offset(), model::offset(21));
}

TEST(log, truncate_at_a_segment_boundary_reactivates_the_sealed_segment) {
  log_fixture f;
  f.config.segment_bytes = 1024;
  auto l = f.open();
  for (int i = 0; i < 20; ++i) append(*l, make_batch(2, 150, f.clock_ms, i));
  ASSERT_GE(l->segment_count(), 3u);
  model::offset boundary = l->segments()[1]->base_offset();
  ASSERT_TRUE(l->truncate_to(boundary).has_value());
  EXPECT_EQ(l->segment_count(), 1u);
  EXPECT_EQ(l->log_end_offset(), boundary);
  EXPECT_EQ(append(*l, make_batch(1, 10, f.clock_ms)).base_offset, boundary);
  EXPECT_EQ(testing::read_all(*l).size(), l->size_bytes());
}

TEST(log, truncate_below_log_start_restarts_empty) {
  log_fixture f;
  auto l = f.open();
  for (int i = 0; i < 5; ++i) append(*l, make_batch(2, 10, f.clock_ms));
  ASSERT_TRUE(l->truncate_to(model::offset(0)).has_value());
  EXPECT_EQ(l->log_end_offset(), model::offset(0));
  EXPECT_TRUE(testing::read_all(*l).empty());
  EXPECT_EQ(append(*l, make_batch(1, 10, f.clock_ms)).base_offset, model::offset(0));
}

TEST(log, advance_log_start_offset_hides_and_deletes_old_segments) {
  log_fixture f;
  f.config.segment_bytes = 2048;
  f.config.file_delete_delay_ms = 1000;
  auto l = f.open();
  for (int i = 0; i < 30; ++i) append(*l, make_batch(2, 150, f.clock_ms, i));
  EXPECT_EQ(l->advance_log_start_offset(model::offset(100)).error().code,
            errc::offset_out_of_range);  // beyond the high watermark
  l->set_high_watermark(l->log_end_offset());
  auto advanced = l->advance_log_start_offset(model::offset(25));
  ASSERT_TRUE(advanced.has_value()) << advanced.error().describe();
  EXPECT_EQ(l->log_start_offset(), model::offset(25));
  EXPECT_EQ(l->read(model::offset(24), 100, l->log_end_offset(), true).error().code,
            errc::offset_out_of_range);
  EXPECT_LE(l->segments().front()->base_offset(), model::offset(25));
  EXPECT_GT(l->pending_deletions(), 0u);
  auto names = files_in(f.log_dir);
  EXPECT_NE(std::find(names.begin(), names.end(), "00000000000000000000.log.deleted"), names.end());
  EXPECT_EQ(*l->remove_deleted_segments(f.clock_ms), 0u);  // file.delete.delay.ms not over
  EXPECT_GT(*l->remove_deleted_segments(f.clock_ms + 1000), 0u);
  names = files_in(f.log_dir);
  EXPECT_EQ(std::find(names.begin(), names.end(), "00000000000000000000.log.deleted"), names.end());
}

}  // namespace sluice::storage

namespace sluice::storage {

TEST(log, follower_append_keeps_assigned_offsets_and_rejects_going_back) {
  log_fixture f;
  auto l = f.open();
  auto batch = make_batch(3, 10, f.clock_ms);
  patch_batch(batch, model::offset(0), model::leader_epoch(4));
  ASSERT_TRUE(l->append_with_offsets(batch).has_value());
  auto gap = make_batch(2, 10, f.clock_ms);
  patch_batch(gap, model::offset(10), model::leader_epoch(4));  // compaction gaps are allowed
  auto r = l->append_with_offsets(gap);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->base_offset, model::offset(10));
  EXPECT_EQ(l->log_end_offset(), model::offset(12));
  auto back = make_batch(1, 10, f.clock_ms);
  patch_batch(back, model::offset(11), model::leader_epoch(4));
  EXPECT_EQ(l->append_with_offsets(back).error().code, errc::invalid_argument);
  EXPECT_EQ(l->epochs().latest_epoch(), model::leader_epoch(4));
}

TEST(log, record_too_large_and_garbage_are_rejected_before_writing) {
  log_fixture f;
  f.config.max_message_bytes = 500;
  auto l = f.open();
  auto big = make_batch(1, 600, f.clock_ms);
  EXPECT_EQ(l->append(big, model::leader_epoch(0)).error().code, errc::record_too_large);
  std::vector<uint8_t> garbage(100, 0x42);
  EXPECT_EQ(l->append(garbage, model::leader_epoch(0)).error().code, errc::invalid_argument);
  EXPECT_EQ(l->size_bytes(), 0u);
}

}  // namespace sluice::storage
