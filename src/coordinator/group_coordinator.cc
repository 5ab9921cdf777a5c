#include "coordinator/group_coordinator.h"

#include <chrono>

#include "base/assert.h"
#include "base/logging.h"
#include "coordinator/placement.h"
#include "protocol/batch_builder.h"
#include "protocol/record_batch.h"
#include "storage/file_system.h"

namespace sluice::coordinator {

namespace {

join_result join_failure(errc e, std::string member_id = {}) {
  join_result r;
  r.error = e;
  r.member_id = std::move(member_id);
  return r;
}

sync_result sync_failure(errc e) {
  sync_result r;
  r.error = e;
  return r;
}

// How much of the log one loading turn reads and replays, so that a large partition does not
// hold its shard for long: about a thousand offset commits, a millisecond or two of work.
constexpr uint64_t load_chunk_bytes = uint64_t{64} << 10;

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

group_coordinator::group_coordinator(group_settings settings, partition_host& host,
                                     int32_t slots_max, int64_t tick_ms)
    : _settings(settings), _host(host), _tick_ms(tick_ms), _slots(static_cast<size_t>(slots_max)) {
  SLUICE_ASSERT(slots_max > 0, "{} slots", slots_max);
}

group_coordinator::~group_coordinator() = default;

int32_t group_coordinator::partition_for(std::string_view group_id) const {
  int32_t count = _host.partition_count();
  if (count <= 0) return -1;
  count = std::min<int32_t>(count, static_cast<int32_t>(_slots.size()));
  return partition_for_group(group_id, count);
}

void group_coordinator::start() {
  const int32_t count =
      std::min<int32_t>(_host.partition_count(), static_cast<int32_t>(_slots.size()));
  for (int32_t p = 0; p < count; ++p) {
    _host.post(p, [this, p](storage::log* l) {
      enter(p, l);
      _slots[p].log = nullptr;
    });
  }
}

void group_coordinator::stop() {
  _stopping = true;
  for (int32_t p = 0; p < static_cast<int32_t>(_slots.size()); ++p) {
    _host.post(p, [this, p](storage::log*) {
      auto& s = _slots[p];
      if (s.tick_timer) s.tick_timer->cancel();
      if (s.manager) s.manager->abort_waiting(errc::not_coordinator);
    });
  }
}

errc group_coordinator::enter(int32_t partition, storage::log* l) {
  if (partition < 0 || partition >= static_cast<int32_t>(_slots.size()))
    return errc::not_coordinator;
  if (_stopping) return errc::coordinator_not_available;  // as Kafka's inactive coordinator
  slot& s = _slots[partition];
  if (l == nullptr) return errc::coordinator_not_available;
  s.log = l;
  if (s.state == load_state::not_started) {
    s.manager = std::make_unique<group_manager>(
        _settings, [] { return wall_clock_ms(); },
        [this, partition](std::vector<record_entry> records) {
          return append(partition, std::move(records));
        },
        static_cast<uint64_t>(wall_clock_ms()) ^ static_cast<uint64_t>(partition));
    s.load_position = l->log_start_offset();
    s.load_started = std::chrono::steady_clock::now();
    s.state = load_state::loading;
    logger("coordinator")
        ->info("loading {}-{} from offset {}", offsets_topic, partition, s.load_position.value());
    if (!load_step(partition)) {
      schedule_load(partition);
      return errc::load_in_progress;
    }
  }
  if (s.state == load_state::loading) return errc::load_in_progress;
  return errc::none;
}

void group_coordinator::schedule_load(int32_t partition) {
  _host.post(partition, [this, partition](storage::log* l) {
    slot& s = _slots[partition];
    if (l == nullptr || _stopping) return;
    s.log = l;
    if (!load_step(partition)) schedule_load(partition);
    s.log = nullptr;
  });
}

// Replays up to load_chunk_bytes of the partition; true once the end is reached.
bool group_coordinator::load_step(int32_t partition) {
  slot& s = _slots[partition];
  storage::log& l = *s.log;
  auto finish = [&] {
    s.manager->finish_load();
    s.state = load_state::loaded;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - s.load_started)
                        .count();
    logger("coordinator")
        ->info("loaded {}-{}: {} groups, {} offsets in {} ms ({} records skipped)", offsets_topic,
               partition, s.manager->group_count(), s.manager->offset_count(), ms,
               s.manager->skipped_records());
    schedule_tick(partition);
    return true;
  };
  if (s.load_position >= l.log_end_offset()) return finish();
  s.load_position = std::max(s.load_position, l.log_start_offset());
  auto read = l.read(s.load_position, load_chunk_bytes, l.log_end_offset(), true);
  if (!read || !read->range) {
    if (!read)
      logger("coordinator")
          ->error("loading {}-{}: {}", offsets_topic, partition, read.error().describe());
    return finish();
  }
  std::vector<uint8_t> buffer(read->range->length);
  auto got = storage::read_exact(*read->range->log, read->range->position, buffer);
  if (!got || *got != buffer.size()) {
    logger("coordinator")->error("loading {}-{}: short read", offsets_topic, partition);
    return finish();
  }
  std::span<const uint8_t> rest(buffer);
  model::offset next = s.load_position;
  while (!rest.empty()) {
    auto header = protocol::read_batch_header(rest);
    if (!header || header->size_bytes() > rest.size()) break;
    auto batch = rest.first(header->size_bytes());
    rest = rest.subspan(header->size_bytes());
    next = model::offset(header->last_offset() + 1);
    if (header->is_control()) continue;
    auto records = protocol::read_records(batch);
    if (!records) continue;
    for (const auto& r : records->records) {
      if (header->base_offset + r.offset_delta < s.load_position.value() || !r.key) continue;
      s.manager->replay(*r.key, r.value);
    }
  }
  if (next <= s.load_position) return finish();  // nothing whole to read: treat as the end
  s.load_position = next;
  return s.load_position >= l.log_end_offset() ? finish() : false;
}

void group_coordinator::schedule_tick(int32_t partition) {
  slot& s = _slots[partition];
  if (!s.tick_timer) s.tick_timer = std::make_unique<asio::steady_timer>(_host.executor(partition));
  // At the partition's next deadline (a session, a rebalance, a retention check), and at least
  // every tick interval; a deadline already past is left to the next interval, so that
  // something that cannot be resolved never spins the shard.
  int64_t delay_ms = _tick_ms;
  if (s.manager) {
    const int64_t until = s.manager->next_deadline_ms() - wall_clock_ms();
    if (until > 0) delay_ms = std::min(delay_ms, until);
  }
  s.tick_timer->expires_after(std::chrono::milliseconds(delay_ms));
  s.tick_timer->async_wait([this, partition](const asio::error_code& ec) {
    if (ec || _stopping) return;
    _host.post(partition, [this, partition](storage::log* l) {
      slot& s = _slots[partition];
      if (l != nullptr && s.manager && s.state == load_state::loaded && !_stopping) {
        s.log = l;
        s.manager->tick();
        s.log = nullptr;
      }
      schedule_tick(partition);
    });
  });
}

bool group_coordinator::append(int32_t partition, std::vector<record_entry> records) {
  slot& s = _slots[partition];
  if (s.log == nullptr || records.empty()) return false;
  protocol::batch_builder builder;
  const int64_t now = s.log->now_ms();
  for (const auto& r : records) {
    std::optional<std::span<const uint8_t>> value;
    if (r.value) value = std::span<const uint8_t>(*r.value);
    builder.add(now, std::span<const uint8_t>(r.key), value);
  }
  auto batch = builder.build();
  auto appended = s.log->append(batch, _host.leader_epoch(partition));
  if (!appended) {
    logger("coordinator")
        ->error("append to {}-{}: {}", offsets_topic, partition, appended.error().describe());
    return false;
  }
  s.log->set_high_watermark(s.log->log_end_offset());
  _host.appended(partition);
  return true;
}

asio::awaitable<join_result> group_coordinator::join(join_request req) {
  const int32_t p = partition_for(req.group_id);
  if (p < 0) co_return join_failure(errc::coordinator_not_available);
  auto call_ =
      call<join_result>(p, [req = std::move(req)](errc status, group_manager* m,
                                                  std::function<void(join_result)> reply) mutable {
        if (!m) {
          join_result r;
          r.error = status;
          r.member_id = req.member_id;
          return reply(std::move(r));
        }
        m->join(std::move(req), std::move(reply));
      });
  co_return co_await std::move(call_);
}

asio::awaitable<sync_result> group_coordinator::sync(sync_request req) {
  const int32_t p = partition_for(req.group_id);
  if (p < 0) co_return sync_failure(errc::coordinator_not_available);
  auto call_ =
      call<sync_result>(p, [req = std::move(req)](errc status, group_manager* m,
                                                  std::function<void(sync_result)> reply) mutable {
        // As Kafka: a loading coordinator has lost the rebalance in progress; REBALANCE_IN_PROGRESS
        // has the member rejoin (older clients do not expect COORDINATOR_LOAD_IN_PROGRESS here).
        if (!m)
          return reply(sync_failure(status == errc::load_in_progress ? errc::rebalance_in_progress
                                                                     : status));
        m->sync(std::move(req), std::move(reply));
      });
  co_return co_await std::move(call_);
}

asio::awaitable<errc> group_coordinator::heartbeat(std::string group_id, int32_t generation,
                                                   std::string member_id,
                                                   std::optional<std::string> group_instance_id) {
  const int32_t p = partition_for(group_id);
  if (p < 0) co_return errc::coordinator_not_available;
  auto call_ = call<errc>(p, [=](errc status, group_manager* m, std::function<void(errc)> reply) {
    // As Kafka: while the partition loads, a heartbeat is answered without error.
    if (!m) return reply(status == errc::load_in_progress ? errc::none : status);
    reply(m->heartbeat(group_id, generation, member_id, group_instance_id));
  });
  co_return co_await std::move(call_);
}

asio::awaitable<leave_result> group_coordinator::leave(std::string group_id,
                                                       std::vector<member_identity> members) {
  const int32_t p = partition_for(group_id);
  if (p < 0) co_return leave_result{errc::coordinator_not_available, {}};
  auto call_ = call<leave_result>(
      p, [=](errc status, group_manager* m, std::function<void(leave_result)> reply) {
        reply(m ? m->leave(group_id, members) : leave_result{status, {}});
      });
  co_return co_await std::move(call_);
}

asio::awaitable<std::pair<errc, std::vector<errc>>> group_coordinator::commit(commit_request req) {
  using out_t = std::pair<errc, std::vector<errc>>;
  if (req.group_id.empty()) co_return out_t{errc::invalid_group_id, {}};
  const int32_t p = partition_for(req.group_id);
  if (p < 0) co_return out_t{errc::coordinator_not_available, {}};
  auto call_ = call<out_t>(
      p, [req = std::move(req)](errc status, group_manager* m, std::function<void(out_t)> reply) {
        if (!m) return reply(out_t{status, {}});
        errc valid = m->validate_commit(req);
        if (valid != errc::none) return reply(out_t{valid, {}});
        reply(out_t{errc::none, m->commit(req)});
      });
  co_return co_await std::move(call_);
}

asio::awaitable<std::pair<errc, std::vector<fetched_offset>>> group_coordinator::fetch(
    std::string group_id, std::optional<std::vector<std::pair<std::string, int32_t>>> partitions) {
  using out_t = std::pair<errc, std::vector<fetched_offset>>;
  const int32_t p = partition_for(group_id);
  if (p < 0) co_return out_t{errc::coordinator_not_available, {}};
  auto call_ = call<out_t>(p, [=](errc status, group_manager* m, std::function<void(out_t)> reply) {
    if (!m) return reply(out_t{status, {}});
    reply(out_t{errc::none, m->fetch(group_id, partitions)});
  });
  co_return co_await std::move(call_);
}

asio::awaitable<std::pair<errc, std::vector<errc>>> group_coordinator::delete_offsets(
    std::string group_id, std::vector<std::pair<std::string, int32_t>> partitions) {
  using out_t = std::pair<errc, std::vector<errc>>;
  if (group_id.empty()) co_return out_t{errc::invalid_group_id, {}};
  const int32_t p = partition_for(group_id);
  if (p < 0) co_return out_t{errc::coordinator_not_available, {}};
  auto call_ = call<out_t>(p, [=](errc status, group_manager* m, std::function<void(out_t)> reply) {
    if (!m) return reply(out_t{status, {}});
    errc valid = m->validate_offset_delete(group_id);
    if (valid != errc::none) return reply(out_t{valid, {}});
    reply(out_t{errc::none, m->delete_offsets(group_id, partitions)});
  });
  co_return co_await std::move(call_);
}

asio::awaitable<errc> group_coordinator::delete_group(std::string group_id) {
  if (group_id.empty()) co_return errc::invalid_group_id;
  const int32_t p = partition_for(group_id);
  if (p < 0) co_return errc::group_id_not_found;
  auto call_ = call<errc>(p, [=](errc status, group_manager* m, std::function<void(errc)> reply) {
    reply(m ? m->delete_group(group_id) : status);
  });
  co_return co_await std::move(call_);
}

asio::awaitable<std::pair<errc, std::vector<listed_group>>> group_coordinator::list() {
  using out_t = std::pair<errc, std::vector<listed_group>>;
  out_t out{errc::none, {}};
  const int32_t count =
      std::min<int32_t>(_host.partition_count(), static_cast<int32_t>(_slots.size()));
  for (int32_t p = 0; p < count; ++p) {
    auto call_ =
        call<out_t>(p, [](errc status, group_manager* m, std::function<void(out_t)> reply) {
          reply(m ? out_t{errc::none, m->list()} : out_t{status, {}});
        });
    auto part = co_await std::move(call_);
    if (part.first == errc::load_in_progress) out.first = errc::load_in_progress;
    for (auto& g : part.second) out.second.push_back(std::move(g));
  }
  co_return out;
}

asio::awaitable<std::pair<errc, described_group>> group_coordinator::describe(
    std::string group_id) {
  using out_t = std::pair<errc, described_group>;
  const int32_t p = partition_for(group_id);
  if (p < 0) {
    described_group d;
    d.group_id = group_id;
    co_return out_t{errc::none, d};
  }
  auto call_ = call<out_t>(p, [=](errc status, group_manager* m, std::function<void(out_t)> reply) {
    if (!m) {
      described_group d;
      d.group_id = group_id;
      return reply(out_t{status, std::move(d)});
    }
    reply(out_t{errc::none, m->describe(group_id)});
  });
  co_return co_await std::move(call_);
}

}  // namespace sluice::coordinator
