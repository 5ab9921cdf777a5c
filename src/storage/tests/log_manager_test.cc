#include "storage/log_manager.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/format.h"
#include "storage/tests/fault_file_system.h"
#include "storage/tests/test_util.h"

namespace sluice::storage {
using testing::make_batch;
using testing::temp_dir;

namespace {

struct fixture {
  temp_dir dir;
  testing::fault_file_system fs;
  int64_t clock_ms = 1'700'000'000'000;

  log_manager_config config(int dirs = 2) {
    log_manager_config c;
    for (int i = 0; i < dirs; ++i) c.log_dirs.push_back(dir / (fmt::format("d{}", i)));
    c.clock = [this] { return clock_ms; };
    c.load_threads = 2;
    return c;
  }
};

model::topic_partition tp(const std::string& topic, int32_t p) {
  return {topic, model::partition_id(p)};
}

void fill(log& l, int batches, int64_t timestamp_ms) {
  for (int i = 0; i < batches; ++i) {
    auto b = make_batch(2, 100, timestamp_ms, i);
    SLUICE_ASSERT(l.append(b, model::leader_epoch(0)).has_value(), "append");
  }
  l.set_high_watermark(l.log_end_offset());
}

}  // namespace

TEST(log_manager, creates_partitions_across_log_dirs_and_reloads_them) {
  fixture f;
  {
    log_manager m(f.fs, f.config());
    ASSERT_TRUE(m.start().has_value());
    for (int p = 0; p < 4; ++p) {
      auto l = m.create(tp("orders", p));
      ASSERT_TRUE(l.has_value());
      fill(**l, 3 + p, f.clock_ms);
    }
    EXPECT_EQ(m.create(tp("orders", 0)).error().code, errc::already_exists);
    ASSERT_TRUE(m.stop().has_value());
  }
  EXPECT_TRUE(std::filesystem::exists(f.dir / "d0/orders-0"));
  EXPECT_TRUE(std::filesystem::exists(f.dir / "d1/orders-1"));
  EXPECT_TRUE(std::filesystem::exists(f.dir / "d0/.kafka_cleanshutdown"));
  EXPECT_TRUE(std::filesystem::exists(f.dir / "d0/recovery-point-offset-checkpoint"));
  log_manager m(f.fs, f.config());
  ASSERT_TRUE(m.start().has_value());
  EXPECT_FALSE(std::filesystem::exists(f.dir / "d0/.kafka_cleanshutdown"));
  ASSERT_EQ(m.size(), 4u);
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(m.get(tp("orders", p))->log_end_offset(), model::offset(2 * (3 + p)));
  }
}

TEST(log_manager, create_all_creates_many_partitions_at_once) {
  fixture f;
  {
    log_manager m(f.fs, f.config());
    ASSERT_TRUE(m.start().has_value());
    ASSERT_TRUE(m.create(tp("t", 1)).has_value());
    std::vector<log_manager::new_partition> wanted;
    for (int p = 0; p < 6; ++p) wanted.push_back({tp("t", p), {{"retention.ms", "5000"}}});
    auto created = m.create_all(wanted);
    ASSERT_EQ(created.size(), 6u);
    for (int p = 0; p < 6; ++p) {
      if (p == 1) {
        EXPECT_EQ(created[p].error().code, errc::already_exists);
        continue;
      }
      ASSERT_TRUE(created[p].has_value()) << p;
      EXPECT_EQ(*created[p], m.get(tp("t", p)));
    }
    // Spread over both log dirs, as one create() at a time would place them.
    EXPECT_EQ(m.placements().size(), 6u);
    size_t in_d0 = 0;
    for (const auto& [partition, dir] : m.placements()) in_d0 += dir == f.dir / "d0" ? 1 : 0;
    EXPECT_EQ(in_d0, 3u);
    ASSERT_TRUE(m.stop().has_value());
  }
  log_manager m(f.fs, f.config());
  ASSERT_TRUE(m.start().has_value());
  EXPECT_EQ(m.size(), 6u);
}

TEST(log_manager, unclean_stop_recovers_from_checkpointed_recovery_points) {
  fixture f;
  std::vector<uint8_t> durable;
  {
    log_manager m(f.fs, f.config(1));
    ASSERT_TRUE(m.start().has_value());
    auto l = *m.create(tp("t", 0));
    fill(*l, 5, f.clock_ms);
    ASSERT_TRUE(l->flush().has_value());
    ASSERT_TRUE(m.write_checkpoints().has_value());
    durable = testing::read_all(*l);
    fill(*l, 5, f.clock_ms);  // never synced
    f.fs.crash();
    // The manager is dropped without stop(): no marker, as after kill -9.
    std::filesystem::remove(f.dir / "d0/.kafka_cleanshutdown");
  }
  log_manager m(f.fs, f.config(1));
  ASSERT_TRUE(m.start().has_value());
  EXPECT_EQ(testing::read_all(*m.get(tp("t", 0))), durable);
}

TEST(log_manager, corrupt_recovery_checkpoint_means_full_recovery_not_failure) {
  fixture f;
  {
    log_manager m(f.fs, f.config(1));
    ASSERT_TRUE(m.start().has_value());
    fill(**m.create(tp("t", 0)), 5, f.clock_ms);
    ASSERT_TRUE(m.stop().has_value());
  }
  auto path = f.dir / "d0/recovery-point-offset-checkpoint";
  auto bytes = testing::read_file_bytes(path);
  bytes[bytes.size() / 2] ^= 0x01;
  testing::write_file(path, bytes);
  std::filesystem::remove(f.dir / "d0/.kafka_cleanshutdown");
  log_manager m(f.fs, f.config(1));
  ASSERT_TRUE(m.start().has_value());
  EXPECT_EQ(m.get(tp("t", 0))->log_end_offset(), model::offset(10));
}

TEST(log_manager, log_start_offset_survives_restart) {
  fixture f;
  {
    log_manager m(f.fs, f.config(1));
    ASSERT_TRUE(m.start().has_value());
    auto l = *m.create(tp("t", 0));
    fill(*l, 5, f.clock_ms);
    ASSERT_TRUE(l->advance_log_start_offset(model::offset(3)).has_value());
    ASSERT_TRUE(m.stop().has_value());
  }
  log_manager m(f.fs, f.config(1));
  ASSERT_TRUE(m.start().has_value());
  EXPECT_EQ(m.get(tp("t", 0))->log_start_offset(), model::offset(3));
}

TEST(log_manager, remove_deletes_the_directory_even_with_a_reader_holding_a_file) {
  fixture f;
  log_manager m(f.fs, f.config(1));
  ASSERT_TRUE(m.start().has_value());
  auto l = *m.create(tp("gone", 0));
  fill(*l, 3, f.clock_ms);
  auto held = l->read(model::offset(0), 1 << 20, l->log_end_offset(), true);
  ASSERT_TRUE(held.has_value() && held->range);
  ASSERT_TRUE(m.remove(tp("gone", 0)).has_value());
  EXPECT_EQ(m.get(tp("gone", 0)), nullptr);
  EXPECT_FALSE(std::filesystem::exists(f.dir / "d0/gone-0"));
  // The handle still reads the bytes it was given.
  std::vector<uint8_t> bytes(held->range->length);
  auto n = read_exact(*held->range->log, held->range->position, bytes);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, bytes.size());
}

TEST(log_manager, topic_overrides_apply_to_every_partition) {
  fixture f;
  log_manager m(f.fs, f.config(1));
  ASSERT_TRUE(m.start().has_value());
  ASSERT_TRUE(m.create(tp("a", 0)).has_value());
  ASSERT_TRUE(m.create(tp("a", 1)).has_value());
  ASSERT_TRUE(m.create(tp("b", 0), {{"retention.ms", "1000"}}).has_value());
  EXPECT_EQ(m.get(tp("b", 0))->config().retention_ms, 1000);
  ASSERT_TRUE(m.set_topic_config("a", {{"cleanup.policy", "compact"}}).has_value());
  EXPECT_TRUE(m.get(tp("a", 1))->config().cleanup_compact);
  EXPECT_FALSE(m.get(tp("b", 0))->config().cleanup_compact);
  EXPECT_FALSE(m.set_topic_config("a", {{"segment.bytes", "x"}}).has_value());
}

TEST(retention, retention_ms_deletes_whole_expired_segments_after_the_delay) {
  fixture f;
  auto c = f.config(1);
  c.defaults.segment_bytes = 1024;
  c.defaults.retention_ms = 10'000;
  c.defaults.file_delete_delay_ms = 1'000;
  c.retention_check_interval_ms = 1;
  log_manager m(f.fs, c);
  ASSERT_TRUE(m.start().has_value());
  auto l = *m.create(tp("t", 0));
  fill(*l, 10, f.clock_ms);           // old
  fill(*l, 10, f.clock_ms + 20'000);  // new
  size_t before = l->segment_count();
  ASSERT_TRUE(m.tick(f.clock_ms + 25'000).has_value());
  EXPECT_LT(l->segment_count(), before);
  EXPECT_GT(l->log_start_offset(), model::offset(0));
  EXPECT_LE(l->log_start_offset(), model::offset(20));
  EXPECT_GT(l->pending_deletions(), 0u);
  ASSERT_TRUE(m.tick(f.clock_ms + 25'500).has_value());  // file.delete.delay.ms not over
  EXPECT_GT(l->pending_deletions(), 0u);
  ASSERT_TRUE(m.tick(f.clock_ms + 26'000).has_value());
  EXPECT_EQ(l->pending_deletions(), 0u);
  for (auto& e : std::filesystem::directory_iterator(f.dir / "d0/t-0")) {
    EXPECT_FALSE(e.path().string().ends_with(".deleted")) << e.path();
  }
}

TEST(retention, deleted_segment_stays_while_a_reader_holds_it) {
  fixture f;
  auto c = f.config(1);
  c.defaults.segment_bytes = 1024;
  c.defaults.file_delete_delay_ms = 0;
  log_manager m(f.fs, c);
  ASSERT_TRUE(m.start().has_value());
  auto l = *m.create(tp("t", 0));
  fill(*l, 10, f.clock_ms);
  auto held = l->read(model::offset(0), 100, l->log_end_offset(), true);
  ASSERT_TRUE(held.has_value() && held->range);
  ASSERT_TRUE(l->advance_log_start_offset(model::offset(10)).has_value());
  EXPECT_EQ(l->pending_deletions(), 1u);
  EXPECT_EQ(*l->remove_deleted_segments(f.clock_ms), 0u);  // the reader still holds it
  EXPECT_TRUE(std::filesystem::exists(f.dir / "d0/t-0/00000000000000000000.log.deleted"));
  held->range.reset();
  EXPECT_EQ(*l->remove_deleted_segments(f.clock_ms), 1u);
  EXPECT_FALSE(std::filesystem::exists(f.dir / "d0/t-0/00000000000000000000.log.deleted"));
}

TEST(retention, retention_bytes_keeps_the_log_under_the_limit) {
  fixture f;
  auto c = f.config(1);
  c.defaults.segment_bytes = 1024;
  c.defaults.retention_bytes = 3000;
  log_manager m(f.fs, c);
  ASSERT_TRUE(m.start().has_value());
  auto l = *m.create(tp("t", 0));
  fill(*l, 40, f.clock_ms);
  ASSERT_TRUE(l->apply_retention(f.clock_ms).has_value());
  EXPECT_LE(l->size_bytes(), 3000u + 1024u);
  EXPECT_GE(l->size_bytes(), 3000u - 1024u);
  EXPECT_EQ(testing::read_all(*l, l->log_start_offset()).size(), l->size_bytes());
}

TEST(retention, compact_only_topics_are_not_deleted_by_time) {
  fixture f;
  auto c = f.config(1);
  c.defaults.segment_bytes = 1024;
  c.defaults.retention_ms = 1;
  log_manager m(f.fs, c);
  ASSERT_TRUE(m.start().has_value());
  auto l = *m.create(tp("t", 0), {{"cleanup.policy", "compact"}});
  fill(*l, 10, f.clock_ms);
  EXPECT_EQ(*l->apply_retention(f.clock_ms + 100'000), 0u);
}

}  // namespace sluice::storage

namespace sluice::storage {

TEST(log_manager, cleaner_offset_survives_restart) {
  fixture f;
  auto c = f.config(1);
  c.defaults.segment_bytes = 600;
  model::offset cleaned;
  {
    log_manager m(f.fs, c);
    ASSERT_TRUE(m.start().has_value());
    auto l = *m.create(tp("c", 0), {{"cleanup.policy", "compact"}});
    for (int i = 0; i < 20; ++i) {
      auto b = testing::make_kv_batch({{"k", fmt::format("v{}", i)}}, f.clock_ms);
      ASSERT_TRUE(l->append(b, model::leader_epoch(0)).has_value());
    }
    ASSERT_TRUE(compact(*l, f.clock_ms, compaction_budget{}, true).has_value());
    cleaned = l->cleaned_offset();
    ASSERT_GT(cleaned, model::offset(0));
    ASSERT_TRUE(m.stop().has_value());
  }
  EXPECT_TRUE(std::filesystem::exists(f.dir / "d0/cleaner-offset-checkpoint"));
  c.topic_overrides = [](const std::string&) {
    return std::map<std::string, std::string>{{"cleanup.policy", "compact"}};
  };
  log_manager m(f.fs, c);
  ASSERT_TRUE(m.start().has_value());
  EXPECT_EQ(m.get(tp("c", 0))->cleaned_offset(), cleaned);
  EXPECT_EQ(cleanable_dirty_ratio(*m.get(tp("c", 0)), f.clock_ms), 0);
}

}  // namespace sluice::storage

namespace sluice::storage {

TEST(log_manager, skipped_partitions_are_neither_loaded_nor_touched) {
  fixture f;
  {
    log_manager m(f.fs, f.config(1));
    ASSERT_TRUE(m.start().has_value());
    ASSERT_TRUE(m.create(tp("__cluster_metadata", 0)).has_value());
    ASSERT_TRUE(m.create(tp("orders", 0)).has_value());
    ASSERT_TRUE(m.stop().has_value());
  }
  auto config = f.config(1);
  config.skip = [](const model::topic_partition& p) { return p.topic == "__cluster_metadata"; };
  log_manager m(f.fs, config);
  ASSERT_TRUE(m.start().has_value());
  EXPECT_EQ(m.partitions(), (std::vector<model::topic_partition>{tp("orders", 0)}));
  EXPECT_TRUE(std::filesystem::exists(f.dir / "d0/__cluster_metadata-0"));
}

}  // namespace sluice::storage

namespace sluice::storage {

// DeleteRecords writes the checkpoints at once so that the new log start offset survives even
// a kill -9; this is what it relies on.
TEST(log_manager, write_checkpoints_records_an_advanced_log_start_at_once) {
  fixture f;
  log_manager m(f.fs, f.config(1));
  ASSERT_TRUE(m.start().has_value());
  auto l = *m.create(tp("t", 0));
  fill(*l, 5, f.clock_ms);
  ASSERT_TRUE(l->advance_log_start_offset(model::offset(7)).has_value());
  ASSERT_TRUE(m.write_checkpoints().has_value());
  auto on_disk = read_offset_checkpoint(f.fs, f.dir / "d0/log-start-offset-checkpoint");
  ASSERT_TRUE(on_disk.has_value());
  EXPECT_EQ(on_disk->at(tp("t", 0)), model::offset(7));
  ASSERT_TRUE(m.stop().has_value());
}

TEST(log_manager, placements_name_the_log_dir_of_every_partition) {
  fixture f;
  log_manager m(f.fs, f.config(2));
  ASSERT_TRUE(m.start().has_value());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(m.create(tp("x", p)).has_value());
  ASSERT_EQ(m.log_dirs().size(), 2u);
  auto placed = m.placements();
  ASSERT_EQ(placed.size(), 3u);
  std::map<std::string, int> per_dir;
  for (const auto& [partition, dir] : placed) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + partition_dir_name(partition))) << dir;
    ++per_dir[dir];
  }
  EXPECT_EQ(per_dir[m.log_dirs()[0]], 2);
  EXPECT_EQ(per_dir[m.log_dirs()[1]], 1);
  ASSERT_TRUE(m.stop().has_value());
}

TEST(volume_space, reports_the_volume_of_a_directory_and_fails_for_a_missing_one) {
  temp_dir dir;
  auto space = volume_space_of(dir.path());
  ASSERT_TRUE(space.has_value());
  EXPECT_GT(space->total_bytes, 0u);
  EXPECT_LE(space->usable_bytes, space->total_bytes);
  auto missing = volume_space_of(dir / "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::not_found);
}

}  // namespace sluice::storage
