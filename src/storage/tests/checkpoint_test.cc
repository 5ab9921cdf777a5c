#include "storage/checkpoint.h"

#include <gtest/gtest.h>

#include "storage/leader_epoch_cache.h"
#include "storage/producer_snapshot.h"
#include "storage/tests/test_util.h"

namespace sluice::storage {
using testing::temp_dir;

TEST(checkpoint, offsets_round_trip_in_kafka_text_layout) {
  temp_dir dir;
  offset_map offsets{{{"orders", model::partition_id(0)}, model::offset(42)},
                     {{"orders", model::partition_id(1)}, model::offset(7)}};
  ASSERT_TRUE(write_offset_checkpoint(posix_file_system(), dir / "cp", offsets).has_value());
  auto text = testing::read_file_or_empty(dir / "cp");
  EXPECT_EQ(text.substr(0, 30), "0\n2\norders 0 42\norders 1 7\ncrc");
  auto back = read_offset_checkpoint(posix_file_system(), dir / "cp");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, offsets);
}

TEST(checkpoint, every_single_byte_flip_is_detected) {
  temp_dir dir;
  offset_map offsets{{{"t", model::partition_id(3)}, model::offset(123456)}};
  ASSERT_TRUE(write_offset_checkpoint(posix_file_system(), dir / "cp", offsets).has_value());
  auto good = testing::read_file_bytes(dir / "cp");
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x10, 0x80}) {
      auto bad = good;
      bad[i] ^= mask;
      testing::write_file(dir / "cp", bad);
      auto r = read_offset_checkpoint(posix_file_system(), dir / "cp");
      EXPECT_FALSE(r.has_value()) << "byte " << i << " mask " << int(mask);
      if (!r.has_value()) {
        EXPECT_EQ(r.error().code, errc::corrupt);
      }
    }
  }
}

TEST(checkpoint, missing_file_is_not_found) {
  temp_dir dir;
  auto r = read_offset_checkpoint(posix_file_system(), dir / "nope");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::not_found);
}

TEST(leader_epoch_cache, assign_truncate_and_end_offsets) {
  temp_dir dir;
  leader_epoch_cache cache(posix_file_system(), dir / "leader-epoch-checkpoint");
  ASSERT_TRUE(cache.load().has_value());
  ASSERT_TRUE(cache.assign(model::leader_epoch(1), model::offset(0)).has_value());
  ASSERT_TRUE(cache.assign(model::leader_epoch(1), model::offset(5)).has_value());  // not newer
  ASSERT_TRUE(cache.assign(model::leader_epoch(3), model::offset(10)).has_value());
  ASSERT_TRUE(cache.assign(model::leader_epoch(4), model::offset(20)).has_value());
  EXPECT_EQ(cache.end_offset_for(model::leader_epoch(2), model::offset(30)),
            (epoch_entry{model::leader_epoch(1), model::offset(10)}));
  EXPECT_EQ(cache.end_offset_for(model::leader_epoch(4), model::offset(30)),
            (epoch_entry{model::leader_epoch(4), model::offset(30)}));
  ASSERT_TRUE(cache.truncate_from_end(model::offset(15)).has_value());
  ASSERT_TRUE(cache.truncate_from_start(model::offset(12)).has_value());
  leader_epoch_cache again(posix_file_system(), dir / "leader-epoch-checkpoint");
  ASSERT_TRUE(again.load().has_value());
  ASSERT_EQ(again.entries().size(), 1u);
  EXPECT_EQ(again.entries()[0], (epoch_entry{model::leader_epoch(3), model::offset(12)}));
}

// Kafka's answers (LeaderEpochFileCache.endOffsetFor) for every case OffsetForLeaderEpoch meets.
TEST(leader_epoch_cache, end_offset_for_answers_as_kafka_does) {
  temp_dir dir;
  leader_epoch_cache cache(posix_file_system(), dir / "leader-epoch-checkpoint");
  ASSERT_TRUE(cache.load().has_value());
  auto end_of = [&](int32_t epoch) {
    return cache.end_offset_for(model::leader_epoch(epoch), model::offset(50));
  };
  EXPECT_EQ(end_of(0), std::nullopt);  // empty cache
  ASSERT_TRUE(cache.assign(model::leader_epoch(2), model::offset(10)).has_value());
  ASSERT_TRUE(cache.assign(model::leader_epoch(5), model::offset(20)).has_value());
  ASSERT_TRUE(cache.assign(model::leader_epoch(7), model::offset(40)).has_value());
  using e = epoch_entry;
  EXPECT_EQ(end_of(-1), std::nullopt);                                   // UNDEFINED_EPOCH
  EXPECT_EQ(end_of(1), (e{model::leader_epoch(1), model::offset(10)}));  // before every epoch
  EXPECT_EQ(end_of(2), (e{model::leader_epoch(2), model::offset(20)}));
  EXPECT_EQ(end_of(3), (e{model::leader_epoch(2), model::offset(20)}));  // a gap: floor epoch
  EXPECT_EQ(end_of(5), (e{model::leader_epoch(5), model::offset(40)}));
  EXPECT_EQ(end_of(6), (e{model::leader_epoch(5), model::offset(40)}));
  EXPECT_EQ(end_of(7), (e{model::leader_epoch(7), model::offset(50)}));  // latest: log end
  EXPECT_EQ(end_of(8), std::nullopt);                                    // above the latest
}

TEST(producer_snapshot, newest_intact_snapshot_wins) {
  temp_dir dir;
  std::vector<uint8_t> a{1, 2, 3};
  std::vector<uint8_t> b{4, 5, 6, 7};
  auto& fs = posix_file_system();
  ASSERT_TRUE(write_producer_snapshot(fs, dir.path(), model::offset(10), a).has_value());
  ASSERT_TRUE(write_producer_snapshot(fs, dir.path(), model::offset(20), b).has_value());
  auto latest = read_latest_producer_snapshot(fs, dir.path(), model::offset(100));
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ((*latest)->offset, model::offset(20));
  EXPECT_EQ((*latest)->blob, b);
  // A flipped byte in the newest makes the older one the answer.
  auto path = dir / "00000000000000000020.snapshot";
  auto bytes = testing::read_file_bytes(path);
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto bad = bytes;
    bad[i] ^= 0x04;
    testing::write_file(path, bad);
    latest = read_latest_producer_snapshot(fs, dir.path(), model::offset(100));
    ASSERT_TRUE(latest.has_value() && latest->has_value());
    EXPECT_EQ((*latest)->offset, model::offset(10)) << "byte " << i;
  }
  ASSERT_TRUE(clean_producer_snapshots(fs, dir.path(), model::offset(15), 1).has_value());
  auto left = list_producer_snapshots(fs, dir.path());
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, std::vector<model::offset>{model::offset(10)});
}

}  // namespace sluice::storage
