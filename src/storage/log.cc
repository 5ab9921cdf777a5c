// log: construction, append, read and lookups. Loading is in log_load.cc, durability in
// log_sync.cc, truncation and retention in log_retention.cc.

#include "storage/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "base/logging.h"
#include "storage/format.h"

namespace sluice::storage {

namespace {
int64_t system_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

log::log(file_system& fs, std::string dir, model::topic_partition tp, log_config config,
         log_open_options options)
    : _fs(fs),
      _dir(std::move(dir)),
      _tp(std::move(tp)),
      _config(config),
      _clock(options.clock ? options.clock : system_clock_ms),
      _flusher(options.group_commit),
      _post(options.post),
      _epochs(fs, join_path(_dir, std::string(leader_epoch_checkpoint_name))),
      _sync_state(std::make_shared<sync_state>(sync_state{this})) {
  SLUICE_ASSERT(_flusher == nullptr || _post, "group commit for {} needs a post function", _dir);
}

log::~log() {
  _sync_state->owner = nullptr;
  for (auto& w : _waiters) w.done(failure(make_error(errc::log_failed, "log closed")));
}

sresult<std::unique_ptr<log>> log::open(file_system& fs, std::string dir, model::topic_partition tp,
                                        log_config config, log_open_options options) {
  std::unique_ptr<log> l(new log(fs, std::move(dir), std::move(tp), config, options));
  if (auto r = l->load(options); !r) return failure(r.error());
  return l;
}

sresult<append_result> log::append(std::span<uint8_t> bytes, model::leader_epoch epoch) {
  std::vector<batch_info> infos;
  model::offset next = _log_end;
  size_t position = 0;
  // The producers this append touches, as they will be once it succeeds (usually none or one).
  std::vector<std::pair<int64_t, producer_entry>> touched;
  while (position < bytes.size()) {
    auto batch = bytes.subspan(position);
    auto info = parse_batch_header(batch);
    if (!info || info->size_bytes > batch.size()) {
      return failure(
          make_error(errc::invalid_argument,
                     fmt::format("append to {}: no whole batch at byte {}", _dir, position)));
    }
    if (info->size_bytes > static_cast<uint32_t>(std::max(_config.max_message_bytes, 0))) {
      return failure(make_error(errc::record_too_large,
                                fmt::format("batch of {} bytes, max.message.bytes {}",
                                            info->size_bytes, _config.max_message_bytes)));
    }
    producer_entry* entry = nullptr;
    if (info->producer_id >= 0 && info->base_sequence >= 0) {
      auto it = std::find_if(touched.begin(), touched.end(),
                             [&](const auto& t) { return t.first == info->producer_id; });
      if (it == touched.end()) {
        const producer_entry* known = _producers.find(info->producer_id);
        touched.emplace_back(info->producer_id, known ? *known : producer_entry{});
        it = std::prev(touched.end());
        if (known == nullptr) it->second.epoch = -1;
      }
      entry = &it->second;
      auto check = producer_state::check(entry->epoch < 0 ? nullptr : entry, *info);
      switch (check.verdict) {
        case sequence_verdict::append:
          break;
        case sequence_verdict::duplicate: {
          // As Kafka: the whole append is answered with the batch already in the log.
          const auto& d = check.duplicate_of;
          return append_result{d.first_offset, d.last_offset, 0, true, d.max_timestamp};
        }
        case sequence_verdict::out_of_order:
          return failure(
              make_error(errc::out_of_order_sequence, fmt::format("{}: {}", _dir, check.message)));
        case sequence_verdict::fenced:
          return failure(
              make_error(errc::invalid_producer_epoch, fmt::format("{}: {}", _dir, check.message)));
      }
    }
    int64_t delta = info->last_offset - info->base_offset;
    patch_batch(batch.first(info->size_bytes), next, epoch);
    info->base_offset = next;
    info->last_offset = next + delta;
    info->leader_epoch = epoch;
    if (entry != nullptr) producer_state::record(*entry, *info);
    next = info->last_offset + 1;
    position += info->size_bytes;
    infos.push_back(*info);
  }
  if (infos.empty()) {
    return failure(make_error(errc::invalid_argument, "append of an empty record set"));
  }
  auto appended = append_batches(bytes, infos);
  if (appended) {
    for (auto& [id, entry] : touched) _producers.put(id, std::move(entry));
  }
  return appended;
}

sresult<append_result> log::append_with_offsets(std::span<uint8_t> bytes) {
  std::vector<batch_info> infos;
  model::offset next = _log_end;
  size_t position = 0;
  while (position < bytes.size()) {
    auto info = parse_batch_header(bytes.subspan(position));
    if (!info || info->size_bytes > bytes.size() - position || info->base_offset < next) {
      return failure(make_error(errc::invalid_argument,
                                fmt::format("append to {}: bad batch at byte {} (expected offset "
                                            ">= {})",
                                            _dir, position, next.value())));
    }
    next = info->last_offset + 1;
    position += info->size_bytes;
    infos.push_back(*info);
  }
  if (infos.empty()) {
    return failure(make_error(errc::invalid_argument, "append of an empty record set"));
  }
  return append_batches(bytes, infos);
}

sresult<append_result> log::append_batches(std::span<uint8_t> bytes,
                                           std::vector<batch_info>& infos) {
  if (_failed || _closed) {
    return failure(make_error(errc::log_failed, fmt::format("{} is not writable", _dir)));
  }
  // The epoch checkpoint is written before the data so that it never lags the log.
  for (const auto& info : infos) {
    if (auto r = _epochs.assign(info.leader_epoch, info.base_offset); !r) return failure(r.error());
  }
  if (auto r = maybe_roll(infos, bytes.size()); !r) return failure(r.error());
  auto r = _segments.back()->append(bytes, infos);
  if (!r) {
    if (r.error().code == errc::log_failed) fail(r.error());
    return failure(r.error());
  }
  append_result out{infos.front().base_offset, infos.back().last_offset, bytes.size()};
  _log_end = infos.back().last_offset + 1;
  if (_log_end - _recovery_point >= _config.flush_messages) {
    if (_flusher != nullptr) {
      if (!_sync_in_flight) start_sync();
    } else if (auto f = flush(); !f) {
      // The data is in the log; only its durability is in doubt, and the log is now failed.
      logger("storage")->error("flush.messages flush of {} failed: {}", _dir, f.error().describe());
    }
  }
  return out;
}

sresult<void> log::maybe_roll(const std::vector<batch_info>& infos, uint64_t bytes) {
  auto& active = *_segments.back();
  model::timestamp_ms max_timestamp{-1};
  for (const auto& i : infos) max_timestamp = std::max(max_timestamp, i.max_timestamp);
  bool misplaced = active.empty() && active.base_offset() != infos.front().base_offset;
  if (!misplaced &&
      !active.should_roll(static_cast<uint32_t>(std::min<uint64_t>(bytes, UINT32_MAX)),
                          infos.back().last_offset, max_timestamp, _clock())) {
    return {};
  }
  if (misplaced) {
    // An empty active segment whose base is not where the next batch goes (after a follower
    // append with a gap): replace it so that file names keep matching base offsets.
    auto empty = _segments.back();
    _segments.pop_back();
    if (auto r = delete_segment(empty, _clock()); !r) return r;
    auto fresh = segment::create(_fs, _dir, infos.front().base_offset, _config, _clock());
    if (!fresh) return failure(fresh.error());
    _segments.push_back(std::move(*fresh));
    return {};
  }
  return roll();
}

sresult<void> log::roll() {
  auto& active = *_segments.back();
  if (auto r = active.seal(); !r) return r;
  auto fresh = segment::create(_fs, _dir, _log_end, _config, _clock());
  if (!fresh) return failure(fresh.error());
  logger("storage")->debug("{}: rolled segment at offset {}", _dir, _log_end.value());
  _segments.push_back(std::move(*fresh));
  // A snapshot at every segment base bounds what recovery must replay to one segment. Its
  // failure costs only a longer replay, so the roll goes on.
  if (auto r = snapshot_producers(); !r) {
    logger("storage")->error("{}: producer snapshot at {} failed: {}", _dir, _log_end.value(),
                             r.error().describe());
  }
  return {};
}

segment* log::segment_for(model::offset offset) const {
  auto it = std::upper_bound(
      _segments.begin(), _segments.end(), offset,
      [](model::offset o, const std::shared_ptr<segment>& s) { return o < s->base_offset(); });
  if (it == _segments.begin()) return nullptr;
  return std::prev(it)->get();
}

sresult<read_result> log::read(model::offset start, uint64_t max_bytes, model::offset end_offset,
                               bool min_one_batch) {
  read_result out{std::nullopt, _log_start, _high_watermark, _log_end};
  if (start < _log_start || start > _log_end) {
    return failure(make_error(errc::offset_out_of_range,
                              fmt::format("offset {} outside [{}, {}] of {}", start.value(),
                                          _log_start.value(), _log_end.value(), _dir)));
  }
  model::offset end = std::min(end_offset, _log_end);
  if (start >= end) return out;
  auto it = std::upper_bound(
      _segments.begin(), _segments.end(), start,
      [](model::offset o, const std::shared_ptr<segment>& s) { return o < s->base_offset(); });
  if (it != _segments.begin()) --it;
  for (; it != _segments.end() && (*it)->base_offset() < end; ++it) {
    (*it)->set_last_use(++_use_tick);
    auto range = (*it)->read(start, end, max_bytes, min_one_batch);
    if (!range) return failure(range.error());
    if (*range) {
      if ((*range)->length > 0) out.range = std::move(*range);
      break;
    }
  }
  trim_index_memory();
  return out;
}

sresult<std::optional<offset_and_timestamp>> log::offset_for_timestamp(
    model::timestamp_ms timestamp) {
  struct trim_on_exit {
    log* owner;
    ~trim_on_exit() { owner->trim_index_memory(); }
  } trim{this};
  for (const auto& s : _segments) {
    s->set_last_use(++_use_tick);
    auto largest = s->largest_timestamp();
    if (!largest) return failure(largest.error());
    if (*largest < timestamp) continue;
    auto found = s->find_batch_by_timestamp(timestamp);
    if (!found) return failure(found.error());
    if (!*found) continue;
    // Kafka answers with the exact record: decode the batch the index led to.
    std::vector<uint8_t> bytes((*found)->info.size_bytes);
    auto n = read_exact(*s->log_file(), (*found)->position, bytes);
    if (!n) return failure(n.error());
    if (auto record = first_record_at_or_after(bytes, timestamp, _log_start)) {
      return std::optional<offset_and_timestamp>(
          offset_and_timestamp{record->offset, record->timestamp});
    }
    // Undecodable records, or all below the log start offset: answer with the batch.
    model::offset offset = std::max((*found)->info.base_offset, _log_start);
    return std::optional<offset_and_timestamp>(
        offset_and_timestamp{offset, (*found)->info.max_timestamp});
  }
  return std::optional<offset_and_timestamp>{};
}

void log::trim_index_memory() {
  std::vector<segment*> loaded;
  for (size_t i = 0; i + 1 < _segments.size(); ++i) {
    if (_segments[i]->indexes_loaded()) loaded.push_back(_segments[i].get());
  }
  if (loaded.size() <= sealed_indexes_max) return;
  std::sort(loaded.begin(), loaded.end(),
            [](segment* a, segment* b) { return a->last_use() < b->last_use(); });
  for (size_t i = 0; i + sealed_indexes_max < loaded.size(); ++i) loaded[i]->release_indexes();
}

void log::set_high_watermark(model::offset offset) {
  _high_watermark = std::clamp(offset, _log_start, _log_end);
}

uint64_t log::size_bytes() const {
  uint64_t total = 0;
  for (const auto& s : _segments) total += s->size_bytes();
  return total;
}

sresult<void> log::snapshot_producers() {
  // With no producer and no older snapshot to supersede, there is nothing worth a file.
  if (_producers.empty() && !_has_producer_snapshots) return {};
  auto blob = _producers.encode();
  if (auto r = storage::write_producer_snapshot(_fs, _dir, _log_end, blob); !r) return r;
  _has_producer_snapshots = true;
  return clean_producer_snapshots(_fs, _dir, _log_end, 2);
}

size_t log::expire_producers(int64_t now_ms, int64_t expiration_ms) {
  return _producers.expire(now_ms, expiration_ms);
}

sresult<std::optional<producer_snapshot>> log::latest_producer_snapshot() {
  return read_latest_producer_snapshot(_fs, _dir, _log_end);
}

}  // namespace sluice::storage
