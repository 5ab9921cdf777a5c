#include "server/api_registry.h"

#include <algorithm>

#include "base/assert.h"
#include "protocol/api.h"
#include "server/handlers/handlers.h"

namespace sluice::server {

void api_registry::add(api_entry entry) {
  SLUICE_ASSERT(find(entry.key) == nullptr, "api {} registered twice", entry.key);
  SLUICE_ASSERT(
      entry.advertised_min_version <= entry.min_version && entry.min_version <= entry.max_version,
      "api {} versions {}-{} advertised from {}", entry.key, entry.min_version, entry.max_version,
      entry.advertised_min_version);
  auto at = std::lower_bound(_entries.begin(), _entries.end(), entry.key,
                             [](const api_entry& e, int16_t key) { return e.key < key; });
  _entries.insert(at, entry);
}

std::string_view api_registry::api_name(int16_t key) {
  const auto* api = protocol::find_api(key);
  return api != nullptr ? api->name : "unknown";
}

const api_entry* api_registry::find(int16_t key) const {
  auto at = std::lower_bound(_entries.begin(), _entries.end(), key,
                             [](const api_entry& e, int16_t k) { return e.key < k; });
  return (at != _entries.end() && at->key == key) ? &*at : nullptr;
}

void api_registry::drop_legacy_versions() {
  for (auto& e : _entries) {
    if (e.legacy_max_version < e.min_version) continue;
    e.min_version = static_cast<int16_t>(e.legacy_max_version + 1);
    if (!e.advertise_dropped_legacy) e.advertised_min_version = e.min_version;
    e.legacy_max_version = -1;
  }
}

api_registry make_api_registry(bool legacy_versions) {
  api_registry registry;
  handlers::register_all(registry);
  if (!legacy_versions) registry.drop_legacy_versions();
  return registry;
}

}  // namespace sluice::server
