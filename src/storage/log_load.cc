// log: opening a partition directory, recovery after an unclean stop, and the leader-epoch
// cache rebuild.

#include <fmt/format.h>

#include <algorithm>

#include "base/logging.h"
#include "storage/format.h"
#include "storage/log.h"

namespace sluice::storage {

namespace {
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

sresult<void> log::load(const log_open_options& options) {
  if (auto r = _fs.mkdir(_dir); !r) return r;
  if (auto r = load_segments(); !r) return r;
  if (_segments.empty()) {
    model::offset start = options.log_start.value_or(model::offset(0));
    auto s = segment::create(_fs, _dir, start, _config, _clock());
    if (!s) return failure(s.error());
    _segments.push_back(std::move(*s));
    if (auto r = _fs.sync_dir(_dir); !r) return r;
  }
  for (size_t i = 0; i + 1 < _segments.size(); ++i) {
    _segments[i]->set_next_offset(_segments[i + 1]->base_offset());
  }
  // The epoch checkpoint is read first: recovery checks batch epochs against it.
  auto epochs_loaded = _epochs.load();
  if (!epochs_loaded && epochs_loaded.error().code != errc::corrupt) return epochs_loaded;
  if (options.clean_shutdown) {
    if (auto r = find_log_end(); !r) return r;
    _recovery_point = _log_end;
  } else {
    if (auto r = recover_from(options.recovery_point); !r) return r;
  }
  model::offset first = _segments.front()->base_offset();
  _log_start = std::clamp(options.log_start.value_or(first), first, _log_end);
  _high_watermark = _log_end;
  set_cleaned_offset(std::clamp(options.cleaned_offset.value_or(_log_start), _log_start, _log_end));
  set_recovery_point(std::min(_recovery_point, _log_end));
  set_log_start(_log_start);
  _last_flush_ms = _clock();
  if (!epochs_loaded) {
    if (auto r = rebuild_epochs(epochs_loaded.error()); !r) return r;
  }
  if (auto r = _epochs.truncate_from_end(_log_end); !r) return r;
  if (auto r = _epochs.truncate_from_start(_log_start); !r) return r;
  if (auto r = clean_producer_snapshots(_fs, _dir, _log_end, 2); !r) return r;
  return load_producers(options.clean_shutdown);
}

sresult<void> log::load_producers(bool clean) {
  _producers.clear();
  auto snapshot = read_latest_producer_snapshot(_fs, _dir, _log_end);
  if (!snapshot) return failure(snapshot.error());
  model::offset from = _segments.front()->base_offset();
  _has_producer_snapshots = snapshot->has_value();
  if (*snapshot) {
    auto decoded = producer_state::decode((*snapshot)->blob);
    if (decoded) {
      _producers = std::move(*decoded);
      from = std::max(from, (*snapshot)->offset);
    } else {
      logger("storage")->error("{}: producer snapshot at {} does not decode; replaying the log",
                               _dir, (*snapshot)->offset.value());
    }
  } else if (clean) {
    return {};  // a clean close with producer state always leaves a snapshot
  }
  if (from >= _log_end) return {};
  size_t replayed = 0;
  auto scanned = scan_batch_headers(from, [&](const batch_info& info) {
    _producers.replay(info);
    ++replayed;
  });
  if (!scanned) return scanned;
  logger("storage")->debug("{}: producer state from offset {}: {} batches replayed, {} producers",
                           _dir, from.value(), replayed, _producers.size());
  return {};
}

sresult<void> log::load_segments() {
  auto names = _fs.list_dir(_dir);
  if (!names) return failure(names.error());
  // A .swap file is a finished compaction rewrite whose swap a crash interrupted: finish it.
  for (const auto& name : *names) {
    if (!ends_with(name, swap_suffix)) continue;
    auto log_name = name.substr(0, name.size() - swap_suffix.size());
    auto base = parse_offset_file_name(log_name, log_suffix);
    if (!base) continue;
    logger("storage")->warn("{}: completing interrupted compaction swap of {}", _dir, log_name);
    for (auto suffix : {log_suffix, offset_index_suffix, time_index_suffix}) {
      auto r = _fs.unlink(join_path(_dir, offset_file_name(*base, suffix)));
      if (!r && r.error().code != errc::not_found) return r;
    }
    if (auto r = _fs.rename(join_path(_dir, name), join_path(_dir, log_name)); !r) return r;
    if (auto r = _fs.sync_dir(_dir); !r) return r;
  }
  names = _fs.list_dir(_dir);
  if (!names) return failure(names.error());
  std::vector<model::offset> bases;
  for (const auto& name : *names) {
    std::string path = join_path(_dir, name);
    // Leftovers of an interrupted deletion, compaction or atomic write: never part of the log.
    if (ends_with(name, deleted_suffix) || ends_with(name, cleaned_suffix) ||
        ends_with(name, tmp_suffix)) {
      logger("storage")->info("removing leftover file {}", path);
      if (auto r = _fs.unlink(path); !r) return r;
      continue;
    }
    if (auto base = parse_offset_file_name(name, log_suffix)) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());
  for (auto base : bases) {
    auto s = segment::open(_fs, _dir, base, _config, _clock());
    if (!s) return failure(s.error());
    _segments.push_back(std::move(*s));
  }
  return {};
}

// After a clean shutdown every batch was flushed and validated before; only the end of the
// last segment must be found, from its last index entry.
sresult<void> log::find_log_end() {
  auto& active = *_segments.back();
  auto r = active.load_end();
  if (!r && r.error().code == errc::corrupt) {
    // A clean-shutdown marker with a damaged tail: recover the last segment after all.
    logger("storage")->error("{}: clean-shutdown marker but {}; recovering the last segment", _dir,
                             r.error().describe());
    return recover_from(active.base_offset());
  }
  if (!r) return r;
  _log_end = active.next_offset();
  return {};
}

sresult<void> log::recover_from(model::offset recovery_point) {
  segment* first = segment_for(recovery_point);
  size_t i = 0;
  while (first != nullptr && _segments[i].get() != first) ++i;
  recovery_state state;
  state.next_offset = _segments[i]->base_offset();
  state.epochs = _epochs.entries();
  logger("storage")->info("{}: recovering from offset {} (segment {} of {})", _dir,
                          recovery_point.value(), i + 1, _segments.size());
  bool changed_dir = false;
  for (size_t j = i; j < _segments.size(); ++j) {
    state.limit =
        j + 1 < _segments.size() ? _segments[j + 1]->base_offset() : model::offset(INT64_MAX);
    if (auto r = _segments[j]->recover(state); !r) return r;
    if (state.truncated) {
      for (size_t k = j + 1; k < _segments.size(); ++k) {
        logger("storage")->error("{}: dropping segment {} after corruption in an earlier one", _dir,
                                 _segments[k]->path(log_suffix));
        if (auto r = _segments[k]->remove_files(); !r) return r;
      }
      _segments.resize(j + 1);
    }
    // What lies past the old recovery point was validated now and is made durable, so the
    // recovery point can move to the end; a segment wholly below it is durable already.
    if (state.truncated || _segments[j]->next_offset() > recovery_point) {
      if (auto r = _segments[j]->log_file()->fdatasync(); !r) return r;
      changed_dir = changed_dir || state.truncated;
    }
    if (j + 1 < _segments.size()) {
      if (auto r = _segments[j]->seal(); !r) return r;
    }
  }
  // Segments created just before the crash may have lost all their bytes; an empty segment at
  // the end whose base is past the real end would make the log skip offsets.
  while (_segments.size() > 1 && _segments.back()->empty()) {
    logger("storage")->warn("{}: removing empty segment {} left by the crash", _dir,
                            _segments.back()->path(log_suffix));
    if (auto r = _segments.back()->remove_files(); !r) return r;
    _segments.pop_back();
    changed_dir = true;
  }
  if (auto r = _segments.back()->ensure_indexes(); !r) return r;
  _log_end = _segments.back()->next_offset();
  _recovery_point = _log_end;
  return changed_dir ? _fs.sync_dir(_dir) : sresult<void>();
}

sresult<void> log::rebuild_epochs(const error& why) {
  // The batches carry their epochs: rebuild the cache from the headers.
  logger("storage")->error("{}: {}; rebuilding the leader-epoch cache from the log", _dir,
                           why.describe());
  std::vector<epoch_entry> entries;
  auto scanned = scan_batch_headers(_segments.front()->base_offset(), [&](const batch_info& info) {
    if (info.leader_epoch.value() >= 0 &&
        (entries.empty() || info.leader_epoch > entries.back().epoch)) {
      entries.push_back({info.leader_epoch, info.base_offset});
    }
  });
  if (!scanned) return scanned;
  return _epochs.reset(std::move(entries));
}

sresult<void> log::scan_batch_headers(model::offset from,
                                      const std::function<void(const batch_info&)>& fn) {
  for (const auto& s : _segments) {
    if (s->next_offset() <= from) continue;
    batch_scanner scanner(*s->log_file(), 0, s->size_bytes(), false);
    for (;;) {
      auto next = scanner.next();
      if (!next) return failure(next.error());
      if (!*next) break;
      if ((*next)->info.base_offset >= from) fn((*next)->info);
    }
  }
  return {};
}

}  // namespace sluice::storage
