// Message formats v0/v1: up-conversion of what old producers send, down-conversion of stored
// batches for old consumers, and the errors a damaged message set gets.

#include "protocol/legacy_records.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/batch_builder.h"
#include "protocol/big_endian.h"

namespace sluice::protocol {
namespace {

std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

std::vector<legacy_message> sample(int n) {
  std::vector<legacy_message> out;
  for (int i = 0; i < n; ++i) {
    legacy_message m;
    if (i % 3 != 0) m.key = bytes("key-" + std::to_string(i));
    if (i % 5 != 4) m.value = bytes("value-" + std::to_string(i) + std::string(i, 'x'));
    m.timestamp = 1'700'000'000'000 + i;
    out.push_back(std::move(m));
  }
  return out;
}

std::string text(const std::optional<std::span<const uint8_t>>& b) {
  return b ? std::string(b->begin(), b->end()) : std::string("<null>");
}
std::string text(const std::optional<std::vector<uint8_t>>& b) {
  return b ? std::string(b->begin(), b->end()) : std::string("<null>");
}

void expect_same(const batch_records& got, const std::vector<legacy_message>& want, int8_t magic) {
  ASSERT_EQ(got.records.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& r = got.records[i];
    EXPECT_EQ(text(r.key), text(want[i].key)) << i;
    EXPECT_EQ(text(r.value), text(want[i].value)) << i;
    EXPECT_EQ(r.offset_delta, static_cast<int32_t>(i));
    int64_t ts = got.header.base_timestamp + r.timestamp_delta;
    EXPECT_EQ(ts, magic == legacy_magic_v1 ? want[i].timestamp : -1) << i;
  }
}

TEST(legacy_records, upconverts_both_formats_and_every_codec) {
  auto messages = sample(20);
  for (int8_t magic : {legacy_magic_v0, legacy_magic_v1}) {
    for (auto codec : {compression_codec::none, compression_codec::gzip, compression_codec::snappy,
                       compression_codec::lz4}) {
      SCOPED_TRACE(fmt::format("magic {} codec {}", magic, to_string(codec)));
      auto set = build_message_set(messages, magic, codec);
      auto batch = upconvert_message_set(set);
      ASSERT_TRUE(batch.has_value()) << batch.error().message;
      auto valid = validate_batch(*batch, true);
      ASSERT_TRUE(valid.has_value()) << valid.error().message;
      EXPECT_EQ(valid->codec(), codec);
      auto decoded = read_records(*batch);
      ASSERT_TRUE(decoded.has_value());
      expect_same(*decoded, messages, magic);
    }
  }
}

// What kafka-python 2.0.2 sends at api_version 0.9 with lz4 (LegacyRecordBatchBuilder, magic 0,
// codec 3): one wrapper whose lz4 frame has the header checksum of Kafka 0.8/0.9 (0x1a), holding
// ("k0", "old lz4 zero") and (null, "old lz4 one"). Kafka accepts it; so must the conversion.
const std::vector<uint8_t> kafka_python_09_lz4 = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x62, 0xa4, 0x59, 0x02, 0x1d,
    0x00, 0x03, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x54, 0x04, 0x22, 0x4d, 0x18, 0x60, 0x40,
    0x1a, 0x45, 0x00, 0x00, 0x00, 0x16, 0x00, 0x01, 0x00, 0x51, 0x1c, 0x2f, 0x38, 0xca, 0x1c, 0x0f,
    0x00, 0xf1, 0x04, 0x02, 0x6b, 0x30, 0x00, 0x00, 0x00, 0x0c, 0x6f, 0x6c, 0x64, 0x20, 0x6c, 0x7a,
    0x34, 0x20, 0x7a, 0x65, 0x72, 0x6f, 0x18, 0x00, 0xf0, 0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x19, 0x72, 0x7e, 0x85, 0x46, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x0b, 0x6f,
    0x6c, 0x64, 0x20, 0x6c, 0x7a, 0x34, 0x20, 0x6f, 0x6e, 0x65, 0x00, 0x00, 0x00, 0x00};

TEST(legacy_records, upconverts_lz4_of_format_0_with_kafka_09_frame_checksum) {
  auto batch = upconvert_message_set(kafka_python_09_lz4);
  ASSERT_TRUE(batch.has_value()) << batch.error().message;
  auto valid = validate_batch(*batch, true);
  ASSERT_TRUE(valid.has_value()) << valid.error().message;
  EXPECT_EQ(valid->codec(), compression_codec::lz4);
  auto decoded = read_records(*batch);
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(text(decoded->records[0].key), "k0");
  EXPECT_EQ(text(decoded->records[0].value), "old lz4 zero");
  EXPECT_EQ(text(decoded->records[1].key), "<null>");
  EXPECT_EQ(text(decoded->records[1].value), "old lz4 one");
  EXPECT_EQ(decoded->header.base_timestamp + decoded->records[1].timestamp_delta, -1);
}

TEST(legacy_records, damaged_message_sets_get_the_batch_errors) {
  auto set = build_message_set(sample(3), legacy_magic_v1);
  auto flipped = set;
  flipped.back() ^= 0x01;
  EXPECT_EQ(upconvert_message_set(flipped).error().code, batch_errc::bad_crc);
  auto cut = set;
  cut.resize(cut.size() - 5);
  EXPECT_EQ(upconvert_message_set(cut).error().code, batch_errc::truncated);
  EXPECT_EQ(upconvert_message_set({}).error().code, batch_errc::bad_record_count);
  legacy_message one;
  one.value = bytes("v");
  auto lz4_v0 = build_message_set({one}, legacy_magic_v0, compression_codec::none);
  EXPECT_TRUE(upconvert_message_set(lz4_v0).has_value());
  std::vector<uint8_t> garbage(40, 0xff);
  EXPECT_FALSE(upconvert_message_set(garbage).has_value());
}

TEST(legacy_records, downconverts_stored_batches_for_old_fetches) {
  std::vector<uint8_t> log;
  int64_t next = 100;
  for (auto codec : {compression_codec::none, compression_codec::zstd, compression_codec::gzip}) {
    batch_builder b(codec);
    b.base_offset(next);
    for (int i = 0; i < 4; ++i) {
      std::string v = "r" + std::to_string(next + i);
      record_header h{"h", bytes_of("dropped")};
      b.add(1000 + next + i, bytes_of("k"), bytes_of(v), std::span(&h, 1));
    }
    next += 4;
    auto bytes_out = b.build();
    log.insert(log.end(), bytes_out.begin(), bytes_out.end());
  }
  batch_builder marker;
  marker.base_offset(next).add_transaction_marker(5, control_record_type::commit, 0);
  auto m = marker.build();
  log.insert(log.end(), m.begin(), m.end());
  for (int8_t magic : {legacy_magic_v0, legacy_magic_v1}) {
    auto set = downconvert_batches(log, magic, 102, 1 << 20);
    ASSERT_TRUE(set.has_value()) << set.error().message;
    // The converted set reads back through the up-converter: offsets 102..111 in order.
    auto again = upconvert_message_set(*set);
    ASSERT_TRUE(again.has_value()) << again.error().message;
    auto decoded = read_records(*again);
    ASSERT_TRUE(decoded.has_value());
    ASSERT_EQ(decoded->records.size(), 10u);
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_EQ(text(decoded->records[i].value), "r" + std::to_string(102 + i));
      EXPECT_TRUE(decoded->records[i].headers.empty());
      int64_t ts = decoded->header.base_timestamp + decoded->records[i].timestamp_delta;
      EXPECT_EQ(ts, magic == legacy_magic_v1 ? 1000 + 102 + static_cast<int64_t>(i) : -1);
    }
    // The first absolute offset is kept in the entry.
    EXPECT_EQ(load_big_endian<int64_t>(set->data()), 102);
  }
  // A limit below one message still returns one; a later one stops at a message boundary.
  auto one = downconvert_batches(log, legacy_magic_v1, 100, 1);
  ASSERT_TRUE(one.has_value());
  auto single = upconvert_message_set(*one);
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(read_records(*single)->records.size(), 1u);
  auto none = downconvert_batches(log, legacy_magic_v1, 1000, 1 << 20);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(fetch_message_format(0), 0);
  EXPECT_EQ(fetch_message_format(3), 1);
  EXPECT_EQ(fetch_message_format(4), 2);
}

}  // namespace
}  // namespace sluice::protocol
