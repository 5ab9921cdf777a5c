// log: truncation, the log start offset, retention and deferred deletion of segments.

#include <fmt/format.h>

#include <algorithm>

#include "base/logging.h"
#include "storage/format.h"
#include "storage/log.h"

namespace sluice::storage {

void log::set_log_start(model::offset offset) {
  _log_start = offset;
  _log_start_published.store(offset.value());
  if (_high_watermark < _log_start) _high_watermark = _log_start;
  if (cleaned_offset() < _log_start) set_cleaned_offset(_log_start);
}

sresult<void> log::delete_segment(std::shared_ptr<segment> s, int64_t now_ms) {
  if (auto r = s->rename_for_delete(); !r) return r;
  _pending_deletes.push_back({std::move(s), now_ms + _config.file_delete_delay_ms});
  return {};
}

sresult<size_t> log::remove_deleted_segments(int64_t now_ms) {
  size_t removed = 0;
  for (auto it = _pending_deletes.begin(); it != _pending_deletes.end();) {
    // use_count() == 1: only this segment holds its file, so no reader is sending from it.
    if (now_ms < it->delete_after_ms || it->seg->log_file().use_count() > 1) {
      ++it;
      continue;
    }
    if (auto r = it->seg->remove_files(); !r) return failure(r.error());
    it = _pending_deletes.erase(it);
    ++removed;
  }
  return removed;
}

sresult<void> log::truncate_to(model::offset offset) {
  if (_failed) return failure(make_error(errc::log_failed, fmt::format("{} failed", _dir)));
  if (offset >= _log_end) return {};
  int64_t now = _clock();
  if (offset < _log_start || offset <= _segments.front()->base_offset()) {
    // Everything goes; the log restarts empty at `offset`.
    auto fresh = segment::create(_fs, _dir, offset, _config, now);
    if (!fresh && fresh.error().code != errc::already_exists) return failure(fresh.error());
    for (auto& s : _segments) {
      if (fresh || s->base_offset() != offset) {
        if (auto r = delete_segment(s, now); !r) return r;
      }
    }
    if (!fresh) {
      // The first segment already starts at `offset`: empty it in place.
      auto keep = _segments.front();
      if (auto r = keep->truncate_to(offset); !r) return r;
      _segments = {keep};
    } else {
      _segments = {std::move(*fresh)};
    }
    _log_end = offset;
    set_log_start(offset);
  } else {
    while (_segments.size() > 1 && _segments.back()->base_offset() >= offset) {
      if (auto r = delete_segment(_segments.back(), now); !r) return r;
      _segments.pop_back();
    }
    auto& active = *_segments.back();
    if (auto r = active.truncate_to(offset); !r) return r;
    // A sealed segment may have become the active one: appends need its indexes in memory.
    if (auto r = active.ensure_indexes(); !r) return r;
    if (auto r = active.log_file()->fdatasync(); !r) {
      fail(r.error());
      return r;
    }
    _log_end = active.next_offset();
  }
  if (auto r = _fs.sync_dir(_dir); !r) return r;
  _high_watermark = std::min(_high_watermark, _log_end);
  if (_recovery_point > _log_end) set_recovery_point(_log_end);
  set_cleaned_offset(std::min(cleaned_offset(), _log_end));
  if (auto r = _epochs.truncate_from_end(_log_end); !r) return r;
  logger("storage")->info("{}: truncated to offset {}", _dir, _log_end.value());
  if (auto r = clean_producer_snapshots(_fs, _dir, _log_end, 2); !r) return r;
  // Batches past the new end are gone: rebuild the producer state without them.
  return load_producers(false);
}

sresult<void> log::advance_log_start_offset(model::offset offset) {
  if (offset <= _log_start) return {};
  if (offset > _high_watermark) {
    return failure(make_error(errc::offset_out_of_range,
                              fmt::format("log start {} beyond high watermark {} of {}",
                                          offset.value(), _high_watermark.value(), _dir)));
  }
  set_log_start(offset);
  if (auto r = _epochs.truncate_from_start(offset); !r) return r;
  // Whole segments below the new start are deleted now; apply_retention would do it later.
  auto deleted = apply_retention(_clock());
  if (!deleted) return failure(deleted.error());
  return {};
}

sresult<size_t> log::apply_retention(int64_t now_ms) {
  // A prefix of segments goes: those wholly below the log start offset, then (delete policy)
  // those past retention.ms, then those that keep the log above retention.bytes.
  uint64_t total = size_bytes();
  size_t count = 0;
  while (!_segments.empty()) {
    auto& oldest = _segments.front();
    bool is_active = _segments.size() == 1;
    model::offset next = is_active ? _log_end : _segments[1]->base_offset();
    bool below_start = next <= _log_start && !oldest->empty();
    bool expired = false;
    if (!below_start && _config.cleanup_delete && !oldest->empty()) {
      if (_config.retention_ms >= 0) {
        auto largest = oldest->largest_timestamp();
        if (!largest) return failure(largest.error());
        expired = largest->value() >= 0 && now_ms - largest->value() > _config.retention_ms;
      }
      if (_config.retention_bytes >= 0 &&
          total - oldest->size_bytes() >= static_cast<uint64_t>(_config.retention_bytes)) {
        expired = true;
      }
    }
    if (!below_start && !expired) break;
    // Records below the high watermark only: retention never deletes unreplicated data.
    if (next > _high_watermark) break;
    if (is_active) {
      if (auto r = roll(); !r) return failure(r.error());
    }
    auto victim = _segments.front();
    _segments.erase(_segments.begin());
    total -= victim->size_bytes();
    logger("storage")->info("{}: deleting segment {} ({})", _dir, victim->base_offset().value(),
                            below_start ? "below log start offset" : "retention");
    if (auto r = delete_segment(victim, now_ms); !r) return failure(r.error());
    if (_log_start < next) set_log_start(next);
    ++count;
  }
  trim_index_memory();
  return count;
}

sresult<void> log::replace_segment(const std::shared_ptr<segment>& old_segment,
                                   const std::string& swap_path) {
  auto it = std::find(_segments.begin(), _segments.end(), old_segment);
  SLUICE_ASSERT(it != _segments.end() && std::next(it) != _segments.end(),
                "{}: replaced segment {} is not a sealed member of the log", _dir,
                old_segment->base_offset().value());
  model::offset next = (*std::next(it))->base_offset();
  int64_t now = _clock();
  if (auto r = delete_segment(old_segment, now); !r) return r;
  SLUICE_ASSERT(swap_path.ends_with(swap_suffix), "{} is not a swap file", swap_path);
  std::string target = swap_path.substr(0, swap_path.size() - swap_suffix.size());
  if (auto r = _fs.rename(swap_path, target); !r) return r;
  if (auto r = _fs.sync_dir(_dir); !r) return r;
  auto fresh = segment::open(_fs, _dir, old_segment->base_offset(), _config, now);
  if (!fresh) return failure(fresh.error());
  (*fresh)->set_next_offset(next);
  *it = std::move(*fresh);
  return {};
}

}  // namespace sluice::storage
