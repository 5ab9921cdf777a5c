#pragma once

// The one table of served APIs (ARCHITECTURE decision 1): {api key, versions, handler}. It
// drives request dispatch and the ApiVersions response, so what the broker advertises is always
// what it serves.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "server/request.h"

namespace sluice::server {

struct api_entry {
  int16_t key = 0;
  std::string_view name;
  int16_t min_version = 0;  // lowest version served
  // Lowest version advertised in ApiVersions; below min_version only where Kafka 4 advertises
  // versions it no longer serves (Produce v0-v2: librdkafka disables compression unless it sees
  // them), which happens when the legacy versions are off. Requests at those versions are
  // refused like any unsupported version.
  int16_t advertised_min_version = 0;
  int16_t max_version = 0;
  handler_fn handler = nullptr;
  // The versions up to this one are those Kafka 4 removed (KIP-896), served unless the broker
  // is set to Kafka 4's floors; -1 when there are none.
  int16_t legacy_max_version = -1;
  // Keeps advertising the legacy versions when they are not served (Kafka 4 does for Produce).
  bool advertise_dropped_legacy = false;
};

class api_registry {
 public:
  // Registers the handler of `Request` over the versions its schema serves.
  template <typename Request>
  void add(handler_fn handler, bool advertise_dropped_legacy = false) {
    add(api_entry{Request::api_key, api_name(Request::api_key), Request::min_version,
                  Request::min_version, Request::max_version, handler, Request::legacy_max_version,
                  advertise_dropped_legacy});
  }
  void add(api_entry entry);
  static std::string_view api_name(int16_t key);
  // Stops serving (and advertising) the legacy versions: Kafka 4's floors.
  void drop_legacy_versions();

  const api_entry* find(int16_t key) const;
  std::span<const api_entry> entries() const { return _entries; }  // sorted by key

 private:
  std::vector<api_entry> _entries;
};

// The registry with every handler this broker has; `legacy_versions` keeps the versions Kafka 4
// removed (sluice.legacy.api.versions.enable).
api_registry make_api_registry(bool legacy_versions = true);

}  // namespace sluice::server
