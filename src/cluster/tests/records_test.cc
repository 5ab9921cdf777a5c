#include "cluster/records.h"

#include <gtest/gtest.h>

#include "protocol/record_batch.h"

namespace sluice::cluster {
namespace {

model::uuid some_id(uint8_t seed) {
  model::uuid id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(seed + i);
  return id;
}

std::vector<metadata_record> one_of_each() {
  partition_record p0{model::partition_id(0),
                      {model::node_id(1)},
                      {model::node_id(1)},
                      model::node_id(1),
                      model::leader_epoch(0)};
  partition_record p1{
      model::partition_id(1), {model::node_id(1)}, {}, model::node_id(-1), model::leader_epoch(7)};
  return {
      topic_record{"orders", some_id(1), {p0}},
      partitions_added_record{some_id(1), {p1}},
      config_set_record{config_resource_type::topic, "orders", "retention.ms", "1000"},
      config_set_record{config_resource_type::broker, "", "log.retention.ms", ""},
      config_removed_record{config_resource_type::broker, "1", "log.segment.bytes"},
      topic_deleted_record{some_id(1), "orders"},
      producer_ids_record{model::node_id(1), int64_t{1} << 40},
  };
}

TEST(metadata_records, every_type_round_trips_through_key_and_value) {
  for (const auto& record : one_of_each()) {
    auto decoded = decode_record(encode_key(record), encode_value(record));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, record);
  }
}

TEST(metadata_records, batch_holds_records_at_consecutive_offsets_with_valid_crc) {
  auto records = one_of_each();
  auto batch = encode_batch(model::offset(42), records, 1700000000000);
  EXPECT_TRUE(protocol::batch_crc_matches(batch));
  auto decoded = decode_batch(batch);
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ((*decoded)[i].offset, model::offset(42 + static_cast<int64_t>(i)));
    EXPECT_EQ((*decoded)[i].record, records[i]);
  }
}

TEST(metadata_records, key_is_type_and_version_big_endian) {
  auto key = encode_key(topic_deleted_record{some_id(3), "t"});
  EXPECT_EQ(key, (std::vector<uint8_t>{0, 3, 0, 0}));
}

TEST(metadata_records, unknown_type_and_newer_version_are_rejected) {
  auto value = encode_value(topic_deleted_record{some_id(3), "t"});
  auto unknown = decode_record(std::vector<uint8_t>{0, 99, 0, 0}, value);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, errc::log_corrupt);
  auto newer = decode_record(std::vector<uint8_t>{0, 3, 0, 1}, value);
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().message.find("newer"), std::string::npos);
}

TEST(metadata_records, truncated_or_padded_values_are_rejected) {
  for (const auto& record : one_of_each()) {
    auto key = encode_key(record);
    auto value = encode_value(record);
    for (size_t cut = 0; cut < value.size(); ++cut) {
      auto decoded = decode_record(key, std::span(value).first(cut));
      EXPECT_FALSE(decoded) << "value cut to " << cut << " bytes decoded";
    }
    value.push_back(0);
    EXPECT_FALSE(decode_record(key, value)) << "trailing byte accepted";
  }
}

TEST(metadata_records, huge_count_fails_without_allocating) {
  // A topic record whose partition count claims 2^32-1 entries in a 30-byte value.
  std::vector<uint8_t> value = {1, 't'};
  value.insert(value.end(), 16, 0xAB);
  for (uint8_t b : {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}) value.push_back(b);
  auto decoded = decode_record(std::vector<uint8_t>{0, 1, 0, 0}, value);
  EXPECT_FALSE(decoded);
}

}  // namespace
}  // namespace sluice::cluster
