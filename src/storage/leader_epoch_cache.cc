#include "storage/leader_epoch_cache.h"

#include <algorithm>
#include <iterator>

namespace sluice::storage {

leader_epoch_cache::leader_epoch_cache(file_system& fs, std::string path)
    : _fs(fs), _path(std::move(path)) {}

sresult<void> leader_epoch_cache::load() {
  auto entries = read_epoch_checkpoint(_fs, _path);
  if (!entries) {
    if (entries.error().code == errc::not_found) {
      _entries.clear();
      return {};
    }
    return failure(entries.error());
  }
  _entries = std::move(*entries);
  return {};
}

sresult<void> leader_epoch_cache::reset(std::vector<epoch_entry> entries) {
  _entries = std::move(entries);
  return persist();
}

sresult<void> leader_epoch_cache::persist() {
  return write_epoch_checkpoint(_fs, _path, _entries);
}

sresult<void> leader_epoch_cache::assign(model::leader_epoch epoch, model::offset start_offset) {
  if (epoch.value() < 0) return {};
  if (!_entries.empty() && epoch <= _entries.back().epoch) return {};
  SLUICE_ASSERT(_entries.empty() || start_offset >= _entries.back().start_offset,
                "epoch {} starts at {} before epoch {} at {}", epoch.value(), start_offset.value(),
                _entries.back().epoch.value(), _entries.back().start_offset.value());
  _entries.push_back({epoch, start_offset});
  return persist();
}

sresult<void> leader_epoch_cache::truncate_from_end(model::offset end_offset) {
  size_t keep = _entries.size();
  while (keep > 0 && _entries[keep - 1].start_offset >= end_offset) --keep;
  if (keep == _entries.size()) return {};
  _entries.resize(keep);
  return persist();
}

sresult<void> leader_epoch_cache::truncate_from_start(model::offset start_offset) {
  size_t first_kept = 0;
  while (first_kept + 1 < _entries.size() &&
         _entries[first_kept + 1].start_offset <= start_offset) {
    ++first_kept;
  }
  if (first_kept == 0 && (_entries.empty() || _entries[0].start_offset >= start_offset)) return {};
  _entries.erase(_entries.begin(), _entries.begin() + static_cast<ptrdiff_t>(first_kept));
  if (_entries[0].start_offset < start_offset) _entries[0].start_offset = start_offset;
  return persist();
}

std::optional<model::leader_epoch> leader_epoch_cache::latest_epoch() const {
  if (_entries.empty()) return std::nullopt;
  return _entries.back().epoch;
}

std::optional<epoch_entry> epoch_end_offset(std::span<const epoch_entry> entries,
                                            model::leader_epoch epoch, model::offset log_end) {
  if (epoch.value() == -1 || entries.empty()) return std::nullopt;
  if (entries.back().epoch == epoch) return epoch_entry{epoch, log_end};
  auto higher = std::upper_bound(
      entries.begin(), entries.end(), epoch,
      [](model::leader_epoch e, const epoch_entry& entry) { return e < entry.epoch; });
  if (higher == entries.end()) return std::nullopt;
  if (higher == entries.begin()) return epoch_entry{epoch, higher->start_offset};
  return epoch_entry{std::prev(higher)->epoch, higher->start_offset};
}

std::optional<epoch_entry> leader_epoch_cache::end_offset_for(model::leader_epoch epoch,
                                                              model::offset log_end) const {
  return epoch_end_offset(_entries, epoch, log_end);
}

}  // namespace sluice::storage
