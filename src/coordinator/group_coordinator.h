#pragma once

// group_coordinator: places groups on the partitions of __consumer_offsets and runs each
// partition's group_manager on the shard that owns that partition (ARCHITECTURE decisions 4
// and 6). Handlers on any shard call the awaitable operations below; each hops to the owner
// shard, runs there, and resumes the caller on its own shard with the answer. JoinGroup and
// SyncGroup answers may come much later (when the rebalance completes), from another
// request's turn on the owner shard or from the partition's tick.
//
// Ownership and threading: the coordinator owns one slot per partition; a slot (its manager,
// load progress and tick timer) is touched only on the partition's owner shard. The
// partition_host (server/) gives access to the owner shard and its log; the log pointer is
// used only inside one posted function and never kept across a suspension.
//
// Loading: start() (called before the listeners accept connections) has every partition's
// owner shard replay the partition's log into a fresh manager, at most load_chunk_bytes per
// turn on the shard, so connections and other partitions are served in between. Requests for
// a group of a partition still loading are answered as Kafka answers them:
// COORDINATOR_LOAD_IN_PROGRESS, except SyncGroup (REBALANCE_IN_PROGRESS: the rebalance's state
// is lost, rejoin) and Heartbeat (no error). The end of each partition's load is logged
// ("loaded __consumer_offsets-N: G groups, O offsets in T ms").

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "coordinator/group_manager.h"
#include "model/model.h"
#include "storage/log.h"

namespace sluice::coordinator {

// What the coordinator needs of the server: the owner shards of __consumer_offsets and its
// logs. Implemented by server/ over partition_registry.
class partition_host {
 public:
  virtual ~partition_host() = default;
  // Partitions of __consumer_offsets in the current metadata image; 0 when it does not exist.
  virtual int32_t partition_count() const = 0;
  // The executor of the partition's owner shard.
  virtual asio::any_io_executor executor(int32_t partition) = 0;
  // Runs fn(log) on the owner shard (log is nullptr when the partition has no log here).
  virtual void post(int32_t partition, std::function<void(storage::log*)> fn) = 0;
  // Owner shard, after an append: the high watermark moved, waiting fetches may read.
  virtual void appended(int32_t partition) = 0;
  virtual model::leader_epoch leader_epoch(int32_t partition) const = 0;
};

class group_coordinator {
 public:
  // `slots_max`: the most partitions __consumer_offsets can have (offsets.topic.num.partitions,
  // or the existing topic's count when larger). `host` outlives the coordinator.
  group_coordinator(group_settings settings, partition_host& host, int32_t slots_max,
                    int64_t tick_ms = 100);
  ~group_coordinator();
  group_coordinator(const group_coordinator&) = delete;
  group_coordinator& operator=(const group_coordinator&) = delete;

  // Starts loading every partition that exists (call once the shards run).
  void start();
  // Answers every waiting JoinGroup and SyncGroup with NOT_COORDINATOR and stops the ticks;
  // the caller waits for nothing (the answers are posted to the callers' shards).
  void stop();

  // The partition coordinating `group_id`; -1 while __consumer_offsets does not exist.
  int32_t partition_for(std::string_view group_id) const;

  asio::awaitable<join_result> join(join_request req);
  asio::awaitable<sync_result> sync(sync_request req);
  asio::awaitable<errc> heartbeat(std::string group_id, int32_t generation, std::string member_id,
                                  std::optional<std::string> group_instance_id);
  asio::awaitable<leave_result> leave(std::string group_id, std::vector<member_identity> members);
  // The first error is for the whole request; otherwise one error per partition.
  asio::awaitable<std::pair<errc, std::vector<errc>>> commit(commit_request req);
  asio::awaitable<std::pair<errc, std::vector<fetched_offset>>> fetch(
      std::string group_id, std::optional<std::vector<std::pair<std::string, int32_t>>> partitions);
  asio::awaitable<std::pair<errc, std::vector<errc>>> delete_offsets(
      std::string group_id, std::vector<std::pair<std::string, int32_t>> partitions);
  asio::awaitable<errc> delete_group(std::string group_id);
  // Every group of every partition; the error is load_in_progress when a partition loads.
  asio::awaitable<std::pair<errc, std::vector<listed_group>>> list();
  asio::awaitable<std::pair<errc, described_group>> describe(std::string group_id);

 private:
  enum class load_state { not_started, loading, loaded };
  struct slot {
    load_state state = load_state::not_started;
    std::unique_ptr<group_manager> manager;
    storage::log* log = nullptr;  // set only while a posted function runs
    model::offset load_position{0};
    std::chrono::steady_clock::time_point load_started;
    std::unique_ptr<asio::steady_timer> tick_timer;
  };

  // Owner shard: makes the slot usable (loading it when needed). none, or why not.
  errc enter(int32_t partition, storage::log* l);
  bool load_step(int32_t partition);
  void schedule_load(int32_t partition);
  void schedule_tick(int32_t partition);
  bool append(int32_t partition, std::vector<record_entry> records);

  // Runs fn(status, manager, reply) on the partition's owner shard and waits for reply(T).
  template <typename T, typename Fn>
  asio::awaitable<T> call(int32_t partition, Fn fn);

  group_settings _settings;
  partition_host& _host;
  int64_t _tick_ms;
  std::vector<slot> _slots;            // by partition; each touched only on its owner shard
  std::atomic<bool> _stopping{false};  // set by stop(); read on the shards
};

// The reply of one call, filled on the caller's shard.
template <typename T>
struct call_state {
  explicit call_state(asio::any_io_executor ex) : timer(ex) {
    timer.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer timer;
  std::optional<T> value;
};

template <typename T, typename Fn>
asio::awaitable<T> group_coordinator::call(int32_t partition, Fn fn) {
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<call_state<T>>(executor);
  std::function<void(T)> reply = [state](T value) {
    asio::post(state->timer.get_executor(), [state, value = std::move(value)]() mutable {
      state->value = std::move(value);
      state->timer.cancel();
    });
  };
  _host.post(partition, [this, partition, fn = std::move(fn), reply](storage::log* l) mutable {
    errc status = enter(partition, l);
    group_manager* manager = status == errc::none ? _slots[partition].manager.get() : nullptr;
    fn(status, manager, reply);
    if (partition < static_cast<int32_t>(_slots.size())) _slots[partition].log = nullptr;
  });
  while (!state->value) {
    asio::error_code ec;
    auto wait = state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  co_return std::move(*state->value);
}

}  // namespace sluice::coordinator
