#include "server/partition_ops.h"

#include <gtest/gtest.h>

#include "protocol/batch_builder.h"

namespace sluice::server {
namespace {

std::vector<uint8_t> one_batch(
    std::string_view value, protocol::compression_codec codec = protocol::compression_codec::none) {
  return protocol::batch_builder(codec).add(1000, std::nullopt, protocol::bytes_of(value)).build();
}

TEST(partition_ops, one_valid_batch_passes_and_two_are_refused) {
  auto bytes = one_batch("a");
  auto second = one_batch("b", protocol::compression_codec::gzip);
  EXPECT_TRUE(validate_produce_records(bytes, 1 << 20));
  EXPECT_TRUE(validate_produce_records(second, 1 << 20));
  bytes.insert(bytes.end(), second.begin(), second.end());
  auto r = validate_produce_records(bytes, 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, partition_errc::invalid_record);  // Kafka: one batch per partition
}

TEST(partition_ops, zstd_needs_produce_v7) {
  auto bytes = one_batch("a", protocol::compression_codec::zstd);
  EXPECT_TRUE(validate_produce_records(bytes, 1 << 20, true));
  auto r = validate_produce_records(bytes, 1 << 20, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, partition_errc::unsupported_compression);
}

TEST(partition_ops, bad_crc_is_a_corrupt_message) {
  auto bytes = one_batch("hello");
  bytes.back() ^= 0x01;
  auto r = validate_produce_records(bytes, 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, partition_errc::corrupt_message);
}

TEST(partition_ops, truncated_batch_is_a_corrupt_message) {
  auto bytes = one_batch("hello");
  bytes.resize(bytes.size() - 2);
  auto r = validate_produce_records(bytes, 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, partition_errc::corrupt_message);
}

TEST(partition_ops, old_magic_is_an_unsupported_format) {
  auto bytes = one_batch("hello");
  bytes[16] = 1;
  auto r = validate_produce_records(bytes, 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, partition_errc::unsupported_format);
}

TEST(partition_ops, batch_above_max_message_bytes_is_too_large) {
  auto bytes = one_batch(std::string(500, 'x'));
  auto r = validate_produce_records(bytes, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, partition_errc::message_too_large);
  EXPECT_TRUE(validate_produce_records(bytes, static_cast<int64_t>(bytes.size())));
}

TEST(partition_ops, empty_record_set_is_an_invalid_record) {
  auto r = validate_produce_records({}, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, partition_errc::invalid_record);
}

TEST(partition_ops, log_append_time_stamp_keeps_the_batch_valid) {
  auto bytes = one_batch("a");
  auto second = one_batch("b", protocol::compression_codec::zstd);
  bytes.insert(bytes.end(), second.begin(), second.end());
  stamp_log_append_time(bytes, 123456789);
  size_t pos = 0;
  for (int i = 0; i < 2; ++i) {
    // validate_batch wants exactly one batch.
    auto first = protocol::read_batch_header(std::span<const uint8_t>(bytes).subspan(pos));
    ASSERT_TRUE(first);
    auto exact = std::span<const uint8_t>(bytes).subspan(pos, first->size_bytes());
    auto checked = protocol::validate_batch(exact, true);
    ASSERT_TRUE(checked);
    EXPECT_TRUE(checked->has_log_append_time());
    EXPECT_EQ(checked->max_timestamp, 123456789);
    pos += first->size_bytes();
  }
}

TEST(partition_ops, a_wrong_max_timestamp_is_reported_for_rewriting) {
  protocol::batch_builder b;
  b.add(1000, std::nullopt, protocol::bytes_of("a"))
      .add(3000, std::nullopt, protocol::bytes_of("b"));
  auto bytes = b.build();
  batch_timestamps stamps;
  ASSERT_TRUE(validate_produce_records(bytes, 1 << 20, true, &stamps));
  EXPECT_FALSE(stamps.max_timestamp_fix.has_value());  // the builder writes the right one
  EXPECT_EQ(stamps.records.min, 1000);
  EXPECT_EQ(stamps.records.max, 3000);
  protocol::set_max_timestamp(bytes, -1);  // as sarama 1.22 writes it (CRC kept valid)
  batch_timestamps again;
  ASSERT_TRUE(validate_produce_records(bytes, 1 << 20, true, &again));
  ASSERT_TRUE(again.max_timestamp_fix.has_value());
  EXPECT_EQ(*again.max_timestamp_fix, 3000);
  protocol::set_max_timestamp(bytes, *again.max_timestamp_fix);
  auto header = protocol::validate_batch(bytes, true);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->max_timestamp, 3000);
}

TEST(partition_ops, timestamps_outside_the_topic_bounds_are_named) {
  protocol::record_timestamps ts{1000, 5000};
  EXPECT_FALSE(timestamp_out_of_bounds(ts, 6000, INT64_MAX, INT64_MAX));
  EXPECT_TRUE(timestamp_out_of_bounds(ts, 6000, 4999, INT64_MAX));  // 1000 is 5000 before
  EXPECT_FALSE(timestamp_out_of_bounds(ts, 6000, 5000, INT64_MAX));
  EXPECT_TRUE(timestamp_out_of_bounds(ts, 4000, INT64_MAX, 999));  // 5000 is 1000 after
  EXPECT_FALSE(timestamp_out_of_bounds(ts, 4000, INT64_MAX, 1000));
  protocol::record_timestamps none;  // records without timestamps (-1) are not checked
  EXPECT_FALSE(timestamp_out_of_bounds(none, 6000, 0, 0));
}

}  // namespace
}  // namespace sluice::server
