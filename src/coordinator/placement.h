#pragma once

// Which partition of __consumer_offsets coordinates a group, as Kafka computes it:
// Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions, where hashCode is Java's
// String.hashCode over the UTF-16 code units of the id and Utils.abs maps INT_MIN to 0.

#include <cstdint>
#include <string_view>

namespace sluice::coordinator {

inline constexpr std::string_view offsets_topic = "__consumer_offsets";

// Java's String.hashCode of `utf8` decoded as Java decodes UTF-8 (malformed bytes become
// U+FFFD; code points above U+FFFF count as two surrogates).
int32_t java_string_hash(std::string_view utf8);

// Kafka's Utils.abs: |n|, and 0 for INT32_MIN.
inline int32_t kafka_abs(int32_t n) {
  return n == INT32_MIN ? 0 : (n < 0 ? -n : n);
}

// `partitions` > 0.
int32_t partition_for_group(std::string_view group_id, int32_t partitions);

}  // namespace sluice::coordinator
