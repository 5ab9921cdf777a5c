#pragma once

// The table of every Kafka API this broker serves, generated from schema/*.api into
// protocol/messages/all.cc. It drives dispatch, the ApiVersions response and the choice of the
// request and response header versions.

#include <cstdint>
#include <span>
#include <string_view>

namespace sluice::protocol {

struct api_descriptor {
  int16_t key = 0;
  std::string_view name;  // snake_case, as in the schema file
  int16_t min_version = 0;
  int16_t max_version = 0;
  int16_t first_flexible_version = -1;  // -1 when no version is flexible

  constexpr bool supports(int16_t version) const {
    return version >= min_version && version <= max_version;
  }
  // Flexible versions are open-ended: every version from the first flexible one on.
  constexpr bool is_flexible(int16_t version) const {
    return first_flexible_version >= 0 && version >= first_flexible_version;
  }
};

// Every served API, sorted by key.
std::span<const api_descriptor> all_apis();
// The API with `key`, or nullptr when it is not served.
const api_descriptor* find_api(int16_t key);

// The request header version (0-2) a client uses for `key` at `version`, -1 for an unknown key.
// Flexible versions use v2, others v1.
int16_t request_header_version(int16_t key, int16_t version);
// The response header version (0-1) for `key` at `version`, -1 for an unknown key. Flexible
// versions use v1 except ApiVersions, whose response header is always v0.
int16_t response_header_version(int16_t key, int16_t version);

}  // namespace sluice::protocol
