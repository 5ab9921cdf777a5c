#pragma once

// Fetch sessions (KIP-227): a consumer that fetches the same partitions again and again names
// them once, in a full fetch that creates a session; later (incremental) fetches name only what
// changed (new fetch offsets, added partitions, forgotten ones), and their responses carry only
// the partitions that have something new: records, a moved high watermark or log start offset,
// or an error.
//
// Session metadata, as in Kafka's FetchMetadata: session id 0 means no session; epoch -1 is a
// full fetch without a session (it closes the session it names), epoch 0 a full fetch that
// asks for a new session (closing the one it names), and epoch > 0 an incremental fetch, which
// must carry the session's current epoch. The epoch after INT32_MAX is 1.
//
// Ownership and threading: one fetch_session_cache per shard, touched only on that shard. A
// session lives on the shard of the connection that created it, and its id says which shard
// that is (each shard draws ids from its own range), so a client that reconnects to another
// shard still finds it, by posting to the owner. No lock: see src/server/README.md for why this
// and not one broker-wide cache.
//
// Bounds: at most `slots` sessions and `partitions_max` cached partitions per cache. Eviction
// follows Kafka's FetchSessionCache: a new session may replace one unused for more than
// `eviction_ms`, else (when none is that stale) the least valuable session created more than
// `eviction_ms` ago when the newcomer is worth more (privileged, then more partitions).

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "model/model.h"

namespace sluice::server {

inline constexpr int32_t fetch_session_none = 0;   // Kafka's INVALID_SESSION_ID
inline constexpr int32_t fetch_epoch_initial = 0;  // full fetch, create a session
inline constexpr int32_t fetch_epoch_final = -1;   // full fetch, no session

// The epoch that follows `epoch` (Kafka's FetchMetadata.nextEpoch).
int32_t next_fetch_epoch(int32_t epoch);

// A partition's identity in a session: by topic id in sessions created by Fetch v13 and later
// (whose requests name topics by id), by topic name before.
struct fetch_session_key {
  model::uuid topic_id;  // zero in sessions by name
  std::string topic;     // empty in sessions by topic id
  int32_t partition = 0;
  bool operator==(const fetch_session_key&) const = default;
};

struct fetch_session_key_hash {
  size_t operator()(const fetch_session_key& k) const noexcept;
};

// What a session remembers of one partition: the fetch parameters of the last request that
// named it, and the high watermark and log start offset the client last saw for it.
struct fetch_session_partition {
  fetch_session_key key;
  int64_t fetch_offset = 0;
  int32_t partition_max_bytes = 0;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
};

// What a read found for one partition, which decides whether an incremental response carries it.
struct fetch_partition_result {
  bool has_records = false;
  bool error = false;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
};

enum class fetch_session_errc {
  none,
  not_found,          // FETCH_SESSION_ID_NOT_FOUND
  invalid_epoch,      // INVALID_FETCH_SESSION_EPOCH
  topic_id_mismatch,  // FETCH_SESSION_TOPIC_ID_ERROR: v13+ request on a by-name session or back
};

const char* describe(fetch_session_errc errc);

class fetch_session_cache {
 public:
  struct limits {
    int64_t slots = 1000;           // max.incremental.fetch.session.cache.slots
    int64_t eviction_ms = 120000;   // sluice.fetch.session.min.eviction.ms
    int64_t partitions_max = 1000;  // cached partitions over all sessions
  };

  // Session ids are drawn at random from [id_min, id_max), 1 <= id_min < id_max.
  fetch_session_cache(limits limits, int32_t id_min, int32_t id_max);

  // A full fetch naming session `id` closes it. True when it existed.
  bool remove(int32_t id);

  // After the read of a full fetch with epoch 0: caches `partitions` (in request order, with what
  // the response said of each) as a new session with epoch 1 when there is a free slot or a
  // session this one may evict, and returns its id; fetch_session_none when it does not.
  int32_t maybe_create(std::vector<fetch_session_partition> partitions, bool uses_topic_ids,
                       bool privileged, int64_t now_ms);

  // An incremental fetch: `upserts` (fetch offset and max bytes of partitions added or changed)
  // and `forgotten` are applied in that order, as Kafka does.
  struct incremental_request {
    int32_t id = 0;
    int32_t epoch = 0;
    bool uses_topic_ids = false;
    std::vector<fetch_session_partition> upserts;
    std::vector<fetch_session_key> forgotten;
  };
  struct incremental_plan {
    fetch_session_errc error = fetch_session_errc::none;
    // The request left the session empty, so it was closed: serve `upserts` without a session.
    bool closed = false;
    int32_t epoch = 0;  // the session's epoch after this request: the next request must carry it
    std::vector<fetch_session_partition> partitions;  // what to read, in session order
  };
  // Checks the session and epoch, applies the changes, moves the epoch on and returns the
  // partitions to read. A request that would take the cache over partitions_max closes the
  // session and gets not_found, so that the client falls back to a full fetch.
  incremental_plan begin_incremental(incremental_request request, int64_t now_ms);

  // After the read of an incremental fetch whose begin_incremental returned `epoch`: for each
  // partition of the plan (in order, with its read result), whether the response carries it.
  // Remembers what was sent, and moves partitions that returned records to the end of the
  // session so that the next fetch reads the others first. invalid_epoch when another request
  // used the session meanwhile; not_found when the session is gone.
  struct incremental_outcome {
    fetch_session_errc error = fetch_session_errc::none;
    std::vector<bool> include;
  };
  incremental_outcome finish_incremental(int32_t id, int32_t epoch,
                                         const std::vector<fetch_session_key>& keys,
                                         const std::vector<fetch_partition_result>& results);

  size_t size() const { return _sessions.size(); }
  int64_t cached_partitions() const { return _cached_partitions; }
  int64_t evictions() const { return _evictions; }
  const limits& bounds() const { return _limits; }
  bool contains(int32_t id) const { return _sessions.contains(id); }
  std::optional<int32_t> epoch_of(int32_t id) const;

 private:
  struct session {
    int32_t id = 0;
    bool privileged = false;
    bool uses_topic_ids = false;
    int64_t created_ms = 0;
    int64_t last_used_ms = 0;
    int32_t epoch = 0;
    // The partitions in fetch order; `index` finds each by key.
    std::list<fetch_session_partition> partitions;
    std::unordered_map<fetch_session_key, std::list<fetch_session_partition>::iterator,
                       fetch_session_key_hash>
        index;
  };

  bool try_evict(bool privileged, size_t size, int64_t now_ms);
  void erase(std::unordered_map<int32_t, std::unique_ptr<session>>::iterator it);
  int32_t new_id();

  limits _limits;
  int32_t _id_min;
  int32_t _id_max;
  std::mt19937 _random;
  std::unordered_map<int32_t, std::unique_ptr<session>> _sessions;
  int64_t _cached_partitions = 0;
  int64_t _evictions = 0;
};

// The caches of all shards. Session ids are split into one range per shard, as Kafka splits its
// cache (KAFKA-9401): shard s owns [max(1, s * range), (s + 1) * range), range = INT32_MAX / N.
// The broker-wide limits are divided between the shards.
class fetch_sessions {
 public:
  // The io_contexts must outlive this object. `total` is the broker-wide budget.
  fetch_sessions(std::vector<asio::io_context*> shards, fetch_session_cache::limits total);

  unsigned shard_count() const { return static_cast<unsigned>(_shards.size()); }
  // The shard whose cache may hold `id`; nullopt for an id no shard hands out.
  std::optional<unsigned> shard_of(int32_t id) const;
  // The shard that runs `executor`; nullopt when it is none of them.
  std::optional<unsigned> shard_running(const asio::any_io_executor& executor) const;

  // Runs fn(cache) on `shard` and resumes the caller on its own executor with the result (on
  // the caller's own shard that is one post, no thread hop). `fn` is moved into the operation
  // (capture by value); its result must be default-constructible.
  template <typename Fn>
  asio::awaitable<std::invoke_result_t<Fn&, fetch_session_cache&>> run_on(unsigned shard, Fn fn) {
    using result_type = std::invoke_result_t<Fn&, fetch_session_cache&>;
    return asio::co_spawn(
        _shards[shard]->get_executor(),
        [this, shard, fn = std::move(fn)]() mutable -> asio::awaitable<result_type> {
          co_return fn(*_caches[shard]);
        },
        asio::use_awaitable);
  }

  // Only on `shard`'s thread (or before the shards run).
  fetch_session_cache& cache(unsigned shard) { return *_caches[shard]; }

 private:
  std::vector<asio::io_context*> _shards;
  std::vector<std::unique_ptr<fetch_session_cache>> _caches;
  int32_t _id_range = 0;
};

}  // namespace sluice::server
