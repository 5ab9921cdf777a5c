#include "config/broker_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "base/assert.h"

namespace sluice::config {

namespace {

std::string trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    auto item = trim(text.substr(pos, comma - pos));
    if (!item.empty()) out.push_back(std::move(item));
    pos = comma + 1;
  }
  return out;
}

failure<config_error> bad_value(const config_def& def, std::string_view text,
                                std::string_view why) {
  return failure(config_error{
      fmt::format("Invalid value '{}' for configuration '{}': {}", text, def.name, why)});
}

}  // namespace

result<config_value, config_error> parse_config_value(const config_def& def, std::string_view raw) {
  std::string text = trim(raw);
  switch (def.type) {
    case config_type::boolean: {
      std::string lower = text;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (lower == "true") return config_value(true);
      if (lower == "false") return config_value(false);
      return bad_value(def, text, "expected true or false");
    }
    case config_type::int32:
    case config_type::int64: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE)
        return bad_value(def, text, "expected a whole number");
      int64_t lo = def.min;
      int64_t hi = def.type == config_type::int32 ? std::min<int64_t>(def.max, INT32_MAX) : def.max;
      if (def.type == config_type::int32) lo = std::max<int64_t>(lo, INT32_MIN);
      if (v < lo || v > hi)
        return bad_value(def, text, fmt::format("value must be in [{}, {}]", lo, hi));
      return config_value(static_cast<int64_t>(v));
    }
    case config_type::float64: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || std::isnan(v))
        return bad_value(def, text, "expected a number");
      if (v < static_cast<double>(def.min) || (def.max != INT64_MAX && v > def.max))
        return bad_value(def, text, fmt::format("value must be at least {}", def.min));
      return config_value(v);
    }
    case config_type::list:
      return config_value(split_list(text));
    case config_type::string:
    case config_type::password:
      if (!def.allowed.empty() &&
          std::find(def.allowed.begin(), def.allowed.end(), text) == def.allowed.end()) {
        return bad_value(def, text,
                         fmt::format("allowed values are {}", fmt::join(def.allowed, ", ")));
      }
      return config_value(text);
  }
  SLUICE_ASSERT(false, "unhandled config type {}", static_cast<int>(def.type));
  return config_value{};
}

result<broker_config, config_error> broker_config::from_properties(const properties& props) {
  broker_config cfg;
  for (const auto& def : broker_config_defs()) {
    if (!def.default_value) {
      cfg._values.emplace(std::string(def.name), std::monostate{});
      continue;
    }
    auto parsed = parse_config_value(def, *def.default_value);
    SLUICE_ASSERT(parsed.has_value(), "bad default for {}", def.name);
    cfg._values.emplace(std::string(def.name), std::move(*parsed));
  }
  for (const auto& [key, text] : props) {
    const config_def* def = find_broker_config(key);
    if (def == nullptr) {
      return failure(config_error{fmt::format(
          "Unknown configuration '{}' (see `sluice start --help` for the known keys)", key)});
    }
    auto parsed = parse_config_value(*def, text);
    if (!parsed) return failure(parsed.error());
    cfg._values[key] = std::move(*parsed);
    cfg._set[key] = true;
  }
  return cfg;
}

const config_value& broker_config::get(std::string_view name) const {
  auto it = _values.find(name);
  SLUICE_ASSERT(it != _values.end(), "configuration '{}' is not in the catalogue", name);
  return it->second;
}

bool broker_config::is_null(std::string_view name) const {
  return std::holds_alternative<std::monostate>(get(name));
}

bool broker_config::is_set(std::string_view name) const {
  return _set.contains(name);
}

bool broker_config::get_bool(std::string_view name) const {
  const auto& v = get(name);
  SLUICE_ASSERT(std::holds_alternative<bool>(v), "configuration '{}' is not a boolean", name);
  return std::get<bool>(v);
}

int64_t broker_config::get_int(std::string_view name) const {
  const auto& v = get(name);
  SLUICE_ASSERT(std::holds_alternative<int64_t>(v), "configuration '{}' is not set or not an int",
                name);
  return std::get<int64_t>(v);
}

double broker_config::get_double(std::string_view name) const {
  const auto& v = get(name);
  SLUICE_ASSERT(std::holds_alternative<double>(v), "configuration '{}' is not a double", name);
  return std::get<double>(v);
}

const std::string& broker_config::get_string(std::string_view name) const {
  static const std::string empty;
  const auto& v = get(name);
  if (std::holds_alternative<std::monostate>(v)) return empty;
  SLUICE_ASSERT(std::holds_alternative<std::string>(v), "configuration '{}' is not a string", name);
  return std::get<std::string>(v);
}

std::vector<std::string> broker_config::get_list(std::string_view name) const {
  const auto& v = get(name);
  if (std::holds_alternative<std::monostate>(v)) return {};
  SLUICE_ASSERT(std::holds_alternative<std::vector<std::string>>(v),
                "configuration '{}' is not a list", name);
  return std::get<std::vector<std::string>>(v);
}

int32_t broker_config::node_id() const {
  if (!is_set("node.id") && is_set("broker.id")) return static_cast<int32_t>(get_int("broker.id"));
  return static_cast<int32_t>(get_int("node.id"));
}

std::vector<std::string> broker_config::log_dirs() const {
  if (!is_null("log.dirs")) return split_list(get_string("log.dirs"));
  return {get_string("log.dir")};
}

int64_t broker_config::log_retention_ms() const {
  constexpr int64_t minute_ms = 60 * 1000;
  if (!is_null("log.retention.ms")) return get_int("log.retention.ms");
  if (!is_null("log.retention.minutes")) {
    int64_t m = get_int("log.retention.minutes");
    return m < 0 ? -1 : m * minute_ms;
  }
  int64_t h = get_int("log.retention.hours");
  return h < 0 ? -1 : h * 60 * minute_ms;
}

int64_t broker_config::log_roll_ms() const {
  if (!is_null("log.roll.ms")) return get_int("log.roll.ms");
  return get_int("log.roll.hours") * 60 * 60 * 1000;
}

std::vector<std::string> broker_config::accepted_but_unused() const {
  std::vector<std::string> out;
  for (const auto& [key, set] : _set) {
    const config_def* def = find_broker_config(key);
    if (set && def != nullptr && def->status == key_status::accepted) out.push_back(key);
  }
  return out;
}

}  // namespace sluice::config
