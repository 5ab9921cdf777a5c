#include "server/fetch_session.h"

#include <algorithm>
#include <climits>
#include <tuple>

#include "base/assert.h"
#include "base/logging.h"

namespace sluice::server {

int32_t next_fetch_epoch(int32_t epoch) {
  if (epoch < 0) return fetch_epoch_final;  // the epoch after the final epoch stays final
  if (epoch == INT32_MAX) return 1;
  return epoch + 1;
}

size_t fetch_session_key_hash::operator()(const fetch_session_key& k) const noexcept {
  size_t h = k.topic_id.is_zero() ? std::hash<std::string>{}(k.topic)
                                  : std::hash<model::uuid>{}(k.topic_id);
  return h * 31 + std::hash<int32_t>{}(k.partition);
}

const char* describe(fetch_session_errc errc) {
  switch (errc) {
    case fetch_session_errc::none:
      return "none";
    case fetch_session_errc::not_found:
      return "no such session";
    case fetch_session_errc::invalid_epoch:
      return "wrong session epoch";
    case fetch_session_errc::topic_id_mismatch:
      return "topic ids used inconsistently with the session";
  }
  return "?";
}

fetch_session_cache::fetch_session_cache(limits limits, int32_t id_min, int32_t id_max)
    : _limits(limits), _id_min(id_min), _id_max(id_max), _random(std::random_device{}()) {
  SLUICE_ASSERT(1 <= id_min && id_min < id_max, "session id range [{}, {})", id_min, id_max);
}

std::optional<int32_t> fetch_session_cache::epoch_of(int32_t id) const {
  auto it = _sessions.find(id);
  if (it == _sessions.end()) return std::nullopt;
  return it->second->epoch;
}

int32_t fetch_session_cache::new_id() {
  std::uniform_int_distribution<int32_t> pick(_id_min, _id_max - 1);
  // The range holds millions of ids and the cache at most `slots` sessions, so a collision is
  // rare; the bound only keeps the loop finite if a tiny range were ever configured.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int32_t id = pick(_random);
    if (!_sessions.contains(id)) return id;
  }
  for (int32_t id = _id_min; id < _id_max; ++id)
    if (!_sessions.contains(id)) return id;
  SLUICE_ASSERT(false, "no free session id in [{}, {})", _id_min, _id_max);
  return fetch_session_none;
}

void fetch_session_cache::erase(
    std::unordered_map<int32_t, std::unique_ptr<session>>::iterator it) {
  _cached_partitions -= static_cast<int64_t>(it->second->partitions.size());
  _sessions.erase(it);
  SLUICE_ASSERT(_cached_partitions >= 0, "cached partitions {}", _cached_partitions);
}

bool fetch_session_cache::remove(int32_t id) {
  auto it = _sessions.find(id);
  if (it == _sessions.end()) return false;
  erase(it);
  return true;
}

// Kafka's FetchSessionCache.tryEvict: the least recently used session goes when it has been
// idle for more than eviction_ms; otherwise the least valuable of the sessions the newcomer may
// evict (by privilege, then size, then id) goes when the newcomer is worth more. A newcomer may
// evict sessions created more than eviction_ms ago, and a privileged (follower) newcomer also
// any unprivileged session. Kafka keeps two ordered indexes for this; a scan of one shard's
// sessions, only when the cache is full, costs less than maintaining them on every fetch.
bool fetch_session_cache::try_evict(bool privileged, size_t size, int64_t now_ms) {
  auto lru = _sessions.end();
  auto cheapest = _sessions.end();
  auto worth = [](const session& s) { return std::tuple(s.privileged, s.partitions.size(), s.id); };
  for (auto it = _sessions.begin(); it != _sessions.end(); ++it) {
    const session& s = *it->second;
    if (lru == _sessions.end() ||
        std::pair(s.last_used_ms, s.id) < std::pair(lru->second->last_used_ms, lru->second->id))
      lru = it;
    const bool old = now_ms - s.created_ms > _limits.eviction_ms;
    const bool evictable = old || (privileged && !s.privileged);
    if (evictable && (cheapest == _sessions.end() || worth(s) < worth(*cheapest->second)))
      cheapest = it;
  }
  if (lru == _sessions.end()) return false;
  auto log = logger("fetch");
  if (now_ms - lru->second->last_used_ms > _limits.eviction_ms) {
    log->debug("evicting fetch session {}: unused for {} ms", lru->first,
               now_ms - lru->second->last_used_ms);
    erase(lru);
    ++_evictions;
    return true;
  }
  if (cheapest == _sessions.end()) return false;
  // The newcomer's id is 0, below every real id: it must be worth strictly more.
  if (std::tuple(privileged, size, 0) < worth(*cheapest->second)) return false;
  log->debug("evicting fetch session {} ({} partitions) for a new one of {}", cheapest->first,
             cheapest->second->partitions.size(), size);
  erase(cheapest);
  ++_evictions;
  return true;
}

int32_t fetch_session_cache::maybe_create(std::vector<fetch_session_partition> partitions,
                                          bool uses_topic_ids, bool privileged, int64_t now_ms) {
  if (partitions.empty()) return fetch_session_none;
  const size_t size = partitions.size();
  if (static_cast<int64_t>(size) > _limits.partitions_max) return fetch_session_none;
  if (static_cast<int64_t>(_sessions.size()) >= _limits.slots &&
      !try_evict(privileged, size, now_ms))
    return fetch_session_none;
  if (_cached_partitions + static_cast<int64_t>(size) > _limits.partitions_max)
    return fetch_session_none;
  auto s = std::make_unique<session>();
  s->id = new_id();
  s->privileged = privileged;
  s->uses_topic_ids = uses_topic_ids;
  s->created_ms = now_ms;
  s->last_used_ms = now_ms;
  s->epoch = next_fetch_epoch(fetch_epoch_initial);
  for (auto& p : partitions) {
    // A key named twice in one request keeps its first place and its last values, as Kafka's
    // map of the request's partitions does.
    auto found = s->index.find(p.key);
    if (found != s->index.end()) {
      *found->second = std::move(p);
      continue;
    }
    auto pos = s->partitions.insert(s->partitions.end(), std::move(p));
    s->index.emplace(pos->key, pos);
  }
  const int32_t id = s->id;
  _cached_partitions += static_cast<int64_t>(s->partitions.size());
  _sessions.emplace(id, std::move(s));
  return id;
}

fetch_session_cache::incremental_plan fetch_session_cache::begin_incremental(
    incremental_request request, int64_t now_ms) {
  incremental_plan plan;
  auto it = _sessions.find(request.id);
  if (it == _sessions.end()) {
    plan.error = fetch_session_errc::not_found;
    return plan;
  }
  session& s = *it->second;
  if (s.epoch != request.epoch) {
    plan.error = fetch_session_errc::invalid_epoch;
    return plan;
  }
  if (s.uses_topic_ids != request.uses_topic_ids) {
    plan.error = fetch_session_errc::topic_id_mismatch;
    return plan;
  }
  int64_t added = 0;
  for (const auto& p : request.upserts)
    if (!s.index.contains(p.key)) ++added;
  if (_cached_partitions + added > _limits.partitions_max) {
    logger("fetch")->debug("closing fetch session {}: {} more partitions exceed the cache's {}",
                           s.id, added, _limits.partitions_max);
    erase(it);
    plan.error = fetch_session_errc::not_found;
    return plan;
  }
  const int64_t size_before = static_cast<int64_t>(s.partitions.size());
  for (const auto& p : request.upserts) {
    auto found = s.index.find(p.key);
    if (found == s.index.end()) {
      auto pos = s.partitions.insert(s.partitions.end(), p);
      s.index.emplace(pos->key, pos);
    } else {
      found->second->fetch_offset = p.fetch_offset;
      found->second->partition_max_bytes = p.partition_max_bytes;
    }
  }
  for (const auto& key : request.forgotten) {
    auto found = s.index.find(key);
    if (found == s.index.end()) continue;
    s.partitions.erase(found->second);
    s.index.erase(found);
  }
  _cached_partitions += static_cast<int64_t>(s.partitions.size()) - size_before;
  if (s.partitions.empty()) {
    erase(it);
    plan.closed = true;
    plan.partitions = std::move(request.upserts);
    return plan;
  }
  s.last_used_ms = now_ms;
  s.epoch = next_fetch_epoch(s.epoch);
  plan.epoch = s.epoch;
  plan.partitions.assign(s.partitions.begin(), s.partitions.end());
  return plan;
}

fetch_session_cache::incremental_outcome fetch_session_cache::finish_incremental(
    int32_t id, int32_t epoch, const std::vector<fetch_session_key>& keys,
    const std::vector<fetch_partition_result>& results) {
  SLUICE_ASSERT(keys.size() == results.size(), "{} keys, {} results", keys.size(), results.size());
  incremental_outcome out;
  auto it = _sessions.find(id);
  if (it == _sessions.end()) {
    out.error = fetch_session_errc::not_found;
    return out;
  }
  session& s = *it->second;
  if (s.epoch != epoch) {
    out.error = fetch_session_errc::invalid_epoch;
    return out;
  }
  out.include.resize(keys.size(), false);
  for (size_t i = 0; i < keys.size(); ++i) {
    auto found = s.index.find(keys[i]);
    // The epoch has not moved, so no other request changed the partitions since the plan.
    SLUICE_ASSERT(found != s.index.end(), "partition {} of session {} vanished", keys[i].partition,
                  id);
    fetch_session_partition& cached = *found->second;
    const fetch_partition_result& r = results[i];
    bool include = r.has_records || r.error;
    if (cached.high_watermark != r.high_watermark) {
      include = true;
      cached.high_watermark = r.high_watermark;
    }
    if (cached.log_start_offset != r.log_start_offset) {
      include = true;
      cached.log_start_offset = r.log_start_offset;
    }
    // After an error the high watermark is forgotten, so that the partition is sent again
    // once the error is gone.
    if (r.error) cached.high_watermark = -1;
    if (r.has_records) s.partitions.splice(s.partitions.end(), s.partitions, found->second);
    out.include[i] = include;
  }
  return out;
}

namespace {

// `total` split between `n` shards, the remainder going to the first ones.
int64_t share(int64_t total, unsigned n, unsigned i) {
  return total / n + (static_cast<int64_t>(i) < total % n ? 1 : 0);
}

}  // namespace

fetch_sessions::fetch_sessions(std::vector<asio::io_context*> shards,
                               fetch_session_cache::limits total)
    : _shards(std::move(shards)) {
  const unsigned n = static_cast<unsigned>(_shards.size());
  SLUICE_ASSERT(n > 0, "no shards");
  _id_range = INT32_MAX / static_cast<int32_t>(n);
  for (unsigned i = 0; i < n; ++i) {
    fetch_session_cache::limits mine = total;
    mine.slots = share(total.slots, n, i);
    mine.partitions_max = share(total.partitions_max, n, i);
    const int32_t lo = std::max<int32_t>(1, static_cast<int32_t>(i) * _id_range);
    const int32_t hi = static_cast<int32_t>(i + 1) * _id_range;
    _caches.push_back(std::make_unique<fetch_session_cache>(mine, lo, hi));
  }
}

std::optional<unsigned> fetch_sessions::shard_of(int32_t id) const {
  if (id <= 0) return std::nullopt;
  const int32_t shard = id / _id_range;
  if (shard >= static_cast<int32_t>(_shards.size())) return std::nullopt;
  return static_cast<unsigned>(shard);
}

std::optional<unsigned> fetch_sessions::shard_running(const asio::any_io_executor& executor) const {
  const auto* ex = executor.target<asio::io_context::executor_type>();
  if (ex == nullptr) return std::nullopt;
  for (unsigned i = 0; i < _shards.size(); ++i)
    if (&ex->context() == _shards[i]) return i;
  return std::nullopt;
}

}  // namespace sluice::server
