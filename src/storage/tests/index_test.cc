#include <gtest/gtest.h>

#include "storage/offset_index.h"
#include "storage/tests/test_util.h"
#include "storage/time_index.h"

namespace sluice::storage {
using testing::temp_dir;

TEST(offset_index, lookup_returns_greatest_lower_bound) {
  temp_dir dir;
  offset_index index(posix_file_system(), dir / "0.index", model::offset(100), 1024);
  index.file().reset();
  index.append(model::offset(110), 4096);
  index.append(model::offset(120), 8192);
  index.append(model::offset(130), 12288);
  EXPECT_FALSE(index.lookup(model::offset(105)));
  EXPECT_EQ(index.lookup(model::offset(110))->position, 4096u);
  EXPECT_EQ(index.lookup(model::offset(125))->position, 8192u);
  EXPECT_EQ(index.lookup(model::offset(1000))->position, 12288u);
}

TEST(offset_index, survives_a_round_trip_through_the_file) {
  temp_dir dir;
  {
    offset_index index(posix_file_system(), dir / "0.index", model::offset(100), 1024);
    index.file().reset();
    for (int i = 1; i <= 10; ++i) index.append(model::offset(100 + i * 5), i * 1000);
    ASSERT_TRUE(index.file().close().has_value());
  }
  EXPECT_EQ(testing::read_file_bytes(dir / "0.index").size(), 80u);
  offset_index index(posix_file_system(), dir / "0.index", model::offset(100), 1024);
  ASSERT_TRUE(index.load(100000).has_value());
  EXPECT_EQ(index.file().entry_count(), 10u);
  EXPECT_EQ(index.lookup(model::offset(127))->offset, model::offset(125));
}

TEST(offset_index, load_rejects_entries_past_the_log_or_out_of_order) {
  temp_dir dir;
  {
    offset_index index(posix_file_system(), dir / "0.index", model::offset(0), 1024);
    index.file().reset();
    index.append(model::offset(10), 500);
    index.append(model::offset(20), 900);
    ASSERT_TRUE(index.file().close().has_value());
  }
  offset_index index(posix_file_system(), dir / "0.index", model::offset(0), 1024);
  EXPECT_EQ(index.load(800).error().code, errc::corrupt);  // position 900 past an 800-byte log
  auto bytes = testing::read_file_bytes(dir / "0.index");
  bytes.resize(12);  // not a whole number of entries
  testing::write_file(dir / "0.index", bytes);
  EXPECT_EQ(index.load(100000).error().code, errc::corrupt);
}

TEST(offset_index, truncate_drops_entries_at_or_after_position) {
  temp_dir dir;
  offset_index index(posix_file_system(), dir / "0.index", model::offset(0), 1024);
  index.file().reset();
  index.append(model::offset(10), 100);
  index.append(model::offset(20), 200);
  index.append(model::offset(30), 300);
  ASSERT_TRUE(index.file().flush().has_value());
  index.truncate_to_position(200);
  ASSERT_TRUE(index.file().flush().has_value());
  EXPECT_EQ(index.file().entry_count(), 1u);
  EXPECT_EQ(testing::read_file_bytes(dir / "0.index").size(), 8u);
}

TEST(offset_index, full_at_segment_index_bytes) {
  temp_dir dir;
  offset_index index(posix_file_system(), dir / "0.index", model::offset(0), 32);
  index.file().reset();
  for (int i = 1; i <= 4; ++i) index.append(model::offset(i), static_cast<uint32_t>(i));
  EXPECT_TRUE(index.file().full());
}

TEST(time_index, keeps_only_increasing_timestamps) {
  temp_dir dir;
  time_index index(posix_file_system(), dir / "0.timeindex", model::offset(0), 1024);
  index.file().reset();
  index.maybe_append(model::timestamp_ms(1000), model::offset(5));
  index.maybe_append(model::timestamp_ms(900), model::offset(9));  // ignored: not newer
  index.maybe_append(model::timestamp_ms(2000), model::offset(12));
  EXPECT_EQ(index.file().entry_count(), 2u);
  EXPECT_FALSE(index.lookup(model::timestamp_ms(999)));
  EXPECT_EQ(index.lookup(model::timestamp_ms(1500))->offset, model::offset(5));
  EXPECT_EQ(index.last()->timestamp, model::timestamp_ms(2000));
  ASSERT_TRUE(index.file().close().has_value());
  EXPECT_EQ(testing::read_file_bytes(dir / "0.timeindex").size(), 24u);
  time_index again(posix_file_system(), dir / "0.timeindex", model::offset(0), 1024);
  ASSERT_TRUE(again.load().has_value());
  EXPECT_EQ(again.lookup(model::timestamp_ms(5000))->offset, model::offset(12));
}

}  // namespace sluice::storage
