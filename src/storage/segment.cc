#include "storage/segment.h"

#include <fmt/format.h>

#include "base/logging.h"
#include "storage/format.h"

namespace sluice::storage {

namespace {
std::string segment_path(const std::string& dir, model::offset base, std::string_view suffix) {
  return join_path(dir, offset_file_name(base, suffix));
}
}  // namespace

segment::segment(file_system& fs, std::string dir, model::offset base, const log_config& config,
                 std::shared_ptr<file> log, uint64_t size_bytes, int64_t now_ms)
    : _fs(fs),
      _dir(std::move(dir)),
      _base(base),
      _next_offset(base),
      _index_interval_bytes(config.index_interval_bytes),
      _segment_bytes(config.segment_bytes),
      _segment_ms(config.segment_ms),
      _log(std::move(log)),
      _offsets(fs, segment_path(_dir, base, offset_index_suffix), base, config.segment_index_bytes),
      _times(fs, segment_path(_dir, base, time_index_suffix), base, config.segment_index_bytes),
      _size_bytes(size_bytes),
      _offset_of_max_timestamp(base),
      _created_ms(now_ms) {}

sresult<std::shared_ptr<segment>> segment::create(file_system& fs, const std::string& dir,
                                                  model::offset base, const log_config& config,
                                                  int64_t now_ms) {
  auto log = fs.open(segment_path(dir, base, log_suffix), open_mode::create_exclusive);
  if (!log) return failure(log.error());
  std::shared_ptr<segment> s(
      new segment(fs, dir, base, config, std::shared_ptr<file>(std::move(*log)), 0, now_ms));
  // A new segment's indexes start empty and are written from memory.
  s->_offsets.file().reset();
  s->_times.file().reset();
  s->_max_timestamp_known = true;
  return s;
}

sresult<std::shared_ptr<segment>> segment::open(file_system& fs, const std::string& dir,
                                                model::offset base, const log_config& config,
                                                int64_t now_ms) {
  auto log = fs.open(segment_path(dir, base, log_suffix), open_mode::read_write);
  if (!log) return failure(log.error());
  auto size = (*log)->size();
  if (!size) return failure(size.error());
  return std::shared_ptr<segment>(
      new segment(fs, dir, base, config, std::shared_ptr<file>(std::move(*log)), *size, now_ms));
}

std::string segment::path(std::string_view suffix) const {
  std::string p = segment_path(_dir, _base, suffix);
  if (_deleted) p += deleted_suffix;
  return p;
}

void segment::index_batch(const batch_info& batch, uint64_t position) {
  if (!_first_batch_timestamp) _first_batch_timestamp = batch.max_timestamp;
  if (!_max_timestamp_known || batch.max_timestamp > _max_timestamp) {
    _max_timestamp = batch.max_timestamp;
    _offset_of_max_timestamp = batch.last_offset;
    _max_timestamp_known = true;
  }
  if (_bytes_since_index >= _index_interval_bytes && !_offsets.file().full() &&
      _offsets.can_index(batch.last_offset)) {
    auto last = _offsets.last();
    if (!last || (batch.last_offset > last->offset && position > last->position)) {
      _offsets.append(batch.last_offset, static_cast<uint32_t>(position));
      _times.maybe_append(_max_timestamp, _offset_of_max_timestamp);
      _bytes_since_index = 0;
    }
  }
  _bytes_since_index += batch.size_bytes;
  _next_offset = batch.last_offset + 1;
}

sresult<void> segment::append(std::span<const uint8_t> bytes, std::span<const batch_info> batches) {
  SLUICE_ASSERT(!batches.empty() && batches.front().base_offset >= _next_offset,
                "append at offset {} to segment {} ending at {}",
                batches.empty() ? -1 : batches.front().base_offset.value(), _base.value(),
                _next_offset.value());
  SLUICE_ASSERT(_offsets.file().loaded(), "append to segment {} without its index", _base.value());
  if (auto r = _log->pwrite(_size_bytes, bytes); !r) {
    // Cut off whatever part of the write reached the file, so the log never holds a torn batch.
    if (auto t = _log->truncate(_size_bytes); !t) {
      return failure(make_error(
          errc::log_failed,
          fmt::format("{} after a failed write: {}", t.error().describe(), r.error().describe())));
    }
    return r;
  }
  uint64_t position = _size_bytes;
  for (const auto& batch : batches) {
    index_batch(batch, position);
    position += batch.size_bytes;
  }
  SLUICE_ASSERT(position == _size_bytes + bytes.size(), "batches cover {} of {} bytes",
                position - _size_bytes, bytes.size());
  _size_bytes = position;
  return {};
}

bool segment::should_roll(uint32_t incoming_bytes, model::offset incoming_last,
                          model::timestamp_ms incoming_max_timestamp, int64_t now_ms) {
  if (empty()) return false;
  if (_size_bytes + incoming_bytes > _segment_bytes) return true;
  int64_t waited_ms = (_first_batch_timestamp && _first_batch_timestamp->value() >= 0)
                          ? incoming_max_timestamp.value() - _first_batch_timestamp->value()
                          : now_ms - _created_ms;
  if (waited_ms > _segment_ms) return true;
  if (_offsets.file().loaded() && (_offsets.file().full() || _times.full())) return true;
  return !_offsets.can_index(incoming_last) || _size_bytes + incoming_bytes > UINT32_MAX;
}

sresult<void> segment::ensure_indexes() {
  if (_offsets.file().loaded() && _times.file().loaded()) return {};
  auto offsets = _offsets.load(_size_bytes);
  auto times = offsets ? _times.load() : sresult<void>(failure(offsets.error()));
  if (offsets && times) {
    auto last = _times.last();
    if (!last || _max_timestamp_known) return {};
    // The last entry is the segment's largest timestamp, which retention trusts: check it names
    // a batch with exactly that timestamp.
    _next_offset = std::max(_next_offset, last->offset + 1);
    auto holder = find_batch(last->offset);
    if (!holder) return failure(holder.error());
    if (*holder && (*holder)->info.last_offset == last->offset &&
        (*holder)->info.max_timestamp == last->timestamp) {
      _max_timestamp = last->timestamp;
      _offset_of_max_timestamp = last->offset;
      _max_timestamp_known = true;
      return {};
    }
    times = failure(make_error(errc::corrupt, fmt::format("{}: last entry does not match the log",
                                                          path(time_index_suffix))));
  }
  const auto& why = offsets ? times.error() : offsets.error();
  if (why.code != errc::corrupt && why.code != errc::not_found) return failure(why);
  logger("storage")->warn("rebuilding indexes of {}: {}", path(log_suffix), why.describe());
  return rebuild_indexes();
}

sresult<void> segment::rebuild_indexes() {
  _offsets.file().reset();
  _times.file().reset();
  _bytes_since_index = 0;
  _max_timestamp_known = false;
  _first_batch_timestamp.reset();
  _next_offset = _base;
  batch_scanner scanner(*_log, 0, _size_bytes, false);
  for (;;) {
    auto next = scanner.next();
    if (!next) return failure(next.error());
    if (!*next) break;
    index_batch((*next)->info, (*next)->position);
  }
  if (_max_timestamp_known) _times.maybe_append(_max_timestamp, _offset_of_max_timestamp, true);
  return flush_indexes();
}

sresult<void> segment::flush_indexes() {
  if (_deleted) return {};
  if (auto r = _offsets.file().flush(); !r) return r;
  return _times.file().flush();
}

sresult<void> segment::seal() {
  if (auto r = ensure_indexes(); !r) return r;
  if (_max_timestamp_known && _max_timestamp.value() >= 0) {
    _times.maybe_append(_max_timestamp, _offset_of_max_timestamp, true);
  }
  // Written, not synced: an index lost or damaged by a crash fails its checks on load or on
  // lookup and is rebuilt from the .log, so it never needs an fsync of its own.
  if (auto r = _offsets.file().flush(); !r) return r;
  if (auto r = _times.file().flush(); !r) return r;
  _offsets.file().unload();
  _times.file().unload();
  return {};
}

void segment::release_indexes() {
  _offsets.file().unload();
  _times.file().unload();
}

sresult<model::timestamp_ms> segment::largest_timestamp() {
  if (!_max_timestamp_known) {
    if (auto r = ensure_indexes(); !r) return failure(r.error());
  }
  return _max_timestamp_known ? _max_timestamp : model::timestamp_ms(-1);
}

sresult<void> segment::rename_for_delete() {
  if (_deleted) return {};
  for (auto suffix : {log_suffix, offset_index_suffix, time_index_suffix}) {
    std::string from = segment_path(_dir, _base, suffix);
    auto r = _fs.rename(from, from + std::string(deleted_suffix));
    // Index files may not exist yet (never flushed); only the .log must.
    if (!r && !(r.error().code == errc::not_found && suffix != log_suffix)) return r;
  }
  _deleted = true;
  _offsets.file().rename_to(path(offset_index_suffix));
  _times.file().rename_to(path(time_index_suffix));
  return {};
}

sresult<void> segment::remove_files() {
  for (auto suffix : {log_suffix, offset_index_suffix, time_index_suffix}) {
    auto r = _fs.unlink(path(suffix));
    if (!r && r.error().code != errc::not_found) return r;
  }
  return {};
}

}  // namespace sluice::storage
