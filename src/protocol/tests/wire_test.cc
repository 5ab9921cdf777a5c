// The codec runtime: bounds checks, lengths, varints, nulls, tagged sections and external chunks.

#include "protocol/wire.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>

namespace sluice::protocol {
namespace {

using bytes = std::vector<uint8_t>;

bytes flat(writer&& w) {
  return *std::move(w).finish().flatten();
}

TEST(wire, integers_are_big_endian) {
  writer w;
  w.write(int8_t{-2});
  w.write(int16_t{0x0102});
  w.write(uint16_t{0xfffe});
  w.write(int32_t{-1});
  w.write(int64_t{0x0102030405060708});
  w.write(true);
  w.write(1.5);
  const bytes expected = {0xfe, 0x01, 0x02, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff,
                          0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01,
                          0x3f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const bytes out = flat(std::move(w));
  EXPECT_EQ(out, expected);

  reader r(out);
  int8_t a;
  int16_t b;
  uint16_t c;
  int32_t d;
  int64_t e;
  bool f;
  double g;
  r.read(a);
  r.read(b);
  r.read(c);
  r.read(d);
  r.read(e);
  r.read(f);
  r.read(g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(a, -2);
  EXPECT_EQ(b, 0x0102);
  EXPECT_EQ(c, 0xfffe);
  EXPECT_EQ(d, -1);
  EXPECT_EQ(e, 0x0102030405060708);
  EXPECT_TRUE(f);
  EXPECT_EQ(g, 1.5);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(wire, reading_past_the_end_is_a_sticky_error_with_its_offset) {
  const bytes in = {0x00, 0x01, 0x02};
  reader r(in);
  int16_t a;
  int32_t b;
  r.read(a);
  r.read(b);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 2u);
  int8_t c = 5;
  r.read(c);  // nothing is read after an error
  EXPECT_EQ(c, 0);
  EXPECT_EQ(r.error().offset, 2u);
  EXPECT_FALSE(r.status());
}

TEST(wire, unsigned_varints) {
  for (uint32_t v : {0u, 1u, 127u, 128u, 300u, 16383u, 16384u, 0xffffffffu}) {
    writer w;
    w.write_uvarint(v);
    const bytes out = flat(std::move(w));
    reader r(out);
    EXPECT_EQ(r.read_uvarint(), v);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
  }
  writer w;
  w.write_uvarint(300);
  EXPECT_EQ(flat(std::move(w)), (bytes{0xac, 0x02}));
}

TEST(wire, varint_longer_than_32_bits_is_an_error) {
  const bytes too_wide = {0xff, 0xff, 0xff, 0xff, 0x1f};  // 35 bits
  reader r(too_wide);
  r.read_uvarint();
  EXPECT_FALSE(r.ok());
  const bytes unterminated = {0x80, 0x80};
  reader r2(unterminated);
  r2.read_uvarint();
  EXPECT_FALSE(r2.ok());
}

TEST(wire, strings_in_both_forms) {
  writer w;
  w.write(std::string_view("ab"), false);
  w.write(std::string_view("ab"), true);
  w.write(std::optional<std::string>(), false, true);
  w.write(std::optional<std::string>(), true, true);
  const bytes out = flat(std::move(w));
  EXPECT_EQ(out, (bytes{0x00, 0x02, 'a', 'b', 0x03, 'a', 'b', 0xff, 0xff, 0x00}));

  reader r(out);
  std::string s1, s2;
  std::optional<std::string> n1 = "x", n2 = "x";
  r.read(s1, false);
  r.read(s2, true);
  r.read(n1, false, true);
  r.read(n2, true, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(s1, "ab");
  EXPECT_EQ(s2, "ab");
  EXPECT_FALSE(n1);
  EXPECT_FALSE(n2);
}

TEST(wire, null_where_not_nullable_is_an_error) {
  const bytes null_string = {0xff, 0xff};
  std::string s;
  reader r(null_string);
  r.read(s, false);
  EXPECT_FALSE(r.ok());

  std::optional<std::string> o;
  reader r2(null_string);
  r2.read(o, false, false);
  EXPECT_FALSE(r2.ok());

  writer w;
  w.write(std::optional<std::string>(), false, false);
  EXPECT_FALSE(w.ok());
}

TEST(wire, lengths_beyond_the_input_fail_before_allocating) {
  // A string claiming 32767 bytes, bytes claiming 2^31-1, an array claiming 2^31-1 int64s.
  const bytes long_string = {0x7f, 0xff, 'a'};
  std::string s;
  reader r1(long_string);
  r1.read(s, false);
  EXPECT_FALSE(r1.ok());
  EXPECT_TRUE(s.empty());

  const bytes long_bytes = {0x7f, 0xff, 0xff, 0xff, 0x00};
  std::vector<uint8_t> b;
  reader r2(long_bytes);
  r2.read(b, false);
  EXPECT_FALSE(r2.ok());

  std::vector<int64_t> a;
  reader r3(long_bytes);
  r3.read_array(a, false);
  EXPECT_FALSE(r3.ok());
  EXPECT_EQ(a.capacity(), 0u);

  // 2 int32s need 8 bytes; 7 are there.
  const bytes short_array = {0x00, 0x00, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0};
  std::vector<int32_t> ints;
  reader r4(short_array);
  r4.read_array(ints, false);
  EXPECT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().offset, 4u);

  // A compact array count of 2^32-2 elements.
  const bytes compact_huge = {0xff, 0xff, 0xff, 0xff, 0x0f};
  reader r5(compact_huge);
  r5.read_array(ints, true);
  EXPECT_FALSE(r5.ok());
}

TEST(wire, negative_lengths_other_than_null_are_errors) {
  const bytes minus_two = {0xff, 0xfe};
  std::optional<std::string> s;
  reader r(minus_two);
  r.read(s, false, true);
  EXPECT_FALSE(r.ok());

  const bytes minus_two_32 = {0xff, 0xff, 0xff, 0xfe};
  std::optional<std::vector<int32_t>> a;
  reader r2(minus_two_32);
  r2.read_array(a, false, true);
  EXPECT_FALSE(r2.ok());
}

TEST(wire, arrays_of_strings_and_uuids) {
  std::vector<std::string> names = {"a", "bc"};
  std::vector<model::uuid> ids(2);
  ids[1].bytes[15] = 9;
  writer w;
  w.write_array(names, true);
  w.write_array(ids, false);
  const bytes out = flat(std::move(w));
  reader r(out);
  std::vector<std::string> names2;
  std::vector<model::uuid> ids2;
  r.read_array(names2, true);
  r.read_array(ids2, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(names2, names);
  EXPECT_EQ(ids2, ids);
}

TEST(wire, records_are_views_of_the_input) {
  const bytes in = {0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb};
  records_data rec;
  reader r(in);
  r.read(rec, false, true);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(rec.is_null());
  EXPECT_EQ(rec.memory().data(), in.data() + 4);
  EXPECT_EQ(rec.size(), 2u);

  const bytes null_records = {0x00};  // compact null
  reader r2(null_records);
  r2.read(rec, true, true);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(rec.is_null());
  EXPECT_EQ(rec, records_data());
  EXPECT_NE(rec, records_data::empty());
}

TEST(wire, external_chunks_keep_their_place) {
  const bytes payload = {1, 2, 3};
  writer w;
  w.write(int8_t{9});
  w.write(records_data::view(payload), false, false);
  w.write(int8_t{8});
  EXPECT_EQ(w.size(), 1u + 4u + 3u + 1u);
  auto message = std::move(w).finish();
  ASSERT_EQ(message.externals.size(), 1u);
  EXPECT_EQ(message.externals[0].offset, 5u);
  EXPECT_EQ(message.bytes.size(), 6u);
  EXPECT_EQ(*message.flatten(), (bytes{9, 0, 0, 0, 3, 1, 2, 3, 8}));
}

TEST(wire, appended_writer_shifts_its_chunks) {
  const bytes payload = {4, 5};
  writer inner;
  inner.write(records_data::view(payload), true, false);
  writer outer;
  outer.write(int16_t{7});
  outer.append(std::move(inner));
  EXPECT_EQ(outer.size(), 2u + 1u + 2u);
  auto message = std::move(outer).finish();
  ASSERT_EQ(message.externals.size(), 1u);
  EXPECT_EQ(message.externals[0].offset, 3u);
  EXPECT_EQ(*message.flatten(), (bytes{0, 7, 3, 4, 5}));
}

TEST(wire, file_ranges_flatten_through_pread) {
  char path[] = "/tmp/sluice_wire_test_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  const bytes content = {10, 11, 12, 13, 14, 15};
  ASSERT_EQ(::write(fd, content.data(), content.size()), 6);

  writer w;
  w.write(records_data::files({file_range{fd, 1, 3, nullptr}, file_range{fd, 5, 1, nullptr}}),
          false, false);
  auto message = std::move(w).finish();
  EXPECT_EQ(message.total_size(), 4u + 4u);
  ASSERT_EQ(message.externals.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<file_range>(message.externals[0].source));
  EXPECT_EQ(*message.flatten(), (bytes{0, 0, 0, 4, 11, 12, 13, 15}));

  writer past_end;
  past_end.write(records_data::files({file_range{fd, 4, 10, nullptr}}), false, false);
  EXPECT_FALSE(std::move(past_end).finish().flatten());
  ::close(fd);
}

TEST(wire, tagged_fields_must_ascend) {
  const bytes repeated = {0x02, 0x01, 0x00, 0x01, 0x00};  // tag 1 twice
  tagged_fields t;
  reader r(repeated);
  r.read_tagged_fields(t);
  EXPECT_FALSE(r.ok());

  const bytes too_many = {0x05, 0x01, 0x00};  // 5 fields in 2 bytes
  reader r2(too_many);
  r2.read_tagged_fields(t);
  EXPECT_FALSE(r2.ok());

  const bytes oversized = {0x01, 0x01, 0x05, 0x00};  // tag 1 claims 5 bytes, 1 is left
  reader r3(oversized);
  r3.read_tagged_fields(t);
  EXPECT_FALSE(r3.ok());
}

TEST(wire, known_tagged_field_must_use_all_its_bytes) {
  const bytes in = {0x01, 0x00, 0x02, 0x07, 0x08};  // tag 0, 2 bytes
  tagged_fields unknown;
  int8_t value = 0;
  reader r(in);
  r.read_tagged_fields(unknown, [&](reader& field, uint32_t tag) {
    if (tag != 0) return false;
    field.read(value);  // reads 1 of the 2 bytes
    return true;
  });
  EXPECT_FALSE(r.ok());
}

TEST(wire, tagged_field_writer_refuses_a_known_tag_among_the_unknown) {
  tagged_fields unknown;
  unknown.fields.push_back({3, {}});
  writer w;
  tagged_field_writer tw(w, unknown, 0);
  tw.field(3, false, [](writer& t) { t.write(int8_t{1}); });  // known, not written
  tw.finish();
  EXPECT_FALSE(w.ok());
}

TEST(wire, known_and_unknown_tags_are_written_in_ascending_order) {
  tagged_fields unknown;
  unknown.fields.push_back({2, {0xaa}});
  unknown.fields.push_back({7, {}});
  writer w;
  tagged_field_writer tw(w, unknown, 2);
  tw.field(1, true, [](writer& t) { t.write(int8_t{1}); });
  tw.field(3, true, [](writer& t) { t.write(int16_t{3}); });
  tw.field(5, false, [](writer& t) { t.write(int8_t{5}); });
  tw.finish();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(flat(std::move(w)), (bytes{0x04,              // 4 fields
                                       0x01, 0x01, 0x01,  // tag 1, 1 byte
                                       0x02, 0x01, 0xaa,  // tag 2 (unknown), 1 byte
                                       0x03, 0x02, 0, 3,  // tag 3, 2 bytes
                                       0x07, 0x00}));     // tag 7 (unknown), empty
}

TEST(wire, patch_int32_for_frame_sizes) {
  writer w;
  w.write(int32_t{0});
  w.write(int16_t{5});
  w.patch_int32(0, static_cast<int32_t>(w.size() - 4));
  EXPECT_EQ(flat(std::move(w)), (bytes{0, 0, 0, 2, 0, 5}));
}

TEST(wire, overlong_string_is_an_encode_error) {
  writer w;
  w.write(std::string(40000, 'x'), true);
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace sluice::protocol
