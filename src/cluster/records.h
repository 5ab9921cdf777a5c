#pragma once

// The records of the metadata log (docs/format/metadata-log.md). Each is one record of a Kafka
// record batch v2: key = {record type int16, version int16} big-endian, value = the record's
// fields in the compact encoding the format page specifies. Records are replayed in offset order
// into the metadata image (cluster/image.h).

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cluster/error.h"
#include "model/model.h"

namespace sluice::cluster {

// Kafka's ConfigResource type numbers, so that the value is the one on the wire.
enum class config_resource_type : int8_t { topic = 2, broker = 4 };

// Record type numbers. Never reuse a number; add new types at the end.
enum class record_type : int16_t {
  topic = 1,
  partitions_added = 2,
  topic_deleted = 3,
  config_set = 4,
  config_removed = 5,
  producer_ids = 6,
};

// The version each type is written with. A reader rejects a higher version (a log written by a
// newer Sluice) instead of misreading it.
inline constexpr int16_t record_version_current = 0;

struct partition_record {
  model::partition_id partition;
  std::vector<model::node_id> replicas;
  std::vector<model::node_id> isr;
  model::node_id leader;
  model::leader_epoch leader_epoch;
  bool operator==(const partition_record&) const = default;
};

// A topic came into existence with these partitions.
struct topic_record {
  std::string name;
  model::uuid topic_id;
  std::vector<partition_record> partitions;
  bool operator==(const topic_record&) const = default;
};

// Partitions appended to an existing topic (CreatePartitions); they continue its numbering.
struct partitions_added_record {
  model::uuid topic_id;
  std::vector<partition_record> partitions;
  bool operator==(const partitions_added_record&) const = default;
};

// The topic is gone from the image; its data is removed later by the storage layer. The name is
// carried so that a cleaner and a human reading the log need no earlier record.
struct topic_deleted_record {
  model::uuid topic_id;
  std::string name;
  bool operator==(const topic_deleted_record&) const = default;
};

// A config override. For a topic, resource_name is the topic name; for the broker it is the
// node id in decimal, or "" for the cluster-wide default.
struct config_set_record {
  config_resource_type resource_type = config_resource_type::topic;
  std::string resource_name;
  std::string key;
  std::string value;
  bool operator==(const config_set_record&) const = default;
};

struct config_removed_record {
  config_resource_type resource_type = config_resource_type::topic;
  std::string resource_name;
  std::string key;
  bool operator==(const config_removed_record&) const = default;
};

// Producer ids below `next_producer_id` are handed out: a broker took the block that ends there
// (InitProducerId), so none is ever given twice, across restarts too.
struct producer_ids_record {
  model::node_id node;
  int64_t next_producer_id = 0;
  bool operator==(const producer_ids_record&) const = default;
};

using metadata_record = std::variant<topic_record, partitions_added_record, topic_deleted_record,
                                     config_set_record, config_removed_record, producer_ids_record>;

record_type type_of(const metadata_record& record);

// A record and the offset it has in the log.
struct logged_record {
  model::offset offset;
  metadata_record record;
};

// The 4-byte key and the value of one record.
std::vector<uint8_t> encode_key(const metadata_record& record);
std::vector<uint8_t> encode_value(const metadata_record& record);
// Fails with log_corrupt for an unknown type, a newer version or a value that does not decode.
cresult<metadata_record> decode_record(std::span<const uint8_t> key,
                                       std::span<const uint8_t> value);

// One uncompressed v2 batch holding `records` (at least one) at offsets base, base+1, ...
std::vector<uint8_t> encode_batch(model::offset base, std::span<const metadata_record> records,
                                  int64_t timestamp_ms);
// Decodes every record of one whole batch. The caller has checked the CRC: bytes that fail to
// decode here are not a torn write but an incompatible or buggy writer (log_corrupt).
cresult<std::vector<logged_record>> decode_batch(std::span<const uint8_t> batch);

// The largest metadata batch: the writer asserts it, readers refuse larger ones. Far above what
// one request can produce (partitions_per_topic_max bounds the largest record).
inline constexpr size_t metadata_batch_bytes_max = size_t{32} << 20;

}  // namespace sluice::cluster
