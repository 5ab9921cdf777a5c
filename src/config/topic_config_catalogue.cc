// The topic configuration keys of Apache Kafka 4.x with their types, defaults, validation and
// broker synonyms (see topic_config_catalogue.h for the precedence rules).

#include "config/topic_config_catalogue.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>

namespace sluice::config {

namespace {

using t = config_type;
constexpr auto accepted = key_status::accepted;
constexpr auto active = key_status::active;
constexpr int64_t i32_max = INT32_MAX;
constexpr int64_t i64_max = INT64_MAX;

constexpr std::array<std::string_view, 2> cleanup_policies = {"compact", "delete"};
constexpr std::array<std::string_view, 6> compression_types = {"uncompressed", "zstd", "lz4",
                                                               "snappy",       "gzip", "producer"};
constexpr std::array<std::string_view, 2> timestamp_types = {"CreateTime", "LogAppendTime"};

template <size_t n>
using synonyms = std::array<broker_synonym, n>;

constexpr synonyms<1> cleanup_policy_syn = {{{"log.cleanup.policy"}}};
constexpr synonyms<1> gzip_level_syn = {{{"compression.gzip.level"}}};
constexpr synonyms<1> lz4_level_syn = {{{"compression.lz4.level"}}};
constexpr synonyms<1> compression_type_syn = {{{"compression.type"}}};
constexpr synonyms<1> zstd_level_syn = {{{"compression.zstd.level"}}};
constexpr synonyms<1> delete_retention_syn = {{{"log.cleaner.delete.retention.ms"}}};
constexpr synonyms<1> file_delete_delay_syn = {{{"log.segment.delete.delay.ms"}}};
constexpr synonyms<1> flush_messages_syn = {{{"log.flush.interval.messages"}}};
constexpr synonyms<2> flush_ms_syn = {
    {{"log.flush.interval.ms"}, {"log.flush.scheduler.interval.ms"}}};
constexpr synonyms<1> index_interval_syn = {{{"log.index.interval.bytes"}}};
constexpr synonyms<1> max_compaction_lag_syn = {{{"log.cleaner.max.compaction.lag.ms"}}};
constexpr synonyms<1> max_message_bytes_syn = {{{"message.max.bytes"}}};
constexpr synonyms<1> downconversion_syn = {{{"log.message.downconversion.enable"}}};
constexpr synonyms<1> ts_after_syn = {{{"log.message.timestamp.after.max.ms"}}};
constexpr synonyms<1> ts_before_syn = {{{"log.message.timestamp.before.max.ms"}}};
constexpr synonyms<1> ts_type_syn = {{{"log.message.timestamp.type"}}};
constexpr synonyms<1> dirty_ratio_syn = {{{"log.cleaner.min.cleanable.ratio"}}};
constexpr synonyms<1> min_compaction_lag_syn = {{{"log.cleaner.min.compaction.lag.ms"}}};
constexpr synonyms<1> min_isr_syn = {{{"min.insync.replicas"}}};
constexpr synonyms<1> preallocate_syn = {{{"log.preallocate"}}};
constexpr synonyms<1> retention_bytes_syn = {{{"log.retention.bytes"}}};
constexpr synonyms<3> retention_ms_syn = {{{"log.retention.ms"},
                                           {"log.retention.minutes", synonym_unit::minutes_to_ms},
                                           {"log.retention.hours", synonym_unit::hours_to_ms}}};
constexpr synonyms<1> segment_bytes_syn = {{{"log.segment.bytes"}}};
constexpr synonyms<1> segment_index_syn = {{{"log.index.size.max.bytes"}}};
constexpr synonyms<2> segment_jitter_syn = {
    {{"log.roll.jitter.ms"}, {"log.roll.jitter.hours", synonym_unit::hours_to_ms}}};
constexpr synonyms<2> segment_ms_syn = {
    {{"log.roll.ms"}, {"log.roll.hours", synonym_unit::hours_to_ms}}};
constexpr synonyms<1> unclean_syn = {{{"unclean.leader.election.enable"}}};

constexpr config_def def(std::string_view name, config_type type, std::string_view value,
                         int64_t min, int64_t max, key_status status, std::string_view doc,
                         std::span<const std::string_view> allowed = {}) {
  return config_def{name, type, value, min, max, allowed, status, doc};
}

// Kept sorted by name so that lookups can binary-search.
constexpr topic_config_def defs[] = {
    {def("cleanup.policy", t::list, "delete", 0, 0, active,
         "delete: drop old segments by time or size; compact: keep the last value per key.",
         cleanup_policies),
     cleanup_policy_syn},
    {def("compression.gzip.level", t::int32, "-1", -1, 9, accepted,
         "gzip level when compression.type is gzip; -1 for the codec default."),
     gzip_level_syn},
    {def("compression.lz4.level", t::int32, "9", 1, 17, accepted,
         "lz4 level when compression.type is lz4."),
     lz4_level_syn},
    {def("compression.type", t::string, "producer", 0, 0, active,
         "Final compression of the topic's data; producer keeps what the producer sent.",
         compression_types),
     compression_type_syn},
    {def("compression.zstd.level", t::int32, "3", -131072, 22, accepted,
         "zstd level when compression.type is zstd."),
     zstd_level_syn},
    {def("delete.retention.ms", t::int64, "86400000", 0, i64_max, active,
         "How long tombstones stay in a compacted topic."),
     delete_retention_syn},
    {def("file.delete.delay.ms", t::int64, "60000", 0, i64_max, active,
         "Delay before a deleted segment's files are removed."),
     file_delete_delay_syn},
    {def("flush.messages", t::int64, "9223372036854775807", 1, i64_max, active,
         "fsync after this many messages."),
     flush_messages_syn},
    {def("flush.ms", t::int64, "9223372036854775807", 0, i64_max, active,
         "fsync after this many milliseconds."),
     flush_ms_syn},
    {def("index.interval.bytes", t::int32, "4096", 0, i32_max, active,
         "Bytes of log between two offset index entries."),
     index_interval_syn},
    {def("max.compaction.lag.ms", t::int64, "9223372036854775807", 1, i64_max, active,
         "Longest time a message stays uncompacted."),
     max_compaction_lag_syn},
    {def("max.message.bytes", t::int32, "1048588", 0, i32_max, active,
         "Largest record batch the topic accepts."),
     max_message_bytes_syn},
    {def("message.downconversion.enable", t::boolean, "true", 0, 0, accepted,
         "Deprecated no-op in Kafka 4 (no down-conversion); accepted for old tools."),
     downconversion_syn},
    {def("message.timestamp.after.max.ms", t::int64, "3600000", 0, i64_max, active,
         "How far in the future a CreateTime timestamp may be."),
     ts_after_syn},
    {def("message.timestamp.before.max.ms", t::int64, "9223372036854775807", 0, i64_max, active,
         "How far in the past a CreateTime timestamp may be."),
     ts_before_syn},
    {def("message.timestamp.type", t::string, "CreateTime", 0, 0, active,
         "CreateTime keeps the producer's timestamps; LogAppendTime stamps on append.",
         timestamp_types),
     ts_type_syn},
    {def("min.cleanable.dirty.ratio", t::float64, "0.5", 0, 1, active,
         "Share of the log that must be dirty before it is compacted."),
     dirty_ratio_syn},
    {def("min.compaction.lag.ms", t::int64, "0", 0, i64_max, active,
         "Shortest time a message stays uncompacted."),
     min_compaction_lag_syn},
    {def("min.insync.replicas", t::int32, "1", 1, i32_max, active,
         "Replicas that must acknowledge an acks=all write."),
     min_isr_syn},
    {def("preallocate", t::boolean, "false", 0, 0, accepted,
         "Preallocate segment files on creation."),
     preallocate_syn},
    {def("retention.bytes", t::int64, "-1", INT64_MIN, i64_max, active,
         "Size above which old segments are deleted; -1 for no limit."),
     retention_bytes_syn},
    {def("retention.ms", t::int64, "604800000", -1, i64_max, active,
         "Age after which old segments are deleted; -1 for no limit."),
     retention_ms_syn},
    {def("segment.bytes", t::int32, "1073741824", 1048576, i32_max, active,
         "Size at which a new segment is rolled."),
     segment_bytes_syn},
    {def("segment.index.bytes", t::int32, "10485760", 4, i32_max, active,
         "Size of a segment's offset and time index files."),
     segment_index_syn},
    {def("segment.jitter.ms", t::int64, "0", 0, i64_max, accepted,
         "Random jitter subtracted from segment.ms."),
     segment_jitter_syn},
    {def("segment.ms", t::int64, "604800000", 1, i64_max, active,
         "Age at which a new segment is rolled."),
     segment_ms_syn},
    {def("unclean.leader.election.enable", t::boolean, "false", 0, 0, accepted,
         "Elect an out-of-sync replica as leader (cluster mode)."),
     unclean_syn},
};

constexpr bool defs_sorted() {
  for (size_t i = 1; i < std::size(defs); ++i)
    if (!(defs[i - 1].def.name < defs[i].def.name)) return false;
  return true;
}
static_assert(defs_sorted(), "keep the topic catalogue sorted by name");

failure<config_error> invalid(std::string_view name, std::string_view text, std::string_view why) {
  return failure(
      config_error{fmt::format("Invalid value '{}' for configuration '{}': {}", text, name, why)});
}

}  // namespace

std::span<const topic_config_def> topic_config_defs() {
  return defs;
}

const topic_config_def* find_topic_config(std::string_view name) {
  auto it = std::lower_bound(
      std::begin(defs), std::end(defs), name,
      [](const topic_config_def& d, std::string_view n) { return d.def.name < n; });
  return (it != std::end(defs) && it->def.name == name) ? &*it : nullptr;
}

result<config_value, config_error> validate_topic_config(const topic_config_def& tdef,
                                                         std::string_view text) {
  const config_def& d = tdef.def;
  auto parsed = parse_config_value(d, text);
  if (!parsed) return parsed;
  if (d.type == config_type::list && !d.allowed.empty()) {
    for (const auto& item : std::get<std::vector<std::string>>(*parsed)) {
      if (std::find(d.allowed.begin(), d.allowed.end(), item) == d.allowed.end()) {
        return invalid(d.name, text,
                       fmt::format("allowed values are {}", fmt::join(d.allowed, ", ")));
      }
    }
  }
  if (d.name == "compression.gzip.level" && std::get<int64_t>(*parsed) == 0)
    return invalid(d.name, text, "the level is -1 or between 1 and 9");
  return parsed;
}

result<void, config_error> validate_topic_overrides(
    const std::map<std::string, std::string, std::less<>>& overrides) {
  for (const auto& [key, text] : overrides) {
    const topic_config_def* tdef = find_topic_config(key);
    if (tdef == nullptr)
      return failure(config_error{fmt::format("Unknown topic config name: {}", key)});
    auto parsed = validate_topic_config(*tdef, text);
    if (!parsed) return failure(parsed.error());
  }
  // Kafka checks this pair only when both are overridden on the topic.
  auto min_lag = overrides.find("min.compaction.lag.ms");
  auto max_lag = overrides.find("max.compaction.lag.ms");
  if (min_lag != overrides.end() && max_lag != overrides.end() &&
      std::strtoll(min_lag->second.c_str(), nullptr, 10) >
          std::strtoll(max_lag->second.c_str(), nullptr, 10)) {
    return failure(config_error{
        fmt::format("min.compaction.lag.ms ({}) must not be greater than max.compaction.lag.ms "
                    "({})",
                    min_lag->second, max_lag->second)});
  }
  return {};
}

std::string convert_synonym_value(const broker_synonym& synonym, std::string_view text) {
  if (synonym.unit == synonym_unit::same) return std::string(text);
  int64_t v = std::strtoll(std::string(text).c_str(), nullptr, 10);
  if (v < 0) return "-1";
  int64_t factor = synonym.unit == synonym_unit::minutes_to_ms ? 60'000 : 3'600'000;
  return std::to_string(v * factor);  // the synonyms are int32, so this cannot overflow
}

std::string config_value_text(const config_value& value) {
  struct visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<std::string>& l) const {
      return fmt::format("{}", fmt::join(l, ","));
    }
  };
  return std::visit(visitor{}, value);
}

std::optional<std::string> static_broker_value(const broker_config& config, std::string_view name) {
  const config_def* d = find_broker_config(name);
  if (d == nullptr || !config.is_set(name) || config.is_null(name)) return std::nullopt;
  switch (d->type) {
    case config_type::boolean:
      return config_value_text(config.get_bool(name));
    case config_type::int32:
    case config_type::int64:
      return config_value_text(config.get_int(name));
    case config_type::float64:
      return config_value_text(config.get_double(name));
    case config_type::list:
      return config_value_text(config.get_list(name));
    case config_type::string:
    case config_type::password:
      return config.get_string(name);
  }
  return std::nullopt;
}

}  // namespace sluice::config
