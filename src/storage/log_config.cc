#include "storage/log_config.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

namespace sluice::storage {

namespace {

template <typename T>
bool parse_integer(const std::string& text, T& out, T min) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < min) return false;
  out = value;
  return true;
}

bool parse_ratio(const std::string& text, double& out) {
  try {
    size_t used = 0;
    double value = std::stod(text, &used);
    if (used != text.size() || value < 0 || value > 1) return false;
    out = value;
    return true;
  } catch (...) {
    return false;
  }
}

bool parse_policy(const std::string& text, log_config& config) {
  bool del = false;
  bool compact = false;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "delete") {
      del = true;
    } else if (item == "compact") {
      compact = true;
    } else {
      return false;
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (!del && !compact) return false;
  config.cleanup_delete = del;
  config.cleanup_compact = compact;
  return true;
}

bool apply_one(log_config& c, const std::string& key, const std::string& value, bool& known) {
  known = true;
  if (key == "segment.bytes") return parse_integer<uint64_t>(value, c.segment_bytes, 14);
  if (key == "segment.ms") return parse_integer<int64_t>(value, c.segment_ms, 1);
  if (key == "index.interval.bytes") {
    return parse_integer<uint32_t>(value, c.index_interval_bytes, 0);
  }
  if (key == "segment.index.bytes") {
    return parse_integer<uint32_t>(value, c.segment_index_bytes, 4);
  }
  if (key == "retention.ms") return parse_integer<int64_t>(value, c.retention_ms, -1);
  if (key == "retention.bytes") return parse_integer<int64_t>(value, c.retention_bytes, -1);
  if (key == "cleanup.policy") return parse_policy(value, c);
  if (key == "flush.messages") return parse_integer<int64_t>(value, c.flush_messages, 1);
  if (key == "flush.ms") return parse_integer<int64_t>(value, c.flush_ms, 0);
  if (key == "delete.retention.ms") return parse_integer<int64_t>(value, c.delete_retention_ms, 0);
  if (key == "min.cleanable.dirty.ratio") return parse_ratio(value, c.min_cleanable_dirty_ratio);
  if (key == "min.compaction.lag.ms") {
    return parse_integer<int64_t>(value, c.min_compaction_lag_ms, 0);
  }
  if (key == "file.delete.delay.ms") {
    return parse_integer<int64_t>(value, c.file_delete_delay_ms, 0);
  }
  if (key == "max.message.bytes") return parse_integer<int32_t>(value, c.max_message_bytes, 0);
  if (key == "message.timestamp.type") {
    if (value == "CreateTime") {
      c.message_timestamp_type = timestamp_type::create_time;
      return true;
    }
    if (value == "LogAppendTime") {
      c.message_timestamp_type = timestamp_type::log_append_time;
      return true;
    }
    return false;
  }
  known = false;
  return true;
}

}  // namespace

sresult<log_config> apply_overrides(log_config config,
                                    const std::map<std::string, std::string>& overrides) {
  for (const auto& [key, value] : overrides) {
    bool known = false;
    if (!apply_one(config, key, value, known)) {
      return failure(
          make_error(errc::invalid_argument, fmt::format("invalid value '{}' for {}", value, key)));
    }
  }
  return config;
}

const std::map<std::string, std::string>& broker_default_keys() {
  static const std::map<std::string, std::string> keys = {
      {"segment.bytes", "log.segment.bytes"},
      {"segment.ms", "log.roll.ms"},
      {"index.interval.bytes", "log.index.interval.bytes"},
      {"segment.index.bytes", "log.index.size.max.bytes"},
      {"retention.ms", "log.retention.ms"},
      {"retention.bytes", "log.retention.bytes"},
      {"cleanup.policy", "log.cleanup.policy"},
      {"flush.messages", "log.flush.interval.messages"},
      {"flush.ms", "log.flush.interval.ms"},
      {"delete.retention.ms", "log.cleaner.delete.retention.ms"},
      {"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio"},
      {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms"},
      {"file.delete.delay.ms", "log.segment.delete.delay.ms"},
      {"max.message.bytes", "message.max.bytes"},
      {"message.timestamp.type", "log.message.timestamp.type"},
  };
  return keys;
}

}  // namespace sluice::storage
