// Request and response headers at every version, and the header version each API uses.

#include "protocol/header.h"

#include <gtest/gtest.h>

#include "protocol/api.h"

namespace sluice::protocol {
namespace {

std::vector<uint8_t> encode(const auto& header, int16_t version) {
  writer w;
  EXPECT_TRUE(header.encode(w, version));
  return *std::move(w).finish().flatten();
}

request_header sample_request_header() {
  request_header h;
  h.api_key = 3;
  h.api_version = 12;
  h.correlation_id = 0x01020304;
  h.client_id = "c";
  return h;
}

TEST(header, request_v0_has_no_client_id) {
  auto h = sample_request_header();
  h.client_id.reset();
  const std::vector<uint8_t> expected = {0x00, 0x03,               // api_key: 3
                                         0x00, 0x0c,               // api_version: 12
                                         0x01, 0x02, 0x03, 0x04};  // correlation_id
  EXPECT_EQ(encode(h, 0), expected);
  request_header decoded;
  reader r(expected);
  ASSERT_TRUE(decoded.decode(r, 0));
  EXPECT_EQ(decoded, h);
}

TEST(header, request_v0_refuses_a_client_id) {
  writer w;
  EXPECT_FALSE(sample_request_header().encode(w, 0));
}

TEST(header, request_v1_adds_a_nullable_client_id) {
  const std::vector<uint8_t> expected = {0x00, 0x03, 0x00, 0x0c, 0x01, 0x02,
                                         0x03, 0x04, 0x00, 0x01, 'c'};  // client_id: int16 length 1
  EXPECT_EQ(encode(sample_request_header(), 1), expected);

  auto null_id = sample_request_header();
  null_id.client_id.reset();
  const std::vector<uint8_t> null_expected = {0x00, 0x03, 0x00, 0x0c, 0x01,
                                              0x02, 0x03, 0x04, 0xff, 0xff};  // client_id: null
  EXPECT_EQ(encode(null_id, 1), null_expected);
  request_header decoded;
  reader r(null_expected);
  ASSERT_TRUE(decoded.decode(r, 1));
  EXPECT_EQ(decoded, null_id);
}

TEST(header, request_v2_keeps_the_int16_client_id_and_adds_tags) {
  auto h = sample_request_header();
  h.tags.fields.push_back({4, {0x09}});
  const std::vector<uint8_t> expected = {
      0x00, 0x03, 0x00, 0x0c, 0x01, 0x02,
      0x03, 0x04, 0x00, 0x01, 'c',  // client_id: still int16 length
      0x01,                         // 1 tagged field
      0x04, 0x01, 0x09};            // tag 4, 1 byte
  EXPECT_EQ(encode(h, 2), expected);
  request_header decoded;
  reader r(expected);
  ASSERT_TRUE(decoded.decode(r, 2));
  EXPECT_EQ(decoded, h);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(header, request_prefix_is_readable_before_the_version_is_known) {
  const auto bytes = encode(sample_request_header(), 2);
  auto prefix = peek_request_header(bytes);
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->api_key, 3);
  EXPECT_EQ(prefix->api_version, 12);
  EXPECT_EQ(prefix->correlation_id, 0x01020304);
  EXPECT_FALSE(peek_request_header(std::span<const uint8_t>(bytes).first(7)));
}

TEST(header, truncated_request_header_is_an_error) {
  auto h = sample_request_header();
  h.tags.fields.push_back({4, {0x09}});
  for (int16_t version = 0; version <= 2; ++version) {
    if (version == 0) h.client_id.reset();
    if (version < 2) h.tags = {};
    const auto bytes = encode(h, version);
    for (size_t n = 0; n < bytes.size(); ++n) {
      request_header decoded;
      reader r(std::span<const uint8_t>(bytes).first(n));
      EXPECT_FALSE(decoded.decode(r, version)) << "v" << version << " first " << n;
    }
    h = sample_request_header();
    h.tags.fields.push_back({4, {0x09}});
  }
}

TEST(header, client_id_longer_than_the_frame_is_an_error) {
  const std::vector<uint8_t> bytes = {0x00, 0x03, 0x00, 0x0c, 0x01, 0x02,
                                      0x03, 0x04, 0x7f, 0xff, 'c'};
  request_header decoded;
  reader r(bytes);
  auto status = decoded.decode(r, 1);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().offset, 10u);
}

TEST(header, response_v0_and_v1) {
  response_header h;
  h.correlation_id = 7;
  EXPECT_EQ(encode(h, 0), (std::vector<uint8_t>{0, 0, 0, 7}));
  EXPECT_EQ(encode(h, 1), (std::vector<uint8_t>{0, 0, 0, 7, 0x00}));   // + empty tag section
  const std::vector<uint8_t> tagged = {0, 0, 0, 7, 0x01, 0x00, 0x00};  // tag 0, empty
  response_header decoded;
  reader r(tagged);
  ASSERT_TRUE(decoded.decode(r, 1));
  EXPECT_EQ(decoded.correlation_id, 7);
  ASSERT_EQ(decoded.tags.size(), 1u);
  EXPECT_EQ(encode(decoded, 1), tagged);
}

TEST(header, bad_header_versions_are_errors) {
  writer w;
  EXPECT_FALSE(request_header{}.encode(w, 3));
  EXPECT_FALSE(response_header{}.encode(w, 2));
  reader r(std::span<const uint8_t>{});
  request_header h;
  EXPECT_FALSE(h.decode(r, -1));
}

TEST(header, versions_follow_flexibility) {
  // Produce: flexible from v9.
  EXPECT_EQ(request_header_version(0, 8), 1);
  EXPECT_EQ(request_header_version(0, 9), 2);
  EXPECT_EQ(response_header_version(0, 8), 0);
  EXPECT_EQ(response_header_version(0, 9), 1);
  // Metadata: flexible from v9.
  EXPECT_EQ(request_header_version(3, 0), 1);
  EXPECT_EQ(request_header_version(3, 13), 2);
  EXPECT_EQ(response_header_version(3, 13), 1);
  // Fetch: flexible from v12.
  EXPECT_EQ(request_header_version(1, 11), 1);
  EXPECT_EQ(response_header_version(1, 12), 1);
}

TEST(header, api_versions_response_header_is_always_v0) {
  EXPECT_EQ(request_header_version(18, 2), 1);
  EXPECT_EQ(request_header_version(18, 3), 2);
  EXPECT_EQ(response_header_version(18, 3), 0);
  EXPECT_EQ(response_header_version(18, 4), 0);
  // A client newer than us still sends header v2; we must read it to answer UNSUPPORTED_VERSION.
  EXPECT_EQ(request_header_version(18, 99), 2);
}

TEST(header, unknown_api_has_no_header_version) {
  EXPECT_EQ(request_header_version(-1, 0), -1);
  EXPECT_EQ(response_header_version(32000, 0), -1);
  EXPECT_EQ(find_api(32000), nullptr);
}

TEST(header, api_table_lists_the_core_apis) {
  for (int16_t key : {0, 1, 3, 18}) {
    const auto* api = find_api(key);
    ASSERT_NE(api, nullptr) << key;
    EXPECT_EQ(api->key, key);
  }
  EXPECT_EQ(find_api(18)->name, "api_versions");
  EXPECT_EQ(find_api(18)->first_flexible_version, 3);
  EXPECT_TRUE(find_api(18)->supports(0));
  EXPECT_TRUE(find_api(0)->is_flexible(9));
  EXPECT_FALSE(find_api(0)->is_flexible(8));
}

}  // namespace
}  // namespace sluice::protocol
