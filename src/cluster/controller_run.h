#pragma once

// controller::run, shared by controller.cc and controller_configs.cc. Private to the controller.

#include <fmt/format.h>

#include <set>
#include <string>

#include "base/logging.h"
#include "cluster/controller.h"

namespace sluice::cluster {

template <typename T, typename Item, typename Plan>
std::vector<cresult<T>> controller::run(const std::vector<Item>& items, bool validate_only,
                                        Plan&& plan) {
  std::vector<cresult<T>> results;
  results.reserve(items.size());
  if (_log_failed && !validate_only) {
    for (size_t i = 0; i < items.size(); ++i) {
      results.push_back(
          make_failure(errc::log_io, "The metadata log failed earlier; restart the broker."));
    }
    return results;
  }
  auto base = _images.current();
  SLUICE_ASSERT(_log_failed || base->offset().value() + 1 == _log.next_offset().value(),
                "image at offset {} but the metadata log continues at {}: start() not called?",
                base->offset().value(), _log.next_offset().value());
  image_builder builder(*base);
  const model::offset first = _log.next_offset();
  model::offset next = first;
  std::vector<record_group> groups;
  std::vector<size_t> written;  // items whose records are in `groups`
  for (size_t i = 0; i < items.size(); ++i) {
    cresult<planned<T>> p = plan(items[i], builder.current());
    if (!p) {
      results.push_back(failure(p.error()));
      continue;
    }
    for (const auto& record : p->records) {
      auto applied = builder.apply(logged_record{next, record});
      SLUICE_ASSERT(applied.has_value(), "controller planned a contradicting record: {}",
                    applied.error().message);
      next = next + 1;
    }
    if (!p->records.empty()) {
      written.push_back(i);
      groups.push_back(std::move(p->records));
    }
    results.push_back(std::move(p->value));
  }
  if (validate_only || groups.empty()) return results;

  auto appended = _log.append(groups);
  if (!appended) {
    logger("cluster")->error("metadata log append failed: {}", appended.error().message);
    // If the log moved although the append failed (written but not synced), the image can no
    // longer follow it: refuse writes until a restart recovers the log.
    if (_log.next_offset() != first) _log_failed = true;
    for (size_t i : written) results[i] = failure(appended.error());
    return results;
  }
  SLUICE_ASSERT(*appended == next - 1, "metadata log appended up to {}, the controller expected {}",
                appended->value(), (next - 1).value());
  _deleted.insert(_deleted.end(), builder.deleted().begin(), builder.deleted().end());
  _images.publish(std::move(builder).build());
  return results;
}

// Keys that occur more than once in a request. Kafka fails every copy, not just the later ones:
// which copy the client meant is unknowable.
template <typename Item, typename Key>
std::set<std::string> repeated_keys(const std::vector<Item>& items, Key&& key) {
  std::set<std::string> seen;
  std::set<std::string> repeated;
  for (const auto& item : items) {
    auto k = key(item);
    if (!seen.insert(k).second) repeated.insert(std::move(k));
  }
  return repeated;
}

// The results of an operation whose items carry no value.
inline std::vector<cresult<void>> without_values(std::vector<cresult<bool>> results) {
  std::vector<cresult<void>> out;
  out.reserve(results.size());
  for (auto& r : results) out.push_back(r ? cresult<void>{} : cresult<void>(failure(r.error())));
  return out;
}

}  // namespace sluice::cluster
