#include "server/partition_registry.h"

#include <asio/post.hpp>
#include <chrono>

#include "base/assert.h"
#include "base/logging.h"

namespace sluice::server {

namespace {

// FNV-1a over the topic name and the partition number (little-endian), so that ownership does
// not depend on the standard library's std::hash.
uint64_t stable_hash(const model::topic_partition& tp) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](uint8_t byte) {
    h ^= byte;
    h *= 1099511628211ULL;
  };
  for (char c : tp.topic) mix(static_cast<uint8_t>(c));
  auto p = static_cast<uint32_t>(tp.partition.value());
  for (int i = 0; i < 4; ++i) mix(static_cast<uint8_t>(p >> (8 * i)));
  return h;
}

std::map<std::string, std::string> to_std_map(const cluster::config_map& m) {
  return {m.begin(), m.end()};
}

}  // namespace

partition_registry::partition_registry(storage::log_manager& logs,
                                       const cluster::image_publisher& images,
                                       std::vector<asio::io_context*> shards)
    : _logs(logs), _images(images), _shards(shards.size()) {
  SLUICE_ASSERT(!shards.empty(), "partition_registry needs at least one shard");
  for (size_t i = 0; i < shards.size(); ++i) _shards[i].io = shards[i];
}

unsigned partition_registry::owner_of(const model::topic_partition& tp, size_t shard_count) {
  return static_cast<unsigned>(stable_hash(tp) % shard_count);
}

void partition_registry::create_missing(const cluster::image& image) {
  std::vector<storage::log_manager::new_partition> missing;
  for (const auto& [name, topic] : image.topics()) {
    for (const auto& p : topic->partitions) {
      model::topic_partition tp{name, p.partition};
      if (_logs.get(tp) == nullptr) missing.push_back({std::move(tp), to_std_map(topic->configs)});
    }
  }
  if (missing.empty()) return;
  auto created = _logs.create_all(missing);
  for (size_t i = 0; i < missing.size(); ++i) {
    if (created[i]) continue;
    logger("server")->error("cannot create the log of {}-{}: {}", missing[i].tp.topic,
                            missing[i].tp.partition.value(), created[i].error().describe());
  }
}

void partition_registry::remove_deleted_now(const std::vector<cluster::deleted_topic>& topics,
                                            const cluster::image& image) {
  for (const auto& t : topics) {
    // A topic of the same name created later owns those directories now.
    if (image.find_topic(t.name) != nullptr) continue;
    for (int32_t p = 0; p < t.partition_count; ++p) {
      model::topic_partition tp{t.name, model::partition_id(p)};
      if (_logs.get(tp) == nullptr) continue;
      if (auto r = _logs.remove(tp); !r) {
        logger("server")->error("cannot remove the log of deleted {}-{}: {}", t.name, p,
                                r.error().describe());
      }
    }
  }
}

void partition_registry::remove_deleted(const std::vector<cluster::deleted_topic>& topics,
                                        asio::io_context::executor_type control) {
  for (const auto& t : topics) {
    for (int32_t p = 0; p < t.partition_count; ++p) {
      model::topic_partition tp{t.name, model::partition_id(p)};
      unsigned shard = shard_of(tp);
      // 1. The owner forgets the log; 2. the control thread removes it (and recreates a log for
      // a topic of the same name created meanwhile); 3. the owner may look it up again.
      asio::post(executor(shard), [this, shard, tp, control] {
        auto& state = _shards[shard];
        state.logs.erase(tp);
        state.removing.insert(tp);
        wake_all(state, tp);
        asio::post(control, [this, shard, tp] {
          if (_logs.get(tp) != nullptr) {
            if (auto r = _logs.remove(tp); !r) {
              logger("server")->error("cannot remove the log of deleted {}-{}: {}", tp.topic,
                                      tp.partition.value(), r.error().describe());
            } else {
              logger("server")->info("removed the log of deleted {}-{}", tp.topic,
                                     tp.partition.value());
            }
          }
          create_missing(*_images.current());
          asio::post(executor(shard), [this, shard, tp] { _shards[shard].removing.erase(tp); });
        });
      });
    }
  }
}

void partition_registry::apply_configs(std::shared_ptr<const cluster::image> image) {
  for (unsigned s = 0; s < _shards.size(); ++s) {
    asio::post(executor(s), [this, s, image] {
      for (auto& [tp, l] : _shards[s].logs) {
        auto topic = image->find_topic(tp.topic);
        if (!topic) continue;
        // config_for_topic only reads the manager's immutable defaults: safe on any shard.
        if (auto config = _logs.config_for_topic(to_std_map(topic->configs)); config)
          l->set_config(*config);
      }
    });
  }
}

namespace {

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void partition_registry::start_housekeeping(housekeeping_settings settings) {
  _housekeeping = settings;
  const int64_t now = wall_clock_ms();
  for (unsigned s = 0; s < _shards.size(); ++s) {
    auto& state = _shards[s];
    state.housekeeping_timer = std::make_unique<asio::steady_timer>(*state.io);
    state.last_retention_ms = state.last_checkpoint_ms = state.last_producer_expiry_ms = now;
    schedule_housekeeping(s);
  }
}

void partition_registry::schedule_housekeeping(unsigned shard) {
  auto& timer = *_shards[shard].housekeeping_timer;
  timer.expires_after(std::chrono::milliseconds(_housekeeping.tick_ms));
  timer.async_wait([this, shard](const asio::error_code& ec) {
    if (ec) return;  // cancelled: the registry is going away
    housekeep(shard);
    schedule_housekeeping(shard);
  });
}

void partition_registry::housekeep(unsigned shard) {
  auto& state = _shards[shard];
  const int64_t now = wall_clock_ms();
  const bool check_retention =
      now - state.last_retention_ms >= _housekeeping.retention_check_interval_ms;
  if (check_retention) state.last_retention_ms = now;
  const bool check_producers =
      now - state.last_producer_expiry_ms >= _housekeeping.producer_expiration_check_interval_ms;
  if (check_producers) state.last_producer_expiry_ms = now;
  for (const auto& tp : _logs.partitions()) {
    if (shard_of(tp) != shard) continue;
    storage::log* l = find(shard, tp);
    if (l == nullptr) continue;
    if (check_producers) {
      if (size_t n = l->expire_producers(now, _housekeeping.producer_expiration_ms); n > 0) {
        logger("server")->info("{}-{}: expired {} idle producer ids", tp.topic,
                               tp.partition.value(), n);
      }
    }
    if (auto r = storage::log_manager::housekeep(*l, now, check_retention, {}); !r) {
      logger("server")->error("housekeeping of {}-{}: {}", tp.topic, tp.partition.value(),
                              r.error().describe());
    }
  }
  if (shard == 0 && now - state.last_checkpoint_ms >= _housekeeping.checkpoint_interval_ms) {
    state.last_checkpoint_ms = now;
    if (auto r = _logs.write_checkpoints(); !r)
      logger("server")->error("writing checkpoints: {}", r.error().describe());
  }
}

storage::log* partition_registry::find(unsigned shard, const model::topic_partition& tp) {
  auto& state = _shards[shard];
  if (auto it = state.logs.find(tp); it != state.logs.end()) return it->second;
  if (state.removing.contains(tp)) return nullptr;
  storage::log* l = _logs.get(tp);
  if (l == nullptr) return nullptr;
  // The topic's settings may have changed since the log was created or loaded.
  if (auto topic = _images.current()->find_topic(tp.topic)) {
    if (auto config = _logs.config_for_topic(to_std_map(topic->configs)); config)
      l->set_config(*config);
  }
  state.logs.emplace(tp, l);
  return l;
}

void partition_registry::wake_all(shard_state& state, const model::topic_partition& tp) {
  auto it = state.waiters.find(tp);
  if (it == state.waiters.end()) return;
  for (auto& weak : it->second) {
    if (auto w = weak.lock()) asio::post(w->executor, [w] { w->wake(); });
  }
  state.waiters.erase(it);
}

void partition_registry::stop_waiters() {
  // The flag is set before the posts: a waiter added on a shard before that shard runs its post
  // is woken by it, one added after sees the flag.
  _stopping.store(true, std::memory_order_release);
  for (unsigned s = 0; s < _shards.size(); ++s) {
    asio::post(executor(s), [this, s] {
      auto& state = _shards[s];
      for (auto& [tp, list] : state.waiters) {
        for (auto& weak : list)
          if (auto w = weak.lock()) asio::post(w->executor, [w] { w->wake(); });
      }
      state.waiters.clear();
    });
  }
}

void partition_registry::notify_append(const model::topic_partition& tp) {
  wake_all(_shards[shard_of(tp)], tp);
}

void partition_registry::add_waiter(const model::topic_partition& tp, model::offset fetch_offset,
                                    const std::shared_ptr<fetch_waiter>& waiter) {
  unsigned shard = shard_of(tp);
  auto& state = _shards[shard];
  storage::log* l = find(shard, tp);
  if (l == nullptr || l->high_watermark() > fetch_offset || stopping()) {
    asio::post(waiter->executor, [waiter] { waiter->wake(); });
    return;
  }
  auto& list = state.waiters[tp];
  if (list.size() >= waiters_prune_threshold) {
    std::erase_if(list, [](const std::weak_ptr<fetch_waiter>& w) { return w.expired(); });
  }
  list.push_back(waiter);
}

}  // namespace sluice::server
