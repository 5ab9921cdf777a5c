#include "storage/format.h"

#include <gtest/gtest.h>

#include "storage/log_config.h"

namespace sluice::storage {

TEST(format, segment_names_are_twenty_digit_base_offsets) {
  EXPECT_EQ(offset_file_name(model::offset(1234), log_suffix), "00000000000000001234.log");
  EXPECT_EQ(parse_offset_file_name("00000000000000001234.index", offset_index_suffix),
            model::offset(1234));
  EXPECT_FALSE(parse_offset_file_name("0000000000000001234.log", log_suffix));
  EXPECT_FALSE(parse_offset_file_name("00000000000000001234.log.deleted", log_suffix));
  EXPECT_FALSE(parse_offset_file_name("0000000000000000123x.log", log_suffix));
}

TEST(format, partition_dir_splits_at_last_dash) {
  model::topic_partition tp{"my-topic", model::partition_id(7)};
  EXPECT_EQ(partition_dir_name(tp), "my-topic-7");
  EXPECT_EQ(parse_partition_dir_name("my-topic-7"), tp);
  EXPECT_FALSE(parse_partition_dir_name("no_partition"));
  EXPECT_FALSE(parse_partition_dir_name("topic-"));
  EXPECT_FALSE(parse_partition_dir_name("topic-x"));
  EXPECT_EQ(parse_partition_dir_name("topic--1")->topic, "topic-");
}

TEST(log_config, defaults_are_kafkas) {
  log_config c;
  EXPECT_EQ(c.segment_bytes, 1073741824u);
  EXPECT_EQ(c.segment_ms, 604800000);
  EXPECT_EQ(c.index_interval_bytes, 4096u);
  EXPECT_EQ(c.segment_index_bytes, 10485760u);
  EXPECT_EQ(c.retention_ms, 604800000);
  EXPECT_EQ(c.retention_bytes, -1);
  EXPECT_TRUE(c.cleanup_delete);
  EXPECT_FALSE(c.cleanup_compact);
  EXPECT_EQ(c.flush_messages, INT64_MAX);
  EXPECT_EQ(c.flush_ms, INT64_MAX);
  EXPECT_EQ(c.delete_retention_ms, 86400000);
  EXPECT_DOUBLE_EQ(c.min_cleanable_dirty_ratio, 0.5);
  EXPECT_EQ(c.min_compaction_lag_ms, 0);
  EXPECT_EQ(c.file_delete_delay_ms, 60000);
  EXPECT_EQ(c.max_message_bytes, 1048588);
  EXPECT_EQ(c.message_timestamp_type, timestamp_type::create_time);
}

TEST(log_config, overrides_apply_by_kafka_key) {
  auto c = apply_overrides(log_config{}, {{"segment.bytes", "1048576"},
                                          {"cleanup.policy", "compact,delete"},
                                          {"message.timestamp.type", "LogAppendTime"},
                                          {"min.cleanable.dirty.ratio", "0.25"},
                                          {"unrelated.key", "x"}});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->segment_bytes, 1048576u);
  EXPECT_TRUE(c->cleanup_compact);
  EXPECT_TRUE(c->cleanup_delete);
  EXPECT_EQ(c->message_timestamp_type, timestamp_type::log_append_time);
  EXPECT_DOUBLE_EQ(c->min_cleanable_dirty_ratio, 0.25);
}

TEST(log_config, bad_values_are_rejected) {
  EXPECT_FALSE(apply_overrides(log_config{}, {{"segment.bytes", "-5"}}).has_value());
  EXPECT_FALSE(apply_overrides(log_config{}, {{"cleanup.policy", "shred"}}).has_value());
  EXPECT_FALSE(apply_overrides(log_config{}, {{"retention.ms", "soon"}}).has_value());
  EXPECT_FALSE(apply_overrides(log_config{}, {{"min.cleanable.dirty.ratio", "2"}}).has_value());
  EXPECT_EQ(apply_overrides(log_config{}, {{"retention.ms", "-1"}})->retention_ms, -1);
}

}  // namespace sluice::storage
