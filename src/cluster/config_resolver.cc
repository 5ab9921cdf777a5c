#include "cluster/config_resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "config/topic_config_catalogue.h"

namespace sluice::cluster {

namespace {

std::optional<std::string> lookup(const config_map& configs, std::string_view key) {
  auto it = configs.find(key);
  if (it == configs.end()) return std::nullopt;
  return it->second;
}

bool wanted(const describe_options& options, std::string_view key) {
  return options.keys.empty() ||
         std::find(options.keys.begin(), options.keys.end(), key) != options.keys.end();
}

// A place a value is set, and the broker synonym it came through (for unit conversion).
struct candidate {
  config_synonym entry;
  const config::broker_synonym* via = nullptr;
};

std::optional<std::string> in_topic_unit(const candidate& c) {
  if (c.via == nullptr || !c.entry.value) return c.entry.value;
  return config::convert_synonym_value(*c.via, *c.entry.value);
}

}  // namespace

bool is_dynamic_broker_config(std::string_view key) {
  static const std::set<std::string_view, std::less<>> keys = [] {
    // The SASL keys Kafka lets AlterConfigs change on a running broker (its listeners reload
    // them). Sluice has no SASL listener yet; it keeps such values, as Kafka would, so that
    // admin tools that set them succeed.
    std::set<std::string_view, std::less<>> out = {
        "sasl.enabled.mechanisms",
        "sasl.kerberos.kinit.cmd",
        "sasl.kerberos.min.time.before.relogin",
        "sasl.kerberos.principal.to.local.rules",
        "sasl.kerberos.service.name",
        "sasl.kerberos.ticket.renew.jitter",
        "sasl.kerberos.ticket.renew.window.factor",
        "sasl.login.refresh.buffer.seconds",
        "sasl.login.refresh.min.period.seconds",
        "sasl.login.refresh.window.factor",
        "sasl.login.refresh.window.jitter",
        "sasl.mechanism.inter.broker.protocol",
    };
    for (const auto& tdef : config::topic_config_defs())
      for (const auto& syn : tdef.synonyms)
        if (config::find_broker_config(syn.name) != nullptr) out.insert(syn.name);
    return out;
  }();
  return keys.contains(key);
}

config_resolver::config_resolver(const image& current, const config::broker_config& static_config)
    : _image(current),
      _static(static_config),
      _node_name(std::to_string(static_config.node_id())) {}

namespace {

// Every value of one topic key, highest precedence first; the last is always a default.
std::vector<candidate> topic_candidates(const config::topic_config_def& tdef,
                                        const config_map& overrides, const config_map& per_broker,
                                        const config_map& cluster_default,
                                        const config::broker_config& static_config) {
  std::vector<candidate> found;
  const std::string name(tdef.def.name);
  if (auto v = lookup(overrides, name)) found.push_back({{name, v, config_source::topic_override}});
  for (const auto& syn : tdef.synonyms) {
    if (config::find_broker_config(syn.name) == nullptr) continue;  // not a key Sluice knows
    const std::string syn_name(syn.name);
    if (auto v = lookup(per_broker, syn.name))
      found.push_back({{syn_name, v, config_source::dynamic_broker}, &syn});
    if (auto v = lookup(cluster_default, syn.name))
      found.push_back({{syn_name, v, config_source::dynamic_default_broker}, &syn});
    if (auto v = config::static_broker_value(static_config, syn.name))
      found.push_back({{syn_name, v, config_source::static_broker}, &syn});
  }
  // The default: that of the first broker synonym which has one (Sluice's broker defaults are
  // Kafka's, and a synonym like log.retention.hours carries it), else the topic key's own.
  for (const auto& syn : tdef.synonyms) {
    const config::config_def* bdef = config::find_broker_config(syn.name);
    if (bdef != nullptr && bdef->default_value) {
      found.push_back(
          {{std::string(syn.name), std::string(*bdef->default_value), config_source::default_value},
           &syn});
      return found;
    }
  }
  std::optional<std::string> fallback;
  if (tdef.def.default_value) fallback = std::string(*tdef.def.default_value);
  found.push_back({{name, fallback, config_source::default_value}});
  return found;
}

}  // namespace

std::vector<described_config> config_resolver::describe_topic(
    const config_map& overrides, const describe_options& options) const {
  std::vector<described_config> out;
  const config_map& per_broker = _image.broker_configs(_node_name);
  const config_map& cluster_default = _image.broker_configs("");
  for (const auto& tdef : config::topic_config_defs()) {
    if (!wanted(options, tdef.def.name)) continue;
    auto found = topic_candidates(tdef, overrides, per_broker, cluster_default, _static);
    described_config d;
    d.name = std::string(tdef.def.name);
    d.value = in_topic_unit(found.front());
    d.source = found.front().entry.source;
    d.type = tdef.def.type;
    d.documentation = tdef.def.doc;
    if (options.include_synonyms) {
      for (auto& c : found) d.synonyms.push_back(std::move(c.entry));
    }
    out.push_back(std::move(d));
  }
  return out;
}

config_map config_resolver::effective_topic_configs(const config_map& overrides) const {
  config_map out;
  for (auto& d : describe_topic(overrides, {})) {
    if (d.value) out.emplace(d.name, std::move(*d.value));
  }
  return out;
}

cresult<std::vector<described_config>> config_resolver::describe_broker(
    std::string_view resource_name, const describe_options& options) const {
  if (!resource_name.empty() && resource_name != _node_name) {
    return make_failure(errc::invalid_request, fmt::format("Broker '{}' is not this broker ({}).",
                                                           resource_name, _node_name));
  }
  const config_map& per_broker = _image.broker_configs(_node_name);
  const config_map& cluster_default = _image.broker_configs("");
  std::vector<described_config> out;
  for (const auto& def : config::broker_config_defs()) {
    if (!wanted(options, def.name)) continue;
    const std::string name(def.name);
    std::vector<config_synonym> found;
    if (resource_name.empty()) {
      // The default resource lists only what is set dynamically for the whole cluster.
      if (auto v = lookup(cluster_default, name))
        found.push_back({name, v, config_source::dynamic_default_broker});
      if (found.empty()) continue;
    } else {
      if (auto v = lookup(per_broker, name))
        found.push_back({name, v, config_source::dynamic_broker});
      if (auto v = lookup(cluster_default, name))
        found.push_back({name, v, config_source::dynamic_default_broker});
      if (auto v = config::static_broker_value(_static, name))
        found.push_back({name, v, config_source::static_broker});
      std::optional<std::string> fallback;
      if (def.default_value) fallback = std::string(*def.default_value);
      found.push_back({name, fallback, config_source::default_value});
    }
    described_config d;
    d.name = name;
    d.sensitive = def.type == config::config_type::password;
    d.value = d.sensitive ? std::nullopt : found.front().value;
    d.source = found.front().source;
    d.read_only = !is_dynamic_broker_config(name);
    d.type = def.type;
    d.documentation = def.doc;
    if (options.include_synonyms) {
      for (auto& s : found) {
        if (d.sensitive) s.value = std::nullopt;
        d.synonyms.push_back(std::move(s));
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace sluice::cluster
