#pragma once

// partition_registry: which shard owns each data partition, and the per-shard view of the
// partition logs (ARCHITECTURE decision 4). Owner shard = FNV-1a(topic, partition) % shards, a
// hash that is stable across runs and platforms.
//
// Ownership and threading:
// - The storage::log_manager (owned by the broker) owns every log. Its control calls (create,
//   remove) run on one control thread: the broker's thread at start-up, then the controller's
//   thread (after every controller write, see broker_context::after_controller_write).
// - Each shard keeps its own map tp -> log* and its own long-poll waiter lists; both are touched
//   only on that shard, so the hot path takes no lock. A shard fills its map lazily from the log
//   manager (one mutex acquisition per partition, the first time it is used).
// - Removal of a deleted topic's logs runs in the background: the owner shard drops the log from
//   its map and marks the partition as being removed (so it is not looked up again), then the
//   control thread removes the log, then the owner clears the mark.
// - All access to a log happens in one function posted to its owner (run_on_owner); no log* is
//   held across a suspension.
//
// Why server/ and not cluster/: the shards are asio io_contexts, which only server/ knows.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <memory>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "cluster/image.h"
#include "cluster/image_publisher.h"
#include "storage/log_manager.h"

namespace sluice::server {

// A fetch waiting for data (Fetch long poll). Lives on the fetching connection's shard; owner
// shards hold weak references and wake it by posting wake() to `executor`.
struct fetch_waiter {
  explicit fetch_waiter(asio::any_io_executor ex) : executor(ex), timer(ex) {}
  asio::any_io_executor executor;
  asio::steady_timer timer;
  bool woken = false;  // touched only on `executor`'s shard
  // On `executor`'s shard.
  void wake() {
    woken = true;
    timer.cancel();
  }
};

class partition_registry {
 public:
  // `logs`, `images` and the io_contexts must outlive the registry.
  partition_registry(storage::log_manager& logs, const cluster::image_publisher& images,
                     std::vector<asio::io_context*> shards);
  partition_registry(const partition_registry&) = delete;
  partition_registry& operator=(const partition_registry&) = delete;

  unsigned shard_of(const model::topic_partition& tp) const { return owner_of(tp, _shards.size()); }
  // The owner among `shard_count` shards; usable before a registry exists (log loading).
  static unsigned owner_of(const model::topic_partition& tp, size_t shard_count);
  // The log manager; its thread-safe calls only (placements, log_dirs, write_checkpoints).
  storage::log_manager& logs() const { return _logs; }
  asio::io_context::executor_type executor(unsigned shard) const {
    return _shards[shard].io->get_executor();
  }

  // Control thread. Creates a log for every partition of `image` that has none.
  void create_missing(const cluster::image& image);
  // Any thread. Has every shard apply the topic configs of `image` to the logs it holds (after
  // AlterConfigs; new segments follow the new settings).
  void apply_configs(std::shared_ptr<const cluster::image> image);
  // Control thread. Removes the logs of deleted topics in the background: each partition is
  // dropped by its owner shard, then removed by the log manager on `control`.
  void remove_deleted(const std::vector<cluster::deleted_topic>& topics,
                      asio::io_context::executor_type control);
  // Start-up only (no shard running): removes the logs of deleted topics at once.
  void remove_deleted_now(const std::vector<cluster::deleted_topic>& topics,
                          const cluster::image& image);

  // Runs fn(log*) on the owner shard of `tp` (log* is nullptr when this broker has no log for
  // it) and resumes the caller on its own shard with the result. `fn` is moved into the
  // operation: capture by value.
  template <typename Fn>
  asio::awaitable<std::invoke_result_t<Fn&, storage::log*>> run_on_owner(model::topic_partition tp,
                                                                         Fn fn) {
    using result_type = std::invoke_result_t<Fn&, storage::log*>;
    unsigned shard = shard_of(tp);
    return asio::co_spawn(
        executor(shard),
        [this, shard, tp = std::move(tp), fn = std::move(fn)]() mutable
        -> asio::awaitable<result_type> { co_return fn(find(shard, tp)); },
        asio::use_awaitable);
  }

  // Posts fn(log*) to the owner shard of `tp` without waiting. Posts to one shard run in the
  // order they were made.
  template <typename Fn>
  void post_to_owner(model::topic_partition tp, Fn fn) {
    unsigned shard = shard_of(tp);
    asio::post(executor(shard), [this, shard, tp = std::move(tp), fn = std::move(fn)]() mutable {
      fn(find(shard, tp));
    });
  }

  // Periodic work on every shard for the logs it owns (storage::log_manager::housekeep: flush.ms,
  // retention, compaction, unlinking deleted segments), and the checkpoints (on shard 0). Called
  // once before the shards run; the timers die with the registry, after the shards stopped.
  struct housekeeping_settings {
    int64_t tick_ms = 1000;
    int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
    int64_t checkpoint_interval_ms = 60000;        // log.flush.offset.checkpoint.interval.ms
    int64_t producer_expiration_ms = 86400000;     // producer.id.expiration.ms
    int64_t producer_expiration_check_interval_ms = 600000;
  };
  void start_housekeeping(housekeeping_settings settings);

  // Owner shard. Wakes the fetches waiting on `tp` (after an append).
  void notify_append(const model::topic_partition& tp);
  // Owner shard. Registers `waiter` on `tp`, or wakes it at once when the high watermark is
  // already past `fetch_offset` (data arrived between the fetch's read and this call).
  void add_waiter(const model::topic_partition& tp, model::offset fetch_offset,
                  const std::shared_ptr<fetch_waiter>& waiter);

  // Any thread, at broker shutdown: wakes every waiting fetch and has later ones woken at once,
  // so that a long poll does not hold the shutdown up. Fetches check stopping() and answer
  // instead of waiting again.
  void stop_waiters();
  bool stopping() const { return _stopping.load(std::memory_order_acquire); }

  // Waiters per partition are pruned of finished fetches on every registration; this bounds a
  // list by the fetches in flight plus this slack.
  static constexpr size_t waiters_prune_threshold = 64;

 private:
  struct shard_state {
    asio::io_context* io = nullptr;
    std::unordered_map<model::topic_partition, storage::log*> logs;
    std::set<model::topic_partition> removing;
    std::unique_ptr<asio::steady_timer> housekeeping_timer;
    int64_t last_retention_ms = 0;
    int64_t last_checkpoint_ms = 0;
    int64_t last_producer_expiry_ms = 0;
    std::unordered_map<model::topic_partition, std::vector<std::weak_ptr<fetch_waiter>>> waiters;
  };

  storage::log* find(unsigned shard, const model::topic_partition& tp);
  void schedule_housekeeping(unsigned shard);
  void housekeep(unsigned shard);
  void wake_all(shard_state& state, const model::topic_partition& tp);

  storage::log_manager& _logs;
  const cluster::image_publisher& _images;
  housekeeping_settings _housekeeping;
  std::atomic<bool> _stopping{false};
  // Indexed by shard; each element is touched only on its shard (after construction).
  mutable std::vector<shard_state> _shards;
};

}  // namespace sluice::server
