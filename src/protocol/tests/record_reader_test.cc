// Record-level parsing of v2 batches: malformed records built by hand, and random bytes.

#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <vector>

#include "protocol/batch_builder.h"
#include "protocol/big_endian.h"
#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "protocol/varint.h"

namespace sluice::protocol {
namespace {

using bytes = std::vector<uint8_t>;

constexpr int64_t t0 = 1700000000000;

void reseal(bytes& batch) {
  store_big_endian(batch.data() + batch_field::crc,
                   crc32c(std::span<const uint8_t>(batch).subspan(batch_crc_start)));
}

// A batch around a hand-made records section, with consistent lengths and a correct CRC.
bytes raw_batch(const bytes& records, int32_t record_count) {
  bytes b = batch_builder().add(t0, std::nullopt, std::nullopt).build();
  b.resize(batch_header_size);
  b.insert(b.end(), records.begin(), records.end());
  store_big_endian(b.data() + batch_field::batch_length,
                   static_cast<int32_t>(b.size() - batch_log_overhead));
  store_big_endian(b.data() + batch_field::last_offset_delta, record_count - 1);
  store_big_endian(b.data() + batch_field::record_count, record_count);
  reseal(b);
  return b;
}

// A length-prefixed field: varint `length`, then `content` (which may disagree with it).
bytes field(int32_t length, std::string_view content = {}) {
  bytes out;
  append_varint(out, length);
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A record whose body is attributes 0, timestamp delta 0, `offset_delta`, then `fields` (key,
// value and headers as the test writes them), prefixed with the body's true length.
bytes raw_record(int32_t offset_delta, const bytes& fields) {
  bytes body = {0x00};
  append_varlong(body, 0);
  append_varint(body, offset_delta);
  body.insert(body.end(), fields.begin(), fields.end());
  bytes out;
  append_varint(out, static_cast<int32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// key "k", value "v", no headers.
const bytes plain_fields = cat({field(1, "k"), field(1, "v"), field(0)});

batch_errc error_of(const bytes& batch) {
  auto r = validate_batch(batch, true);
  EXPECT_FALSE(r);
  return r ? batch_errc::truncated : r.error().code;
}

TEST(record_reader, hand_made_records_parse) {
  const bytes batch = raw_batch(cat({raw_record(0, plain_fields), raw_record(1, plain_fields)}), 2);
  ASSERT_TRUE(validate_batch(batch, true));
  record_reader reader(std::span<const uint8_t>(batch).subspan(batch_header_size), 2);
  int read = 0;
  while (reader.has_next()) {
    auto r = reader.next();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->offset_delta, read++);
  }
  EXPECT_EQ(read, 2);
  EXPECT_TRUE(reader.finish());
}

TEST(record_reader, malformed_records_fail) {
  struct malformed {
    const char* what;
    bytes records;
    batch_errc code;
  };
  const malformed cases[] = {
      {"negative record length", field(-1), batch_errc::bad_record},
      {"record length past the end", cat({field(50), bytes(10, 0)}), batch_errc::bad_record},
      {"empty record body", field(0), batch_errc::bad_record},
      {"key length -2", raw_record(0, cat({field(-2), field(1, "v"), field(0)})),
       batch_errc::bad_record},
      {"key longer than the record", raw_record(0, cat({field(40, "k"), field(0)})),
       batch_errc::bad_record},
      {"null header key",
       raw_record(0, cat({field(-1), field(-1), field(1), field(-1), field(-1)})),
       batch_errc::bad_record},
      {"negative header count", raw_record(0, cat({field(-1), field(-1), field(-1)})),
       batch_errc::bad_record},
      {"header count beyond the bytes",
       raw_record(0, cat({field(-1), field(-1), field(1000000), field(1, "h"), field(-1)})),
       batch_errc::bad_record},
      {"bytes after the last field", raw_record(0, cat({plain_fields, bytes{0x00}})),
       batch_errc::bad_record},
      {"timestamp varlong of 11 bytes",
       cat({field(14), bytes{0x00}, bytes(10, 0xff), bytes{0x01, 0x00, 0x00}}),
       batch_errc::bad_record},
      {"bytes after the last record", cat({raw_record(0, plain_fields), bytes{0x00}}),
       batch_errc::bad_record_count},
  };
  for (const auto& c : cases) {
    const bytes batch = raw_batch(c.records, 1);
    const batch_errc code = error_of(batch);
    EXPECT_EQ(code, c.code) << c.what << ": " << to_string(code);
    auto read = read_records(batch);
    ASSERT_FALSE(read) << c.what;
    EXPECT_EQ(read.error().code, c.code) << c.what;
  }
}

TEST(record_reader, offset_delta_gap_fails_produce_validation_but_reads) {
  // Compaction leaves gaps in offset deltas; a producer never does.
  const bytes batch = raw_batch(cat({raw_record(0, plain_fields), raw_record(5, plain_fields)}), 2);
  EXPECT_EQ(error_of(batch), batch_errc::bad_record);
  auto read = read_records(batch);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->records[1].offset_delta, 5);
}

TEST(record_reader, negative_count_fails_at_finish) {
  const bytes records = raw_record(0, plain_fields);
  record_reader reader(records, -3);
  EXPECT_FALSE(reader.has_next());
  auto finished = reader.finish();
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().code, batch_errc::bad_record_count);
}

TEST(record_reader, random_records_never_crash) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  const bytes good_records =
      cat({raw_record(0, plain_fields),
           raw_record(1, cat({field(-1), field(3, "abc"), field(2), field(1, "h"), field(-1),
                              field(2, "h2"), field(1, "x")}))});
  for (int i = 0; i < 5000; ++i) {
    bytes records;
    if (i % 2 == 0) {
      records.resize(rng() % 64);
      for (auto& b : records) b = static_cast<uint8_t>(rng() % 4 == 0 ? 0xff : rng() % 8);
    } else {
      records = good_records;
      for (int flips = 0; flips < 1 + i % 3; ++flips) {
        records[rng() % records.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      }
    }
    const bytes batch = raw_batch(records, 1 + static_cast<int32_t>(rng() % 3));
    // Either outcome is fine; reading must stay inside the bytes (ASan checks that).
    auto validated = validate_batch(batch, true);
    auto read = read_records(batch);
    if (validated) {
      EXPECT_TRUE(read) << "validated but unreadable";
    }
    if (read) {
      for (const record& r : read->records) {
        if (r.value) {
          ASSERT_GE(r.value->data(), batch.data());
          ASSERT_LE(r.value->data() + r.value->size(), batch.data() + batch.size());
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice::protocol
