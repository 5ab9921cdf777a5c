// log: durability. The flush policy (flush.messages, flush.ms), synchronous flush, and group
// commit: waiters for durability share one fdatasync that runs on the flusher's thread.

#include <fmt/format.h>

#include "base/logging.h"
#include "storage/log.h"

namespace sluice::storage {

void log::set_recovery_point(model::offset offset) {
  _recovery_point = offset;
  _recovery_point_published.store(offset.value());
}

void log::fail(const error& why) {
  if (_failed) return;
  _failed = true;
  // After a failed fsync the page cache may hold bytes the disk lost, so the log must not take
  // more writes; the log manager reports the partition offline.
  logger("storage")->error("{}: log failed and is now read-only: {}", _dir, why.describe());
}

sresult<void> log::flush() {
  if (_failed) return failure(make_error(errc::log_failed, fmt::format("{} failed", _dir)));
  model::offset target = _log_end;
  if (target <= _recovery_point) return {};
  segment* first = segment_for(_recovery_point);
  bool started = first == nullptr;
  for (const auto& s : _segments) {
    started = started || s.get() == first;
    if (!started) continue;
    // Index files are not written here: recovery rebuilds the indexes of every segment after
    // the recovery point, and seal() writes them when the segment stops being active.
    if (auto r = s->log_file()->fdatasync(); !r) {
      fail(r.error());
      return r;
    }
  }
  set_recovery_point(target);
  _last_flush_ms = _clock();
  while (!_waiters.empty() && _waiters.front().up_to <= _recovery_point) {
    auto w = std::move(_waiters.front());
    _waiters.pop_front();
    w.done({});
  }
  return {};
}

void log::sync(model::offset up_to, sync_callback done) {
  if (_failed) {
    done(failure(make_error(errc::log_failed, fmt::format("{} failed", _dir))));
    return;
  }
  if (up_to <= _recovery_point) {
    done({});
    return;
  }
  if (_flusher == nullptr) {
    done(flush());
    return;
  }
  // Waiters are queued in offset order because offsets are only ever appended.
  _waiters.push_back({up_to, std::move(done)});
  if (!_sync_in_flight) start_sync();
}

void log::start_sync() {
  SLUICE_ASSERT(!_sync_in_flight, "{}: second sync in flight", _dir);
  model::offset covered = _log_end;
  flush_job job;
  segment* first = segment_for(_recovery_point);
  bool started = first == nullptr;
  for (const auto& s : _segments) {
    started = started || s.get() == first;
    if (!started) continue;
    job.files.push_back(s->log_file());
  }
  _sync_in_flight = true;
  std::weak_ptr<sync_state> state = _sync_state;
  auto post = _post;
  job.done = [state, post, covered](sresult<void> outcome) {
    post([state, covered, outcome = std::move(outcome)]() mutable {
      auto alive = state.lock();
      if (alive && alive->owner != nullptr) alive->owner->finish_sync(covered, std::move(outcome));
    });
  };
  _flusher->submit(std::move(job));
}

void log::finish_sync(model::offset covered, sresult<void> outcome) {
  _sync_in_flight = false;
  if (!outcome) {
    fail(outcome.error());
    auto waiters = std::move(_waiters);
    _waiters.clear();
    for (auto& w : waiters) w.done(failure(outcome.error()));
    return;
  }
  // A truncation while the sync was in flight may have moved the log end below `covered`.
  if (covered > _recovery_point) set_recovery_point(std::min(covered, _log_end));
  _last_flush_ms = _clock();
  while (!_waiters.empty() && _waiters.front().up_to <= _recovery_point) {
    auto w = std::move(_waiters.front());
    _waiters.pop_front();
    w.done({});
  }
  if (!_waiters.empty() && !_failed) start_sync();
}

void log::maybe_flush(int64_t now_ms) {
  if (_failed || _log_end <= _recovery_point) return;
  if (_config.flush_ms == log_config::never || now_ms - _last_flush_ms < _config.flush_ms) return;
  if (_flusher != nullptr) {
    if (!_sync_in_flight) start_sync();
    return;
  }
  if (auto r = flush(); !r) {
    logger("storage")->error("flush.ms flush of {} failed: {}", _dir, r.error().describe());
  }
}

sresult<void> log::close() {
  if (_closed) return {};
  _closed = true;
  sresult<void> outcome;
  if (!_failed) {
    outcome = flush();
    if (outcome) outcome = _segments.back()->seal();
    if (outcome) {
      // A failed snapshot costs only a longer replay at the next start.
      if (auto r = snapshot_producers(); !r) {
        logger("storage")->error("{}: producer snapshot at close failed: {}", _dir,
                                 r.error().describe());
      }
    }
  } else {
    outcome = failure(make_error(errc::log_failed, fmt::format("{} failed", _dir)));
  }
  _sync_state->owner = nullptr;
  auto waiters = std::move(_waiters);
  _waiters.clear();
  for (auto& w : waiters) {
    w.done(outcome ? sresult<void>() : sresult<void>(failure(outcome.error())));
  }
  return outcome;
}

}  // namespace sluice::storage
