#pragma once

// The records of __consumer_offsets, in Apache Kafka's formats so that the partition compacts by
// key as Kafka's does and Kafka's tools can read it (docs/format/consumer-offsets.md):
//
//   key   = int16 version, then the fields of that key version
//     0, 1  OffsetCommitKey   group string, topic string, partition int32
//     2     GroupMetadataKey  group string
//     (3+ are the records of KIP-848 consumer groups and share groups: skipped)
//   value = int16 version, then the fields; a null value (tombstone) deletes the key
//     OffsetCommitValue v0-v4 (written: v3; v1 when an expire timestamp is set)   offset, [leader
//     epoch v3+], metadata,
//                                             commit timestamp, [expire timestamp v1]
//     GroupMetadataValue v0-v4 (written: v3)  protocol type, generation, protocol, leader,
//                                             [state timestamp v2+], members
// Versions 4 are flexible (compact strings and bytes, tagged fields).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace sluice::coordinator {

using bytes = std::vector<uint8_t>;

struct offset_key {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const offset_key&) const = default;
};

struct offset_value {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
  int64_t expire_timestamp_ms = -1;  // only from v1 records (old clients' retention_time_ms)
  bool operator==(const offset_value&) const = default;
};

struct group_key {
  std::string group;
  auto operator<=>(const group_key&) const = default;
};

struct member_value {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = -1;
  int32_t session_timeout_ms = 0;
  bytes subscription;
  bytes assignment;
  bool operator==(const member_value&) const = default;
};

struct group_value {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp_ms = -1;
  std::vector<member_value> members;
  bool operator==(const group_value&) const = default;
};

inline constexpr int16_t offset_key_version = 1;
inline constexpr int16_t group_key_version = 2;
inline constexpr int16_t offset_value_version = 3;
inline constexpr int16_t group_value_version = 3;

bytes encode_key(const offset_key& key);
bytes encode_key(const group_key& key);
bytes encode_value(const offset_value& value);
bytes encode_value(const group_value& value);

// A decoded key: an offset commit, a group, or std::monostate for a key of another kind
// (consumer-protocol or share-group records), which loading skips.
using any_key = std::variant<std::monostate, offset_key, group_key>;

// nullopt when the bytes are not a well-formed key or value of a known version.
std::optional<any_key> decode_key(std::span<const uint8_t> data);
std::optional<offset_value> decode_offset_value(std::span<const uint8_t> data);
std::optional<group_value> decode_group_value(std::span<const uint8_t> data);

}  // namespace sluice::coordinator
