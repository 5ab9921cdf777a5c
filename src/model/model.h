#pragma once

// The nouns every layer shares: offsets, epochs, ids and the topic-partition pair. Strong types
// so that an offset cannot be passed where a leader epoch belongs.

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "base/named_type.h"

namespace sluice::model {

using offset = named_type<int64_t, struct offset_tag>;
using leader_epoch = named_type<int32_t, struct leader_epoch_tag>;
using partition_id = named_type<int32_t, struct partition_id_tag>;
using node_id = named_type<int32_t, struct node_id_tag>;
using producer_id = named_type<int64_t, struct producer_id_tag>;
using producer_epoch = named_type<int16_t, struct producer_epoch_tag>;
using timestamp_ms = named_type<int64_t, struct timestamp_ms_tag>;

// A 128-bit Kafka UUID (topic ids, cluster ids). All-zero is Kafka's "no id".
struct uuid {
  std::array<uint8_t, 16> bytes{};

  bool is_zero() const;
  // Kafka prints UUIDs as URL-safe base64 without padding (22 characters).
  std::string to_base64() const;
  static bool from_base64(const std::string& text, uuid& out);
  static uuid random();
  auto operator<=>(const uuid&) const = default;
};

struct topic_partition {
  std::string topic;
  partition_id partition;
  auto operator<=>(const topic_partition&) const = default;
};

}  // namespace sluice::model

template <>
struct std::hash<sluice::model::uuid> {
  std::size_t operator()(const sluice::model::uuid& u) const noexcept;
};

template <>
struct std::hash<sluice::model::topic_partition> {
  std::size_t operator()(const sluice::model::topic_partition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + std::hash<int32_t>{}(tp.partition.value());
  }
};
