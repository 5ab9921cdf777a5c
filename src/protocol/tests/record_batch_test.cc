#include "protocol/record_batch.h"

#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/batch_builder.h"
#include "protocol/big_endian.h"
#include "protocol/crc32c.h"

namespace sluice::protocol {
namespace {

using bytes = std::vector<uint8_t>;

constexpr std::array<compression_codec, 5> all_codecs = {
    compression_codec::none, compression_codec::gzip, compression_codec::snappy,
    compression_codec::lz4, compression_codec::zstd};

// Written by kafka-python 2.0.2's DefaultRecordBatchBuilder (an implementation independent of
// this one): magic 2, uncompressed, producer id 42, epoch 3, base sequence 7, records
//   0: ts 1700000000000, key "k1", value "v1", headers {h: "x"}
//   1: ts 1700000000005, key null, value "hello"
//   2: ts 1699999999999, key "k3", value null, headers {a: null, bb: ""}
const bytes kafka_python_batch = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x6a, 0xfa, 0xb8, 0xb7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01,
    0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
    0x03, 0x1c, 0x00, 0x00, 0x00, 0x04, 0x6b, 0x31, 0x04, 0x76, 0x31, 0x02, 0x02, 0x68, 0x02,
    0x78, 0x16, 0x00, 0x0a, 0x02, 0x01, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x1e, 0x00,
    0x01, 0x04, 0x04, 0x6b, 0x33, 0x01, 0x04, 0x02, 0x61, 0x01, 0x04, 0x62, 0x62, 0x00};

// kafka-python again, gzip: three records "key-<i>" -> "sluice " x 10 with header {h: "x"},
// timestamps 1700000000000 + i, no producer id.
const bytes kafka_python_gzip_batch = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00,
    0x02, 0xf4, 0xb7, 0x5d, 0x2b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x8b, 0xcf,
    0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x03, 0x1f, 0x8b, 0x08,
    0x00, 0x64, 0xe0, 0x06, 0x6b, 0x02, 0xff, 0x5b, 0xc3, 0xc8, 0xc0, 0xc0, 0xc0, 0x95, 0x9d, 0x5a,
    0xa9, 0x6b, 0xd0, 0xc3, 0x58, 0x9c, 0x53, 0x9a, 0x99, 0x9c, 0xaa, 0x40, 0x21, 0xc5, 0xc4, 0x94,
    0xc1, 0x54, 0xb1, 0x86, 0x91, 0x81, 0x89, 0x09, 0x6c, 0xae, 0x21, 0xb5, 0xcd, 0x65, 0x61, 0x01,
    0x9b, 0x6b, 0x44, 0x55, 0x73, 0x01, 0x25, 0x32, 0xbe, 0x0c, 0x08, 0x01, 0x00, 0x00};

constexpr int64_t t0 = 1700000000000;

bool same(std::optional<std::span<const uint8_t>> actual, std::optional<std::string_view> want) {
  if (!actual || !want) return !actual && !want;
  return std::string_view(reinterpret_cast<const char*>(actual->data()), actual->size()) == *want;
}

// Recomputes the CRC after a test edits bytes inside it.
void reseal(bytes& batch) {
  store_big_endian(batch.data() + batch_field::crc,
                   crc32c(std::span<const uint8_t>(batch).subspan(batch_crc_start)));
}

batch_errc error_of(std::span<const uint8_t> batch, bool deep = true) {
  auto r = validate_batch(batch, deep);
  EXPECT_FALSE(r) << "batch of " << batch.size() << " bytes validated";
  return r ? batch_errc::bad_record : r.error().code;
}

TEST(record_batch, parses_batch_written_by_kafka_python) {
  auto validated = validate_batch(kafka_python_batch, true);
  ASSERT_TRUE(validated) << validated.error().message;
  const batch_header& h = *validated;
  EXPECT_EQ(h.base_offset, 0);
  EXPECT_EQ(h.batch_length, 92);
  EXPECT_EQ(h.size_bytes(), kafka_python_batch.size());
  EXPECT_EQ(h.partition_leader_epoch, 0);
  EXPECT_EQ(h.magic, 2);
  EXPECT_EQ(h.crc, 0x6afab8b7u);
  EXPECT_EQ(h.codec(), compression_codec::none);
  EXPECT_FALSE(h.is_transactional());
  EXPECT_FALSE(h.is_control());
  EXPECT_FALSE(h.has_log_append_time());
  EXPECT_EQ(h.last_offset_delta, 2);
  EXPECT_EQ(h.last_offset(), 2);
  EXPECT_EQ(h.base_timestamp, t0);
  EXPECT_EQ(h.max_timestamp, t0 + 5);
  EXPECT_EQ(h.producer_id, 42);
  EXPECT_EQ(h.producer_epoch, 3);
  EXPECT_EQ(h.base_sequence, 7);
  EXPECT_EQ(h.record_count, 3);

  auto read = read_records(kafka_python_batch);
  ASSERT_TRUE(read) << read.error().message;
  const auto& r = read->records;
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(read->decompressed.empty());
  EXPECT_EQ(r[0].offset_delta, 0);
  EXPECT_EQ(r[0].timestamp_delta, 0);
  EXPECT_TRUE(same(r[0].key, "k1"));
  EXPECT_TRUE(same(r[0].value, "v1"));
  ASSERT_EQ(r[0].headers.size(), 1u);
  EXPECT_EQ(r[0].headers[0].key, "h");
  EXPECT_TRUE(same(r[0].headers[0].value, "x"));
  EXPECT_EQ(r[1].timestamp_delta, 5);
  EXPECT_TRUE(same(r[1].key, std::nullopt));
  EXPECT_TRUE(same(r[1].value, "hello"));
  EXPECT_TRUE(r[1].headers.empty());
  EXPECT_EQ(r[2].offset_delta, 2);
  EXPECT_EQ(r[2].timestamp_delta, -1);
  EXPECT_TRUE(same(r[2].key, "k3"));
  EXPECT_TRUE(same(r[2].value, std::nullopt));
  ASSERT_EQ(r[2].headers.size(), 2u);
  EXPECT_EQ(r[2].headers[0].key, "a");
  EXPECT_TRUE(same(r[2].headers[0].value, std::nullopt));
  EXPECT_EQ(r[2].headers[1].key, "bb");
  EXPECT_TRUE(same(r[2].headers[1].value, ""));
  // The views point into the batch itself: no copy.
  EXPECT_EQ(r[0].key->data(), kafka_python_batch.data() + 66);
}

TEST(record_batch, builder_matches_kafka_python_byte_for_byte) {
  const std::array<record_header, 1> h0 = {record_header{"h", bytes_of("x")}};
  const std::array<record_header, 2> h2 = {record_header{"a", std::nullopt},
                                           record_header{"bb", bytes_of("")}};
  const bytes built = batch_builder()
                          .partition_leader_epoch(0)
                          .producer(42, 3, 7)
                          .add(t0, bytes_of("k1"), bytes_of("v1"), h0)
                          .add(t0 + 5, std::nullopt, bytes_of("hello"))
                          .add(t0 - 1, bytes_of("k3"), std::nullopt, h2)
                          .build();
  EXPECT_EQ(built, kafka_python_batch);
}

TEST(record_batch, parses_gzip_batch_written_by_kafka_python) {
  auto validated = validate_batch(kafka_python_gzip_batch, true);
  ASSERT_TRUE(validated) << validated.error().message;
  EXPECT_EQ(validated->codec(), compression_codec::gzip);
  EXPECT_EQ(validated->producer_id, no_producer_id);
  auto read = read_records(kafka_python_gzip_batch);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->records.size(), 3u);
  std::string value;
  for (int i = 0; i < 10; ++i) value += "sluice ";
  for (int i = 0; i < 3; ++i) {
    const record& r = read->records[static_cast<size_t>(i)];
    EXPECT_EQ(r.offset_delta, i);
    EXPECT_EQ(r.timestamp_delta, i);
    EXPECT_TRUE(same(r.key, "key-" + std::to_string(i)));
    EXPECT_TRUE(same(r.value, value));
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_TRUE(same(r.headers[0].value, "x"));
  }
}

// Records with every shape a record can have: null and empty keys and values, headers with null
// and empty values, and values large enough to span several compression blocks.
struct test_record {
  int64_t timestamp;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::vector<test_record> varied_records(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<test_record> out;
  for (int i = 0; i < 60; ++i) {
    test_record r;
    r.timestamp = t0 + static_cast<int64_t>(rng() % 2000) - 1000;
    if (i % 5 != 1) r.key = "key-" + std::to_string(rng());
    if (i % 7 == 3) r.key = "";
    if (i % 4 != 2) r.value = std::string(rng() % (i == 10 ? 200000 : 300), "abcdefgh"[i % 8]);
    for (uint32_t h = 0; h < rng() % 4; ++h) {
      std::optional<std::string> v;
      if (h != 1) v = std::string(h * 3, 'v');
      r.headers.emplace_back("header-" + std::to_string(h), v);
    }
    out.push_back(r);
  }
  return out;
}

bytes build_varied(compression_codec codec, const std::vector<test_record>& records) {
  batch_builder b(codec);
  for (const auto& r : records) {
    std::vector<record_header> headers;
    for (const auto& [k, v] : r.headers) {
      headers.push_back({k, v ? std::optional(bytes_of(*v)) : std::nullopt});
    }
    b.add(r.timestamp, r.key ? std::optional(bytes_of(*r.key)) : std::nullopt,
          r.value ? std::optional(bytes_of(*r.value)) : std::nullopt, headers);
  }
  return b.build();
}

TEST(record_batch, round_trips_every_codec) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  const auto records = varied_records(seed);
  for (auto codec : all_codecs) {
    SCOPED_TRACE(to_string(codec));
    const bytes batch = build_varied(codec, records);
    auto validated = validate_batch(batch, true);
    ASSERT_TRUE(validated) << validated.error().message;
    EXPECT_EQ(validated->codec(), codec);
    EXPECT_EQ(validated->record_count, static_cast<int32_t>(records.size()));
    int64_t max_timestamp = records[0].timestamp;
    for (const auto& r : records) max_timestamp = std::max(max_timestamp, r.timestamp);
    EXPECT_EQ(validated->base_timestamp, records[0].timestamp);
    EXPECT_EQ(validated->max_timestamp, max_timestamp);
    EXPECT_TRUE(validate_batch(batch, false));

    auto read = read_records(batch);
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(read->records.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const record& got = read->records[i];
      const test_record& want = records[i];
      EXPECT_EQ(got.offset_delta, static_cast<int32_t>(i));
      EXPECT_EQ(validated->base_timestamp + got.timestamp_delta, want.timestamp);
      EXPECT_TRUE(same(got.key, want.key)) << i;
      EXPECT_TRUE(same(got.value, want.value)) << i;
      ASSERT_EQ(got.headers.size(), want.headers.size()) << i;
      for (size_t h = 0; h < want.headers.size(); ++h) {
        EXPECT_EQ(got.headers[h].key, want.headers[h].first);
        EXPECT_TRUE(same(got.headers[h].value, want.headers[h].second)) << i << ":" << h;
      }
    }
  }
}

TEST(record_batch, compressed_records_survive_a_move_of_the_result) {
  auto read = read_records(build_varied(compression_codec::zstd, varied_records(1)));
  ASSERT_TRUE(read);
  batch_records moved = std::move(*read);
  ASSERT_FALSE(moved.decompressed.empty());
  const auto* begin = moved.decompressed.data();
  const auto* end = begin + moved.decompressed.size();
  for (const record& r : moved.records) {
    if (!r.value) continue;
    EXPECT_TRUE(r.value->data() >= begin && r.value->data() + r.value->size() <= end);
  }
}

TEST(record_batch, carries_producer_identity_and_flags) {
  const bytes batch = batch_builder(compression_codec::lz4)
                          .base_offset(500)
                          .partition_leader_epoch(9)
                          .producer(1234, 5, 100)
                          .transactional()
                          .log_append_time(t0 + 99)
                          .add(t0, bytes_of("k"), bytes_of("v"))
                          .add(t0 + 1, bytes_of("k"), bytes_of("w"))
                          .build();
  auto h = validate_batch(batch, true);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->base_offset, 500);
  EXPECT_EQ(h->last_offset(), 501);
  EXPECT_EQ(h->partition_leader_epoch, 9);
  EXPECT_EQ(h->producer_id, 1234);
  EXPECT_EQ(h->producer_epoch, 5);
  EXPECT_EQ(h->base_sequence, 100);
  EXPECT_TRUE(h->is_transactional());
  EXPECT_FALSE(h->is_control());
  EXPECT_TRUE(h->has_log_append_time());
  EXPECT_EQ(h->max_timestamp, t0 + 99);
  EXPECT_EQ(h->attributes, 0x10 | 0x08 | 3);
}

TEST(record_batch, transaction_marker_round_trips) {
  const bytes batch = batch_builder()
                          .producer(77, 2, no_sequence)
                          .add_transaction_marker(t0, control_record_type::commit, 17)
                          .build();
  auto read = read_records(batch);
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->header.is_control());
  EXPECT_TRUE(read->header.is_transactional());
  ASSERT_EQ(read->records.size(), 1u);
  auto marker = read_transaction_marker(read->records[0]);
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->type, control_record_type::commit);
  EXPECT_EQ(marker->coordinator_epoch, 17);
  // An ordinary record is not a marker.
  auto plain = read_records(kafka_python_batch);
  EXPECT_FALSE(read_transaction_marker(plain->records[0]));
}

TEST(record_batch, patching_offset_and_epoch_keeps_crc_valid) {
  bytes batch = kafka_python_batch;
  set_base_offset(batch, 1'000'000'000'000);
  set_partition_leader_epoch(batch, 12);
  auto h = validate_batch(batch, true);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->base_offset, 1'000'000'000'000);
  EXPECT_EQ(h->last_offset(), 1'000'000'000'002);
  EXPECT_EQ(h->partition_leader_epoch, 12);
  EXPECT_EQ(h->crc, 0x6afab8b7u);
}

TEST(record_batch, corrupt_byte_fails_crc) {
  for (auto codec : all_codecs) {
    SCOPED_TRACE(to_string(codec));
    const bytes good = batch_builder(codec)
                           .producer(5, 1, 0)
                           .add(t0, bytes_of("key"), bytes_of("value value value"))
                           .add(t0 + 1, std::nullopt, bytes_of("value value value"))
                           .build();
    for (size_t i = 0; i < good.size(); ++i) {
      for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
        bytes bad = good;
        bad[i] ^= flip;
        const bool outside_crc =
            i < batch_field::batch_length ||
            (i >= batch_field::partition_leader_epoch && i < batch_field::magic);
        if (outside_crc) {
          EXPECT_TRUE(validate_batch(bad, true)) << i;  // by design: the broker patches these
          continue;
        }
        const batch_errc code = error_of(bad);
        if (i < batch_field::partition_leader_epoch) {
          EXPECT_TRUE(code == batch_errc::bad_length || code == batch_errc::truncated) << i;
        } else if (i == batch_field::magic) {
          EXPECT_EQ(code, batch_errc::bad_magic) << i;
        } else {
          EXPECT_EQ(code, batch_errc::bad_crc) << i << ": " << to_string(code);
        }
      }
    }
  }
}

TEST(record_batch, every_truncation_fails) {
  for (auto codec : all_codecs) {
    SCOPED_TRACE(to_string(codec));
    const bytes good = build_varied(codec, varied_records(3));
    for (size_t n = 0; n < good.size(); ++n) {
      const auto cut = std::span(good).first(n);
      const batch_errc code = error_of(cut);
      EXPECT_TRUE(code == batch_errc::truncated) << n << ": " << to_string(code);
      EXPECT_FALSE(read_records(cut)) << n;
      EXPECT_EQ(static_cast<bool>(read_batch_header(cut)), n >= batch_header_size) << n;
      EXPECT_FALSE(batch_crc_matches(cut)) << n;
    }
  }
}

TEST(record_batch, bytes_after_the_batch_fail) {
  bytes batch = kafka_python_batch;
  batch.push_back(0);
  EXPECT_EQ(error_of(batch), batch_errc::bad_length);
  EXPECT_TRUE(read_batch_header(batch));  // a header read does not look past the header
}

TEST(record_batch, impossible_batch_length_fails) {
  for (int32_t length : {-1, 0, 48, std::numeric_limits<int32_t>::min()}) {
    bytes batch = kafka_python_batch;
    store_big_endian(batch.data() + batch_field::batch_length, length);
    auto h = read_batch_header(batch);
    ASSERT_FALSE(h) << length;
    EXPECT_EQ(h.error().code, batch_errc::bad_length);
  }
}

TEST(record_batch, older_magic_fails) {
  for (uint8_t magic : {0, 1, 3}) {
    bytes batch = kafka_python_batch;
    batch[batch_field::magic] = magic;
    EXPECT_EQ(error_of(batch), batch_errc::bad_magic);
  }
}

TEST(record_batch, record_count_mismatch_fails) {
  for (auto codec : {compression_codec::none, compression_codec::zstd}) {
    SCOPED_TRACE(to_string(codec));
    const bytes good = build_varied(codec, varied_records(11));
    const auto count = load_big_endian<int32_t>(good.data() + batch_field::record_count);
    // The count disagrees with last_offset_delta.
    bytes bad = good;
    store_big_endian(bad.data() + batch_field::record_count, count + 1);
    reseal(bad);
    EXPECT_EQ(error_of(bad), batch_errc::bad_record_count);
    // Both say one more record than there is, or one fewer.
    for (int32_t wrong : {count + 1, count - 1}) {
      bad = good;
      store_big_endian(bad.data() + batch_field::record_count, wrong);
      store_big_endian(bad.data() + batch_field::last_offset_delta, wrong - 1);
      reseal(bad);
      EXPECT_EQ(error_of(bad), batch_errc::bad_record_count) << wrong;
      EXPECT_FALSE(read_records(bad)) << wrong;
      // Without `deep` a compressed batch's records are not looked at.
      EXPECT_EQ(static_cast<bool>(validate_batch(bad, false)), codec != compression_codec::none);
    }
    // A producer never sends an empty batch.
    bad = good;
    store_big_endian(bad.data() + batch_field::record_count, int32_t{0});
    store_big_endian(bad.data() + batch_field::last_offset_delta, int32_t{-1});
    reseal(bad);
    EXPECT_EQ(error_of(bad, false), batch_errc::bad_record_count);
  }
}

TEST(record_batch, unknown_codec_fails) {
  for (int16_t codec : {5, 6, 7}) {
    bytes batch = kafka_python_batch;
    store_big_endian(batch.data() + batch_field::attributes, codec);
    reseal(batch);
    EXPECT_EQ(error_of(batch, false), batch_errc::bad_compression) << codec;
    EXPECT_FALSE(read_records(batch));
  }
}

TEST(record_batch, corrupt_compressed_records_fail_when_deep) {
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4,
                     compression_codec::zstd}) {
    SCOPED_TRACE(to_string(codec));
    bytes batch = build_varied(codec, varied_records(13));
    // Garbage records with a correct CRC, as a buggy producer might send.
    for (size_t i = batch_header_size; i < batch.size(); ++i) batch[i] = static_cast<uint8_t>(i);
    reseal(batch);
    EXPECT_EQ(error_of(batch, true), batch_errc::bad_compression);
    EXPECT_TRUE(validate_batch(batch, false));
  }
}

TEST(record_batch, decompression_is_bounded) {
  const bytes zeros(size_t{4} << 20, 0);
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4,
                     compression_codec::zstd}) {
    SCOPED_TRACE(to_string(codec));
    const bytes batch = batch_builder(codec).add(t0, std::nullopt, zeros).build();
    EXPECT_LT(batch.size(), zeros.size() / 16);
    auto bounded = validate_batch(batch, true, size_t{1} << 20);
    ASSERT_FALSE(bounded);
    EXPECT_EQ(bounded.error().code, batch_errc::too_large);
    auto read = read_records(batch, size_t{1} << 20);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, batch_errc::too_large);
    EXPECT_TRUE(validate_batch(batch, true));  // within the default bound
  }
}

TEST(record_batch_death, patching_a_short_span_aborts) {
  bytes short_batch(20, 0);
  EXPECT_DEATH(set_base_offset(short_batch, 1), "set_base_offset on 20 bytes");
}

}  // namespace
}  // namespace sluice::protocol
