#pragma once

// The topic-level configuration keys (Kafka's names, types, defaults and validation) and, for
// each, the broker keys that provide its value when a topic has no override of its own
// ("synonyms": retention.ms <- log.retention.ms, log.retention.minutes, log.retention.hours).
//
// Precedence of a topic's effective value, highest first (ARCHITECTURE decision 9):
//   1. the topic's own override (metadata log),
//   2. the broker synonyms in the order listed, each from: dynamic per-broker value, dynamic
//      cluster-wide default, static server.properties value,
//   3. Kafka's default for the topic key.
// The resolution itself lives with the metadata image (cluster/config_resolver.h), which holds
// the dynamic values; this file only states the facts.
//
// The catalogue is constant data, safe to read from every thread.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/broker_config.h"

namespace sluice::config {

// How a broker synonym's value converts to the topic key's unit.
enum class synonym_unit { same, minutes_to_ms, hours_to_ms };

struct broker_synonym {
  std::string_view name;
  synonym_unit unit = synonym_unit::same;
};

struct topic_config_def {
  // name, type, Kafka's default, bounds, allowed values (each list element must be one of them),
  // status (`accepted`: Kafka knows the key, Sluice stores it but does not act on it) and doc.
  config_def def;
  // Broker keys that provide the value when the topic has no override, in Kafka's order of
  // precedence. Empty when Kafka has no broker-level default for the key.
  std::span<const broker_synonym> synonyms;
};

// Every topic key, sorted by name.
std::span<const topic_config_def> topic_config_defs();
// nullptr when `name` is not a topic config key.
const topic_config_def* find_topic_config(std::string_view name);

// Checks one value against its key: type, bounds, allowed values, and the few rules Kafka has
// beyond a range (compression.gzip.level is -1 or 1..9).
result<config_value, config_error> validate_topic_config(const topic_config_def& def,
                                                         std::string_view text);

// Checks a topic's complete set of overrides: every key known, every value valid, and the rules
// between keys (min.compaction.lag.ms <= max.compaction.lag.ms). Values are text as stored.
result<void, config_error> validate_topic_overrides(
    const std::map<std::string, std::string, std::less<>>& overrides);

// The value of a broker synonym converted to the topic key's unit ("168" hours -> "604800000").
// A negative time stays -1 (Kafka's "unlimited"). `text` must be a valid value of the synonym.
std::string convert_synonym_value(const broker_synonym& synonym, std::string_view text);

// The value of a broker key as text when the static configuration (file or override) sets it,
// else std::nullopt. Lists are joined with ",".
std::optional<std::string> static_broker_value(const broker_config& config, std::string_view name);

// Kafka's text form of a value, for configs reported back to clients (true/false, decimal
// numbers, comma-joined lists).
std::string config_value_text(const config_value& value);

}  // namespace sluice::config
