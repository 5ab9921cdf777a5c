#pragma once

// Effective configuration values and their provenance, for DescribeConfigs, for CreateTopics v5+
// (the configs of the topic just created) and for the storage layer (a partition log's settings).
//
// A topic key's value comes from, highest precedence first (config/topic_config_catalogue.h):
// the topic's override; each broker synonym in order from the dynamic per-broker value, the
// dynamic cluster-wide default, the static server.properties value; the broker synonym's default;
// Kafka's default for the topic key. Times given in minutes or hours are converted to ms.
//
// Pure functions of an image and the static broker config: safe on any shard.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/image.h"
#include "config/broker_config.h"

namespace sluice::cluster {

// Where a value comes from. The handler maps these to Kafka's ConfigSource numbers
// (DYNAMIC_TOPIC_CONFIG 1, DYNAMIC_BROKER_CONFIG 2, DYNAMIC_DEFAULT_BROKER_CONFIG 3,
// STATIC_BROKER_CONFIG 4, DEFAULT_CONFIG 5).
enum class config_source {
  topic_override,
  dynamic_broker,
  dynamic_default_broker,
  static_broker,
  default_value
};

struct config_synonym {
  std::string name;
  std::optional<std::string> value;
  config_source source;
};

struct described_config {
  std::string name;
  std::optional<std::string> value;  // null when the key has no value (or is sensitive)
  config_source source = config_source::default_value;
  bool read_only = false;
  bool sensitive = false;
  config::config_type type = config::config_type::string;
  std::string_view documentation;
  // Every place a value is set for this key, highest precedence first; the first is the one in
  // effect. Filled only when synonyms are asked for.
  std::vector<config_synonym> synonyms;
};

struct describe_options {
  std::span<const std::string> keys;  // empty: every key
  bool include_synonyms = false;
};

class config_resolver {
 public:
  // `current` and `static_config` must outlive the resolver.
  config_resolver(const image& current, const config::broker_config& static_config);

  // The topic configs given `overrides` (a topic's own, or those of a topic being created).
  // Requested keys that are not topic configs are left out, as Kafka does.
  std::vector<described_config> describe_topic(const config_map& overrides,
                                               const describe_options& options) const;
  // Every topic key's effective value as text, for the storage layer's log config.
  config_map effective_topic_configs(const config_map& overrides) const;

  // The broker resource: `resource_name` is this node's id (every broker key with its source)
  // or "" (only the dynamic cluster-wide defaults). Fails with invalid_request for another id.
  cresult<std::vector<described_config>> describe_broker(std::string_view resource_name,
                                                         const describe_options& options) const;

 private:
  const image& _image;
  const config::broker_config& _static;
  std::string _node_name;  // this node's id in decimal: its dynamic config resource name
};

// True for broker keys AlterConfigs may change at run time: for now, the broker synonyms of topic
// configs (log.retention.ms, log.segment.bytes, message.max.bytes, ...), which is what clusters
// mostly change dynamically. Other keys need a restart with a new server.properties.
bool is_dynamic_broker_config(std::string_view key);

}  // namespace sluice::cluster
