#pragma once

// controller: the only writer of the metadata log. It validates admin operations against the
// current image, appends exactly the records of the items that passed (one record group per
// item, so an item is durable whole or not at all), then publishes the next image.
//
// Every operation takes a list of items and returns one result per item, in the same order.
// Items are checked in order against the image as changed by the items before them, so two
// items in one request cannot create the same topic. With validate_only nothing is written or
// published, but the results are those a real run would give.
//
// Threading: all methods run on one thread (the controller's); other shards post to it and wait
// for the answer. append() blocks on fdatasync, so that thread should not be a shard serving
// clients. Readers use the image_publisher, never the controller.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/image.h"
#include "cluster/image_publisher.h"
#include "cluster/metadata_log.h"
#include "config/broker_config.h"

namespace sluice::cluster {

// The most partitions one topic may have. Kafka has no per-topic bound; ours keeps one request
// from creating more partition directories than a single node can hold open (each partition is
// a directory with at least three files). docs/format/metadata-log.md repeats it.
inline constexpr int32_t partitions_per_topic_max = 10000;

// The longest config value accepted. Kafka has no bound; ours keeps every record group far
// below metadata_batch_bytes_max whatever a request holds (the keys are bounded by the catalogue).
inline constexpr size_t config_value_bytes_max = 64 * 1024;

// The reserved name of the metadata log's own partition (KRaft's __cluster_metadata).
inline constexpr std::string_view metadata_topic_name = "__cluster_metadata";

struct replica_assignment {
  int32_t partition = 0;
  std::vector<int32_t> broker_ids;
};

// A config key and value as a request gives it; a null value is an error where Kafka says so.
struct config_entry {
  std::string key;
  std::optional<std::string> value;
};

struct new_topic {
  std::string name;
  int32_t num_partitions = -1;      // -1: num.partitions, or the number of assignments
  int16_t replication_factor = -1;  // -1: default.replication.factor, or from the assignments
  std::vector<replica_assignment> assignments;  // empty unless replicas are placed by hand
  std::vector<config_entry> configs;
};

struct created_topic {
  model::uuid topic_id;
  int32_t num_partitions = 0;
  int16_t replication_factor = 0;
  config_map configs;  // the topic's overrides, for CreateTopics v5+ (see config_resolver.h)
};

// DeleteTopics names a topic by name (v0-5) or by name or id (v6+): exactly one of the two.
struct topic_ref {
  std::optional<std::string> name;
  model::uuid id;  // zero when unset
};

struct removed_topic {
  std::string name;
  model::uuid topic_id;
};

struct partition_increase {
  std::string name;
  int32_t count = 0;  // the new total number of partitions
  // Replicas of each new partition, in order, or nullopt for automatic placement.
  std::optional<std::vector<std::vector<int32_t>>> assignments;
};

struct config_resource {
  config_resource_type type = config_resource_type::topic;
  // Topic name; for the broker the node id in decimal, or "" for the cluster-wide default.
  std::string name;
};

// AlterConfigs: the resource's overrides become exactly `entries`.
struct config_replacement {
  config_resource resource;
  std::vector<config_entry> entries;
};

// IncrementalAlterConfigs operations, with Kafka's numbers.
enum class config_op : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

struct config_alteration {
  std::string key;
  config_op op = config_op::set;
  std::optional<std::string> value;
};

struct config_change {
  config_resource resource;
  std::vector<config_alteration> alterations;
};

class controller {
 public:
  // `log`, `images` and `config` must outlive the controller.
  controller(metadata_log& log, image_publisher& images, const config::broker_config& config);

  // Replays the log into the first image and publishes it; call once before anything else.
  // Topics deleted in the log are queued for the cleaner (take_deleted_topics).
  cresult<void> start();

  std::vector<cresult<created_topic>> create_topics(const std::vector<new_topic>& topics,
                                                    bool validate_only);
  std::vector<cresult<removed_topic>> delete_topics(const std::vector<topic_ref>& topics);
  std::vector<cresult<void>> create_partitions(const std::vector<partition_increase>& increases,
                                               bool validate_only);
  std::vector<cresult<void>> alter_configs(const std::vector<config_replacement>& replacements,
                                           bool validate_only);
  std::vector<cresult<void>> incremental_alter_configs(const std::vector<config_change>& changes,
                                                       bool validate_only);

  // InitProducerId: a producer id never handed out before, across restarts too. Ids come from
  // a block of producer_id_block_size that a producer_ids record reserves durably, as Kafka's
  // brokers take blocks from the controller; ids of a block unused at a restart are skipped.
  cresult<int64_t> next_producer_id();
  static constexpr int32_t producer_id_block_size = 1000;

  // Topics deleted since the last call (or found deleted in the log at start), for the storage
  // layer's cleaner. Removing data that is already gone must be a no-op for the cleaner.
  std::vector<deleted_topic> take_deleted_topics();

  model::node_id node_id() const { return _node_id; }

 private:
  // One item's outcome before commit: the value to return and the records that make it true.
  template <typename T>
  struct planned {
    T value;
    record_group records;  // empty when the item changes nothing
  };

  // Runs `plan` for each item against a builder, applies the records of the items that pass,
  // then appends them all (unless validate_only) and publishes. A failed append fails every
  // item that had records.
  template <typename T, typename Item, typename Plan>
  std::vector<cresult<T>> run(const std::vector<Item>& items, bool validate_only, Plan&& plan);

  cresult<planned<created_topic>> plan_create(const new_topic& t, const image& current);
  cresult<std::vector<partition_record>> plan_replicas(const new_topic& t) const;
  cresult<planned<removed_topic>> plan_delete(const topic_ref& ref, const image& current);
  cresult<planned<bool>> plan_increase(const partition_increase& inc, const image& current);
  cresult<planned<bool>> plan_replace(const config_replacement& r, const image& current);
  cresult<planned<bool>> plan_change(const config_change& c, const image& current);
  cresult<void> check_replicas(const std::vector<int32_t>& broker_ids, int32_t partition,
                               std::optional<size_t> expected_count) const;
  cresult<config_map> current_overrides(const config_resource& resource,
                                        const image& current) const;
  cresult<void> validate_overrides(const config_resource& resource,
                                   const config_map& overrides) const;
  partition_record local_partition(int32_t partition) const;

  metadata_log& _log;
  image_publisher& _images;
  const config::broker_config& _config;
  model::node_id _node_id;
  std::vector<deleted_topic> _deleted;
  int64_t _producer_ids_next = 0;  // the unused part of this broker's block of producer ids
  int64_t _producer_ids_end = 0;
  // Set when an append failed after the log had moved: no more writes until restart.
  bool _log_failed = false;
};

// Kafka's topic name rules: 1 to 249 characters from [a-zA-Z0-9._-], not "." or "..". The
// message says which rule failed.
cresult<void> validate_topic_name(std::string_view name);

}  // namespace sluice::cluster
