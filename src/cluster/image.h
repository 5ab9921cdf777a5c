#pragma once

// The metadata image: everything the metadata log says, as of one offset, as an immutable value
// (ARCHITECTURE decision 4: "Metadata is an immutable image published by pointer swap"). Every
// shard reads the current image without locks (image_publisher.h); the controller builds the
// next one with an image_builder and publishes it after its records are durable.
//
// Topics are held by shared_ptr<const topic_info> so that a new image shares every topic the
// change did not touch with the image before it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/error.h"
#include "cluster/records.h"
#include "model/model.h"

namespace sluice::cluster {

// Config overrides by key. std::less<> so that lookups take a string_view.
using config_map = std::map<std::string, std::string, std::less<>>;

struct topic_info {
  std::string name;
  model::uuid id;
  std::vector<partition_record> partitions;  // partitions[i].partition == i
  config_map configs;                        // the topic's own overrides only

  int32_t partition_count() const { return static_cast<int32_t>(partitions.size()); }
  // Kafka's internal topics: __consumer_offsets and __transaction_state.
  bool is_internal() const;
};

using topic_ptr = std::shared_ptr<const topic_info>;

// A topic that was deleted; its partition directories are for the storage layer to remove.
// Match data by `id` (partition.metadata), not by name: a new topic may reuse the name.
struct deleted_topic {
  model::uuid id;
  std::string name;
  int32_t partition_count = 0;
  model::offset offset;  // of the topic_deleted record
};

class image {
 public:
  // The offset of the last record applied; -1 for the empty image.
  model::offset offset() const { return _offset; }

  // Topics by name, sorted (DescribeTopicPartitions pages through them in name order).
  const std::map<std::string, topic_ptr, std::less<>>& topics() const { return _by_name; }
  topic_ptr find_topic(std::string_view name) const;
  topic_ptr find_topic(const model::uuid& id) const;
  // The existing topic whose name equals `name` once '.' and '_' are treated as the same
  // character (Kafka refuses such pairs: their metric names collide), or nullptr.
  topic_ptr find_colliding_topic(std::string_view name) const;
  size_t partition_count() const { return _partition_count; }
  // The first producer id no broker has taken yet (InitProducerId).
  int64_t next_producer_id() const { return _next_producer_id; }

  // Dynamic broker configs by resource name: "" for the cluster-wide default, the node id in
  // decimal for one broker. An empty map when none are set.
  const config_map& broker_configs(std::string_view resource_name) const;
  const std::map<std::string, config_map, std::less<>>& all_broker_configs() const {
    return _broker_configs;
  }

 private:
  friend class image_builder;

  model::offset _offset{-1};
  std::map<std::string, topic_ptr, std::less<>> _by_name;
  std::unordered_map<model::uuid, topic_ptr> _by_id;
  std::map<std::string, std::string, std::less<>> _collision_index;  // normalized -> name
  std::map<std::string, config_map, std::less<>> _broker_configs;
  size_t _partition_count = 0;
  int64_t _next_producer_id = 0;
};

// The name with every '.' replaced by '_', the key of the collision rule.
std::string normalized_topic_name(std::string_view name);

// Applies records to a copy of an image. Used by replay at start and by the controller, which
// applies each item's records as it validates the next item, so later items see earlier ones.
// Not thread-safe; the image it was built from is not changed.
class image_builder {
 public:
  image_builder() = default;
  explicit image_builder(const image& base) : _image(base) {}

  // Applies one record at its offset. A record that contradicts the image (a topic created
  // twice, an unknown topic id, an offset that does not increase) fails with log_corrupt: the
  // controller never writes one, so the log is damaged or was written by someone else.
  cresult<void> apply(const logged_record& record);

  // The state so far, for validating the next change.
  const image& current() const { return _image; }
  // Topics deleted by the records applied so far, in offset order.
  const std::vector<deleted_topic>& deleted() const { return _deleted; }

  std::shared_ptr<const image> build() && {
    return std::make_shared<const image>(std::move(_image));
  }

 private:
  cresult<void> apply_topic(const topic_record& r);
  cresult<void> apply_partitions(const partitions_added_record& r);
  cresult<void> apply_delete(const topic_deleted_record& r, model::offset offset);
  cresult<void> apply_config(config_resource_type type, const std::string& name,
                             const std::string& key, const std::string* value);
  void put(topic_ptr topic);

  image _image;
  std::vector<deleted_topic> _deleted;
};

}  // namespace sluice::cluster
