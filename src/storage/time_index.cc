#include "storage/time_index.h"

#include <fmt/format.h>

#include <array>

#include "storage/format.h"

namespace sluice::storage {

// One spare entry so that the final entry written at seal time always fits.
time_index::time_index(file_system& fs, std::string path, model::offset base,
                       uint32_t index_bytes_max)
    : _file(fs, std::move(path), time_index_entry_size,
            std::max<uint32_t>(1, index_bytes_max / time_index_entry_size) + 1),
      _base(base) {}

timestamp_offset time_index::decode(uint32_t i) const {
  const uint8_t* p = _file.entry(i);
  return {model::timestamp_ms(get_i64(p)), _base + get_u32(p + 8)};
}

sresult<void> time_index::load() {
  if (auto r = _file.load(); !r) return r;
  std::optional<timestamp_offset> previous;
  for (uint32_t i = 0; i < _file.entry_count(); ++i) {
    auto e = decode(i);
    bool ordered = !previous || (e.timestamp > previous->timestamp && e.offset >= previous->offset);
    if (!ordered) {
      _file.reset();
      return failure(
          make_error(errc::corrupt, fmt::format("{}: entry {} out of order", _file.path(), i)));
    }
    previous = e;
  }
  return {};
}

std::optional<timestamp_offset> time_index::lookup(model::timestamp_ms target) const {
  uint32_t lo = 0;
  uint32_t hi = _file.entry_count();
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (decode(mid).timestamp <= target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return decode(lo - 1);
}

std::optional<timestamp_offset> time_index::last() const {
  if (_file.entry_count() == 0) return std::nullopt;
  return decode(_file.entry_count() - 1);
}

void time_index::maybe_append(model::timestamp_ms timestamp, model::offset offset, bool force) {
  auto tail = last();
  if (tail && timestamp <= tail->timestamp) return;
  if (full() && !force) return;
  if (_file.full()) return;  // the spare entry is already used
  SLUICE_ASSERT(!tail || offset >= tail->offset, "time index offset {} before {}", offset.value(),
                tail->offset.value());
  std::array<uint8_t, time_index_entry_size> bytes{};
  put_i64(bytes.data(), timestamp.value());
  put_u32(bytes.data() + 8, static_cast<uint32_t>(offset - _base));
  _file.append(bytes);
}

void time_index::truncate_to_offset(model::offset offset) {
  uint32_t keep = _file.entry_count();
  while (keep > 0 && decode(keep - 1).offset >= offset) --keep;
  _file.truncate_entries(keep);
}

}  // namespace sluice::storage
