// Byte-exact encodings of Produce, Fetch, Metadata and ApiVersions at their lowest and highest
// served versions, written out by hand from the Kafka protocol specification: each expected byte
// string is commented field by field. Every case checks both directions: the message encodes to
// exactly these bytes, and these bytes decode to exactly the message.

#include <gtest/gtest.h>

#include <cctype>
#include <string_view>

#include "protocol/messages/all.h"

namespace sluice::protocol {
namespace {

// "00 ff 7f" -> {0x00, 0xff, 0x7f}; spaces are ignored.
std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    if (c == ' ') continue;
    const int nibble = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'a' + 10;
    EXPECT_TRUE(nibble >= 0 && nibble < 16) << "bad hex digit " << c;
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  EXPECT_EQ(high, -1) << "odd number of hex digits";
  return out;
}

// The uuid 00 01 02 ... 0f.
model::uuid test_uuid() {
  model::uuid u;
  for (uint8_t i = 0; i < 16; ++i) u.bytes[i] = i;
  return u;
}
constexpr std::string_view test_uuid_hex = "00010203 04050607 08090a0b 0c0d0e0f";

const std::vector<uint8_t> record_bytes = {0x01, 0x02, 0x03};

template <typename T>
void expect_golden(const T& message, int16_t version, const std::vector<uint8_t>& expected) {
  writer w;
  ASSERT_TRUE(message.encode(w, version)) << w.error().message;
  auto encoded = std::move(w).finish();
  auto flat = encoded.flatten();
  ASSERT_TRUE(flat);
  EXPECT_EQ(*flat, expected) << T::api_name << " v" << version;

  T decoded;
  auto status = decode_message(decoded, expected, version);
  ASSERT_TRUE(status) << status.error().message << " at " << status.error().offset;
  EXPECT_TRUE(decoded == message) << T::api_name << " v" << version;
}

// ----------------------------------------------------------------------------------------------
// Produce

produce_request produce_request_sample(int16_t version) {
  produce_request m;
  m.acks = -1;
  m.timeout_ms = 30000;
  auto& topic = m.topic_data.emplace_back();
  if (version <= 12) {
    topic.name = "t";
  } else {
    topic.topic_id = test_uuid();
  }
  auto& partition = topic.partition_data.emplace_back();
  partition.index = 2;
  partition.records = records_data::view(record_bytes);
  return m;
}

TEST(golden, produce_request_v3) {
  auto m = produce_request_sample(3);
  expect_golden(m, 3,
                hex("ffff"       // transactional_id: null (int16 length -1)
                    "ffff"       // acks: -1
                    "00007530"   // timeout_ms: 30000
                    "00000001"   // topic_data: 1 element (int32 count)
                    "0001 74"    //   name: "t"
                    "00000001"   //   partition_data: 1 element
                    "00000002"   //     index: 2
                    "00000003"   //     records: 3 bytes (int32 length)
                    "010203"));  //     the record bytes
}

TEST(golden, produce_request_v13) {
  auto m = produce_request_sample(13);
  m.transactional_id = "tx";
  expect_golden(m, 13,
                hex(std::string("03 7478")        // transactional_id: "tx" (compact: length + 1)
                    + "ffff"                      // acks: -1
                    + "00007530"                  // timeout_ms: 30000
                    + "02"                        // topic_data: 1 element (compact: count + 1)
                    + std::string(test_uuid_hex)  //   topic_id
                    + "02"                        //   partition_data: 1 element
                    + "00000002"                  //     index: 2
                    + "04 010203"                 //     records: 3 bytes (compact)
                    + "00"                        //     no tagged fields
                    + "00"                        //   no tagged fields
                    + "00"));                     // no tagged fields
}

TEST(golden, produce_request_drops_the_topic_name_where_ids_replaced_it) {
  // name is ignorable: a v13 request built with a name still encodes, without it.
  auto m = produce_request_sample(13);
  m.topic_data[0].name = "t";
  writer w;
  ASSERT_TRUE(m.encode(w, 13));
  m.topic_data[0].name.clear();
  writer plain;
  ASSERT_TRUE(m.encode(plain, 13));
  EXPECT_EQ(*std::move(w).finish().flatten(), *std::move(plain).finish().flatten());
}

produce_response produce_response_sample(int16_t version) {
  produce_response m;
  auto& topic = m.responses.emplace_back();
  if (version <= 12) {
    topic.name = "t";
  } else {
    topic.topic_id = test_uuid();
  }
  auto& p = topic.partition_responses.emplace_back();
  p.index = 2;
  p.base_offset = 5;
  return m;
}

TEST(golden, produce_response_v3) {
  auto m = produce_response_sample(3);
  expect_golden(m, 3,
                hex("00000001"           // responses: 1 element
                    "0001 74"            //   name: "t"
                    "00000001"           //   partition_responses: 1 element
                    "00000002"           //     index: 2
                    "0000"               //     error_code: 0
                    "00000000 00000005"  //     base_offset: 5
                    "ffffffff ffffffff"  //     log_append_time_ms: -1 (v2+)
                    "00000000"));        // throttle_time_ms: 0 (v1+)
}

TEST(golden, produce_response_v13) {
  auto m = produce_response_sample(13);
  auto& p = m.responses[0].partition_responses[0];
  p.error_code = 6;  // NOT_LEADER_OR_FOLLOWER
  p.base_offset = -1;
  p.log_start_offset = 0;
  p.current_leader = {.leader_id = 2, .leader_epoch = 7};
  auto& node = m.node_endpoints.emplace_back();
  node.node_id = 2;
  node.host = "h";
  node.port = 9092;
  expect_golden(m, 13,
                hex("02" + std::string(test_uuid_hex)  // responses: 1 element; topic_id
                    + "02"                             //   partition_responses: 1 element
                    + "00000002"                       //     index: 2
                    + "0006"                           //     error_code: 6
                    + "ffffffff ffffffff"              //     base_offset: -1
                    + "ffffffff ffffffff"              //     log_append_time_ms: -1
                    + "00000000 00000000"              //     log_start_offset: 0 (v5+)
                    + "01"                             //     record_errors: empty (v8+)
                    + "00"                             //     error_message: null (v8+)
                    + "01"                             //     1 tagged field:
                    + "00 09"                          //       tag 0 (current_leader), 9 bytes:
                    + "00000002 00000007"              //       leader_id 2, leader_epoch 7
                    + "00"                             //       no tagged fields in the struct
                    + "00"                             //   no tagged fields
                    + "00000000"                       // throttle_time_ms: 0
                    + "01"                             // 1 tagged field:
                    + "00 0d"                          //   tag 0 (node_endpoints), 13 bytes:
                    + "02"                             //   1 element
                    + "00000002"                       //     node_id: 2
                    + "02 68"                          //     host: "h"
                    + "00002384"                       //     port: 9092
                    + "00"                             //     rack: null
                    + "00"));                          //     no tagged fields
}

// ----------------------------------------------------------------------------------------------
// Fetch

fetch_request fetch_request_sample(int16_t version) {
  fetch_request m;
  m.max_wait_ms = 500;
  m.min_bytes = 1;
  auto& topic = m.topics.emplace_back();
  if (version <= 12) {
    topic.topic = "t";
  } else {
    topic.topic_id = test_uuid();
  }
  auto& p = topic.partitions.emplace_back();
  p.fetch_offset = 10;
  p.partition_max_bytes = 1 << 20;
  return m;
}

TEST(golden, fetch_request_v4) {
  auto m = fetch_request_sample(4);
  expect_golden(m, 4,
                hex("ffffffff"           // replica_id: -1 (a consumer)
                    "000001f4"           // max_wait_ms: 500
                    "00000001"           // min_bytes: 1
                    "7fffffff"           // max_bytes: the default, 2^31 - 1 (v3+)
                    "00"                 // isolation_level: read uncommitted (v4+)
                    "00000001"           // topics: 1 element
                    "0001 74"            //   topic: "t"
                    "00000001"           //   partitions: 1 element
                    "00000000"           //     partition: 0
                    "00000000 0000000a"  //     fetch_offset: 10
                    "00100000"));        //     partition_max_bytes: 1 MiB
}

TEST(golden, fetch_request_v18) {
  auto m = fetch_request_sample(18);
  m.replica_id = -1;
  m.replica_state = {.replica_id = 3, .replica_epoch = 7};
  m.isolation_level = 1;
  m.session_epoch = -1;
  auto& p = m.topics[0].partitions[0];
  p.current_leader_epoch = 5;
  p.high_watermark = 100;
  expect_golden(m, 18,
                hex(std::string("000001f4")  // max_wait_ms: 500 (replica_id is gone in v15+)
                    + "00000001"             // min_bytes: 1
                    + "7fffffff"             // max_bytes
                    + "01"                   // isolation_level: read committed
                    + "00000000"             // session_id: 0 (v7+)
                    + "ffffffff"             // session_epoch: -1 (v7+)
                    + "02" + std::string(test_uuid_hex)  // topics: 1 element; topic_id (v13+)
                    + "02"                               //   partitions: 1 element
                    + "00000000"                         //     partition: 0
                    + "00000005"                         //     current_leader_epoch: 5 (v9+)
                    + "00000000 0000000a"                //     fetch_offset: 10
                    + "ffffffff"                         //     last_fetched_epoch: -1 (v12+)
                    + "ffffffff ffffffff"                //     log_start_offset: -1 (v5+)
                    + "00100000"                         //     partition_max_bytes: 1 MiB
                    + "01"                               //     1 tagged field:
                    + "01 08"                            //       tag 1 (high_watermark), 8 bytes:
                    + "00000000 00000064"                //       100
                    + "00"                               //   no tagged fields
                    + "01"                               // forgotten_topics_data: empty (v7+)
                    + "01"                               // rack_id: "" (v11+)
                    + "01"                               // 1 tagged field:
                    + "01 0d"                            //   tag 1 (replica_state), 13 bytes:
                    + "00000003"                         //   replica_id: 3
                    + "00000000 00000007"                //   replica_epoch: 7
                    + "00"));                            //   no tagged fields in the struct
}

fetch_response fetch_response_sample(int16_t version) {
  fetch_response m;
  auto& topic = m.responses.emplace_back();
  if (version <= 12) {
    topic.topic = "t";
  } else {
    topic.topic_id = test_uuid();
  }
  auto& p = topic.partitions.emplace_back();
  p.high_watermark = 10;
  p.last_stable_offset = 10;
  p.aborted_transactions.reset();
  p.records = records_data::view(record_bytes);
  return m;
}

TEST(golden, fetch_response_v4) {
  auto m = fetch_response_sample(4);
  expect_golden(m, 4,
                hex("00000000"            // throttle_time_ms: 0
                    "00000001"            // responses: 1 element
                    "0001 74"             //   topic: "t"
                    "00000001"            //   partitions: 1 element
                    "00000000"            //     partition_index: 0
                    "0000"                //     error_code: 0
                    "00000000 0000000a"   //     high_watermark: 10
                    "00000000 0000000a"   //     last_stable_offset: 10 (v4+)
                    "ffffffff"            //     aborted_transactions: null (v4+)
                    "00000003 010203"));  //     records: 3 bytes
}

TEST(golden, fetch_response_v18) {
  auto m = fetch_response_sample(18);
  auto& p = m.responses[0].partitions[0];
  p.log_start_offset = 0;
  p.aborted_transactions.emplace().push_back({.producer_id = 7, .first_offset = 3});
  p.current_leader = {.leader_id = 1, .leader_epoch = 4};
  expect_golden(m, 18,
                hex(std::string("00000000")              // throttle_time_ms: 0
                    + "0000"                             // error_code: 0 (v7+)
                    + "00000000"                         // session_id: 0 (v7+)
                    + "02" + std::string(test_uuid_hex)  // responses: 1 element; topic_id
                    + "02"                               //   partitions: 1 element
                    + "00000000"                         //     partition_index: 0
                    + "0000"                             //     error_code: 0
                    + "00000000 0000000a"                //     high_watermark: 10
                    + "00000000 0000000a"                //     last_stable_offset: 10
                    + "00000000 00000000"                //     log_start_offset: 0 (v5+)
                    + "02"                               //     aborted_transactions: 1 element
                    + "00000000 00000007"                //       producer_id: 7
                    + "00000000 00000003"                //       first_offset: 3
                    + "00"                               //       no tagged fields
                    + "ffffffff"                         //     preferred_read_replica: -1 (v11+)
                    + "04 010203"                        //     records: 3 bytes (compact)
                    + "01"                               //     1 tagged field:
                    + "01 09"                            //       tag 1 (current_leader), 9 bytes:
                    + "00000001 00000004"                //       leader_id 1, leader_epoch 4
                    + "00"                               //       no tagged fields in the struct
                    + "00"                               //   no tagged fields
                    + "00"));                            // no tagged fields
}

TEST(golden, fetch_response_records_are_not_copied) {
  auto m = fetch_response_sample(4);
  writer w;
  ASSERT_TRUE(m.encode(w, 4));
  auto encoded = std::move(w).finish();
  ASSERT_EQ(encoded.externals.size(), 1u);
  // The chunk goes right after the records' int32 length, at the end of the in-memory bytes.
  EXPECT_EQ(encoded.externals[0].offset, encoded.bytes.size());
  const auto& chunk = std::get<memory_range>(encoded.externals[0].source);
  EXPECT_EQ(chunk.data.data(), record_bytes.data());
  EXPECT_EQ(encoded.total_size(), encoded.bytes.size() + record_bytes.size());
}

// ----------------------------------------------------------------------------------------------
// Metadata

TEST(golden, metadata_request_v0) {
  metadata_request m;
  m.topics.emplace().emplace_back().name = "t";
  expect_golden(m, 0,
                hex("00000001"    // topics: 1 element (null is not allowed before v1)
                    "0001 74"));  //   name: "t"
}

TEST(golden, metadata_request_v0_cannot_ask_for_all_topics) {
  metadata_request m;
  m.topics.reset();
  writer w;
  EXPECT_FALSE(m.encode(w, 0));
  metadata_request decoded;
  EXPECT_FALSE(decode_message(decoded, hex("ffffffff"), 0));
}

TEST(golden, metadata_request_v13) {
  metadata_request m;
  auto& topic = m.topics.emplace().emplace_back();
  topic.topic_id = test_uuid();
  topic.name.reset();
  m.allow_auto_topic_creation = false;
  m.include_topic_authorized_operations = true;
  expect_golden(m, 13,
                hex("02" + std::string(test_uuid_hex)  // topics: 1 element; topic_id (v10+)
                    + "00"                             //   name: null (v10+)
                    + "00"                             //   no tagged fields
                    + "00"                             // allow_auto_topic_creation: false (v4+)
                    + "01"     // include_topic_authorized_operations: true (v8+)
                    + "00"));  // no tagged fields
}

TEST(golden, metadata_response_v0) {
  metadata_response m;
  m.brokers.push_back({.node_id = 1, .host = "h", .port = 9092});
  auto& topic = m.topics.emplace_back();
  topic.name = "t";
  auto& p = topic.partitions.emplace_back();
  p.leader_id = 1;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  m.brokers[0].rack.reset();
  expect_golden(m, 0,
                hex("00000001"              // brokers: 1 element
                    "00000001"              //   node_id: 1
                    "0001 68"               //   host: "h"
                    "00002384"              //   port: 9092
                    "00000001"              // topics: 1 element
                    "0000"                  //   error_code: 0
                    "0001 74"               //   name: "t"
                    "00000001"              //   partitions: 1 element
                    "0000"                  //     error_code: 0
                    "00000000"              //     partition_index: 0
                    "00000001"              //     leader_id: 1
                    "00000001 00000001"     //     replica_nodes: [1]
                    "00000001 00000001"));  //    isr_nodes: [1]
}

TEST(golden, metadata_response_v13) {
  metadata_response m;
  m.brokers.push_back({.node_id = 1, .host = "h", .port = 9092});
  m.brokers[0].rack.reset();
  m.cluster_id = "c";
  m.controller_id = 1;
  auto& topic = m.topics.emplace_back();
  topic.name = "t";
  topic.topic_id = test_uuid();
  auto& p = topic.partitions.emplace_back();
  p.leader_id = 1;
  p.leader_epoch = 0;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  expect_golden(m, 13,
                hex(std::string("00000000")       // throttle_time_ms: 0 (v3+)
                    + "02"                        // brokers: 1 element
                    + "00000001"                  //   node_id: 1
                    + "02 68"                     //   host: "h"
                    + "00002384"                  //   port: 9092
                    + "00"                        //   rack: null (v1+)
                    + "00"                        //   no tagged fields
                    + "02 63"                     // cluster_id: "c" (v2+)
                    + "00000001"                  // controller_id: 1 (v1+)
                    + "02"                        // topics: 1 element
                    + "0000"                      //   error_code: 0
                    + "02 74"                     //   name: "t"
                    + std::string(test_uuid_hex)  // topic_id (v10+)
                    + "00"                        //   is_internal: false (v1+)
                    + "02"                        //   partitions: 1 element
                    + "0000"                      //     error_code: 0
                    + "00000000"                  //     partition_index: 0
                    + "00000001"                  //     leader_id: 1
                    + "00000000"                  //     leader_epoch: 0 (v7+)
                    + "02 00000001"               //     replica_nodes: [1]
                    + "02 00000001"               //     isr_nodes: [1]
                    + "01"                        //     offline_replicas: [] (v5+)
                    + "00"                        //     no tagged fields
                    + "80000000"                  //   topic_authorized_operations: INT32_MIN (v8+)
                    + "00"                        //   no tagged fields
                    + "0000"                      // error_code: 0 (v13+)
                    + "00"));                     // no tagged fields
}

// ----------------------------------------------------------------------------------------------
// ApiVersions

TEST(golden, api_versions_request_v0) {
  api_versions_request m;
  expect_golden(m, 0, {});  // no fields at all before v3
}

TEST(golden, api_versions_request_v4) {
  api_versions_request m;
  m.client_software_name = "k";
  m.client_software_version = "1";
  expect_golden(m, 4,
                hex("02 6b"  // client_software_name: "k"
                    "02 31"  // client_software_version: "1"
                    "00"));  // no tagged fields
}

TEST(golden, api_versions_response_v0) {
  api_versions_response m;
  m.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 4});
  expect_golden(m, 0,
                hex("0000"      // error_code: 0
                    "00000001"  // api_keys: 1 element
                    "0012"      //   api_key: 18
                    "0000"      //   min_version: 0
                    "0004"));   //   max_version: 4
}

TEST(golden, api_versions_response_v4) {
  api_versions_response m;
  m.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 4});
  m.supported_features.push_back({.name = "f", .min_version = 0, .max_version = 1});
  m.finalized_features_epoch = 5;
  expect_golden(m, 4,
                hex("0000"                  // error_code: 0
                    "02"                    // api_keys: 1 element
                    "0012 0000 0004"        //   api_key 18, versions 0-4
                    "00"                    //   no tagged fields
                    "00000000"              // throttle_time_ms: 0 (v1+)
                    "02"                    // 2 tagged fields:
                    "00 08"                 //   tag 0 (supported_features), 8 bytes:
                    "02"                    //   1 element
                    "02 66"                 //     name: "f"
                    "0000 0001"             //     min_version 0, max_version 1
                    "00"                    //     no tagged fields
                    "01 08"                 //   tag 1 (finalized_features_epoch), 8 bytes:
                    "00000000 00000005"));  // 5
}

TEST(golden, unknown_tagged_fields_survive_a_round_trip) {
  const auto bytes =
      hex("02 6b"     // client_software_name: "k"
          "02 31"     // client_software_version: "1"
          "02"        // 2 tagged fields, neither known:
          "05 01 aa"  //   tag 5, 1 byte
          "09 00");   //   tag 9, empty
  api_versions_request m;
  ASSERT_TRUE(decode_message(m, bytes, 3));
  ASSERT_EQ(m.unknown_tags.size(), 2u);
  EXPECT_EQ(m.unknown_tags.fields[0], (raw_tagged_field{5, {0xaa}}));
  EXPECT_EQ(m.unknown_tags.fields[1], (raw_tagged_field{9, {}}));
  writer w;
  ASSERT_TRUE(m.encode(w, 3));
  EXPECT_EQ(*std::move(w).finish().flatten(), bytes);
}

TEST(golden, unknown_tags_follow_the_known_ones) {
  api_versions_response m;
  m.finalized_features_epoch = 1;                // tag 1
  m.zk_migration_ready = true;                   // tag 3
  m.unknown_tags.fields.push_back({7, {0x07}});  // tag 7, unknown to us
  expect_golden(m, 3,
                hex("0000"                     // error_code: 0
                    "01"                       // api_keys: empty
                    "00000000"                 // throttle_time_ms: 0
                    "03"                       // 3 tagged fields:
                    "01 08 00000000 00000001"  //   tag 1: finalized_features_epoch 1
                    "03 01 01"                 //   tag 3: zk_migration_ready true
                    "07 01 07"));              //   tag 7: unknown, 1 byte
}

TEST(golden, an_unknown_field_with_a_known_tag_is_an_encode_error) {
  api_versions_response m;
  m.unknown_tags.fields.push_back({2, {}});  // tag 2 is finalized_features at v3
  writer w;
  EXPECT_FALSE(m.encode(w, 3));
}

}  // namespace
}  // namespace sluice::protocol
