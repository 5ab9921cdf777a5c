#pragma once

// The broker's configuration, with Kafka's key names and defaults (ARCHITECTURE decision 9).
// The catalogue of every key the broker knows is in config_catalogue.cc. A key that is not in the
// catalogue is an error (a typo in server.properties should not be silently ignored); a key Kafka
// has but Sluice does not act on yet is accepted and listed as such at start.
//
// A broker_config is immutable once built; it is shared read-only between shards.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/properties.h"
#include "base/result.h"

namespace sluice::config {

enum class config_type { boolean, int32, int64, float64, string, list, password };

// How a key is used: `active` keys change what Sluice does; `accepted` keys are Kafka keys that
// Sluice reads but does not act on yet (clustering, threads of the JVM broker, ...).
enum class key_status { active, accepted };

struct config_def {
  std::string_view name;
  config_type type;
  // Kafka's default as text; std::nullopt when Kafka's default is null.
  std::optional<std::string_view> default_value;
  int64_t min = INT64_MIN;  // inclusive bounds for numbers
  int64_t max = INT64_MAX;
  std::span<const std::string_view> allowed = {};  // for strings, when not empty
  key_status status = key_status::active;
  std::string_view doc;
};

std::span<const config_def> broker_config_defs();
const config_def* find_broker_config(std::string_view name);

struct config_error {
  std::string message;
};

using config_value =
    std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<std::string>>;

// Parses `text` as a value of `def`'s type and checks its bounds.
result<config_value, config_error> parse_config_value(const config_def& def, std::string_view text);

class broker_config {
 public:
  // Builds the configuration from file properties and overrides (already merged by the caller:
  // overrides win). Fails with a message naming the key for an unknown key or a bad value.
  static result<broker_config, config_error> from_properties(const properties& props);

  bool get_bool(std::string_view name) const;
  int64_t get_int(std::string_view name) const;  // int32 and int64 keys
  double get_double(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;  // "" when null
  std::vector<std::string> get_list(std::string_view name) const;
  bool is_null(std::string_view name) const;
  // True when the value came from the file or an override rather than the default.
  bool is_set(std::string_view name) const;

  // Derived values that follow Kafka's precedence rules between synonyms.
  int32_t node_id() const;                    // node.id, else broker.id
  std::vector<std::string> log_dirs() const;  // log.dirs, else log.dir
  int64_t log_retention_ms() const;           // log.retention.ms > minutes > hours
  int64_t log_roll_ms() const;                // log.roll.ms > log.roll.hours

  // Keys set by the user that Sluice accepts but does not act on yet.
  std::vector<std::string> accepted_but_unused() const;

 private:
  const config_value& get(std::string_view name) const;
  std::map<std::string, config_value, std::less<>> _values;
  std::map<std::string, bool, std::less<>> _set;
};

}  // namespace sluice::config
