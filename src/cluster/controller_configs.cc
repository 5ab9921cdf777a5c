// The controller's config operations: AlterConfigs (replace a resource's overrides) and
// IncrementalAlterConfigs (SET, DELETE, APPEND, SUBTRACT), on topics and on the broker's dynamic
// configs.

#include <algorithm>
#include <cstdlib>
#include <set>

#include "cluster/config_resolver.h"
#include "cluster/controller_run.h"
#include "config/topic_config_catalogue.h"

namespace sluice::cluster {

namespace {

std::string resource_label(const config_resource& r) {
  return r.type == config_resource_type::topic ? fmt::format("topic '{}'", r.name)
                                               : fmt::format("broker '{}'", r.name);
}

std::string resource_key(const config_resource& r) {
  return fmt::format("{}:{}", static_cast<int>(r.type), r.name);
}

// The items of a list value: split at ',', trimmed, empty items dropped (Kafka's list parsing).
std::vector<std::string> list_items(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = std::min(text.find(',', pos), text.size());
    auto item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

// The records that turn `before` into `after`.
record_group config_diff(const config_resource& r, const config_map& before,
                         const config_map& after) {
  record_group records;
  for (const auto& [key, value] : before) {
    if (!after.contains(key)) records.emplace_back(config_removed_record{r.type, r.name, key});
  }
  for (const auto& [key, value] : after) {
    auto old = before.find(key);
    if (old == before.end() || old->second != value)
      records.emplace_back(config_set_record{r.type, r.name, key, value});
  }
  return records;
}

// The type and default of a key for the resource, or nullptr when the key is unknown.
const config::config_def* find_def(config_resource_type type, std::string_view key) {
  if (type == config_resource_type::broker) return config::find_broker_config(key);
  const config::topic_config_def* tdef = config::find_topic_config(key);
  return tdef == nullptr ? nullptr : &tdef->def;
}

// APPEND or SUBTRACT of list items; the starting value is the override, else the key's default.
cresult<std::string> alter_list(const config_resource& r, const config_map& overrides,
                                const config_alteration& a) {
  const config::config_def* def = find_def(r.type, a.key);
  if (def == nullptr) {
    return make_failure(errc::invalid_config,
                        fmt::format("Unknown config '{}' for {}.", a.key, resource_label(r)));
  }
  if (def->type != config::config_type::list) {
    return make_failure(
        errc::invalid_config,
        fmt::format("Cannot {} '{}': its type is not a list.",
                    a.op == config_op::append ? "APPEND to" : "SUBTRACT from", a.key));
  }
  if (!a.value) {
    return make_failure(errc::invalid_config,
                        fmt::format("Null value not supported for config '{}'.", a.key));
  }
  auto it = overrides.find(a.key);
  std::string start = it != overrides.end() ? it->second
                      : def->default_value  ? std::string(*def->default_value)
                                            : std::string();
  auto items = list_items(start);
  for (const auto& item : list_items(*a.value)) {
    auto pos = std::find(items.begin(), items.end(), item);
    if (a.op == config_op::append && pos == items.end()) items.push_back(item);
    if (a.op == config_op::subtract)
      items.erase(std::remove(items.begin(), items.end(), item), items.end());
  }
  return fmt::format("{}", fmt::join(items, ","));
}

// A dynamic broker value becomes the value of a topic key (log.cleanup.policy -> cleanup.policy),
// so it must also pass that key's rules, which can be stricter than the broker key's own (the
// allowed list items, segment.bytes >= 1 MiB).
cresult<void> check_as_topic_value(std::string_view broker_key, const std::string& value) {
  for (const auto& tdef : config::topic_config_defs()) {
    for (const auto& syn : tdef.synonyms) {
      if (syn.name != broker_key) continue;
      auto valid = config::validate_topic_config(tdef, config::convert_synonym_value(syn, value));
      if (!valid) {
        return make_failure(errc::invalid_config,
                            fmt::format("Invalid value '{}' for '{}': as the default of topic "
                                        "config '{}': {}",
                                        value, broker_key, tdef.def.name, valid.error().message));
      }
    }
  }
  return {};
}

}  // namespace

cresult<config_map> controller::current_overrides(const config_resource& resource,
                                                  const image& current) const {
  if (resource.type == config_resource_type::topic) {
    if (resource.name.empty())
      return make_failure(errc::invalid_request, "Default topic resources are not allowed.");
    auto topic = current.find_topic(resource.name);
    if (topic == nullptr) {
      return make_failure(errc::unknown_topic,
                          fmt::format("Topic '{}' does not exist.", resource.name));
    }
    return topic->configs;
  }
  if (!resource.name.empty()) {
    char* end = nullptr;
    long long id = std::strtoll(resource.name.c_str(), &end, 10);
    if (*end != '\0' || id < 0 || id > INT32_MAX) {
      return make_failure(
          errc::invalid_request,
          fmt::format("Invalid broker name '{}': expected a node id or \"\".", resource.name));
    }
  }
  return current.broker_configs(resource.name);
}

cresult<void> controller::validate_overrides(const config_resource& resource,
                                             const config_map& overrides) const {
  for (const auto& [key, value] : overrides) {
    if (value.size() > config_value_bytes_max) {
      return make_failure(errc::invalid_config,
                          fmt::format("The value of '{}' is {} bytes long; the limit is {}.", key,
                                      value.size(), config_value_bytes_max));
    }
  }
  if (resource.type == config_resource_type::topic) {
    auto valid = config::validate_topic_overrides(overrides);
    if (!valid) return make_failure(errc::invalid_config, valid.error().message);
    return {};
  }
  for (const auto& [key, value] : overrides) {
    const config::config_def* def = config::find_broker_config(key);
    if (def == nullptr)
      return make_failure(errc::invalid_config, fmt::format("Unknown broker config '{}'.", key));
    if (!is_dynamic_broker_config(key)) {
      return make_failure(errc::invalid_config,
                          fmt::format("Cannot update '{}' dynamically; set it in the broker's "
                                      "configuration file.",
                                      key));
    }
    auto parsed = config::parse_config_value(*def, value);
    if (!parsed) return make_failure(errc::invalid_config, parsed.error().message);
    auto as_topic = check_as_topic_value(key, value);
    if (!as_topic) return as_topic;
  }
  return {};
}

cresult<controller::planned<bool>> controller::plan_replace(const config_replacement& r,
                                                            const image& current) {
  auto before = current_overrides(r.resource, current);
  if (!before) return failure(before.error());
  config_map after;
  for (const auto& entry : r.entries) {
    if (!entry.value) {
      return make_failure(errc::invalid_config,
                          fmt::format("Null value not supported for config '{}'.", entry.key));
    }
    if (!after.emplace(entry.key, *entry.value).second) {
      return make_failure(errc::invalid_request,
                          fmt::format("Config '{}' is given twice.", entry.key));
    }
  }
  auto valid = validate_overrides(r.resource, after);
  if (!valid) return failure(valid.error());
  return planned<bool>{true, config_diff(r.resource, *before, after)};
}

cresult<controller::planned<bool>> controller::plan_change(const config_change& c,
                                                           const image& current) {
  auto before = current_overrides(c.resource, current);
  if (!before) return failure(before.error());
  config_map after = *before;
  std::set<std::string> seen;
  for (const auto& a : c.alterations) {
    if (!seen.insert(a.key).second) {
      return make_failure(errc::invalid_request,
                          fmt::format("Config '{}' is altered twice.", a.key));
    }
    switch (a.op) {
      case config_op::set:
        if (!a.value) {
          return make_failure(errc::invalid_config,
                              fmt::format("Null value not supported for config '{}'.", a.key));
        }
        after[a.key] = *a.value;
        break;
      case config_op::remove:
        // Removing a key that is not set (even an unknown one) changes nothing, as in Kafka.
        after.erase(a.key);
        break;
      case config_op::append:
      case config_op::subtract: {
        auto altered = alter_list(c.resource, after, a);
        if (!altered) return failure(altered.error());
        after[a.key] = std::move(*altered);
        break;
      }
    }
  }
  auto valid = validate_overrides(c.resource, after);
  if (!valid) return failure(valid.error());
  return planned<bool>{true, config_diff(c.resource, *before, after)};
}

std::vector<cresult<void>> controller::alter_configs(
    const std::vector<config_replacement>& replacements, bool validate_only) {
  auto repeated = repeated_keys(
      replacements, [](const config_replacement& r) { return resource_key(r.resource); });
  return without_values(run<bool>(
      replacements, validate_only,
      [&](const config_replacement& r, const image& current) -> cresult<planned<bool>> {
        if (repeated.contains(resource_key(r.resource))) {
          return make_failure(
              errc::invalid_request,
              fmt::format("{} appears more than once in the request.", resource_label(r.resource)));
        }
        return plan_replace(r, current);
      }));
}

std::vector<cresult<void>> controller::incremental_alter_configs(
    const std::vector<config_change>& changes, bool validate_only) {
  auto repeated =
      repeated_keys(changes, [](const config_change& c) { return resource_key(c.resource); });
  return without_values(run<bool>(
      changes, validate_only,
      [&](const config_change& c, const image& current) -> cresult<planned<bool>> {
        if (repeated.contains(resource_key(c.resource))) {
          return make_failure(
              errc::invalid_request,
              fmt::format("{} appears more than once in the request.", resource_label(c.resource)));
        }
        return plan_change(c, current);
      }));
}

}  // namespace sluice::cluster
