#include "storage/offset_index.h"

#include <fmt/format.h>

#include <array>
#include <limits>

#include "storage/format.h"

namespace sluice::storage {

offset_index::offset_index(file_system& fs, std::string path, model::offset base,
                           uint32_t index_bytes_max)
    : _file(fs, std::move(path), offset_index_entry_size,
            std::max<uint32_t>(1, index_bytes_max / offset_index_entry_size)),
      _base(base) {}

offset_position offset_index::decode(uint32_t i) const {
  const uint8_t* p = _file.entry(i);
  return {_base + get_u32(p), get_u32(p + 4)};
}

sresult<void> offset_index::load(uint64_t log_size_bytes) {
  if (auto r = _file.load(); !r) return r;
  std::optional<offset_position> previous;
  for (uint32_t i = 0; i < _file.entry_count(); ++i) {
    auto e = decode(i);
    bool ordered = !previous || (e.offset > previous->offset && e.position > previous->position);
    if (!ordered || e.position >= log_size_bytes) {
      _file.reset();
      return failure(
          make_error(errc::corrupt,
                     fmt::format("{}: entry {} (offset {}, position {}) out of order or past "
                                 "the log's {} bytes",
                                 _file.path(), i, e.offset.value(), e.position, log_size_bytes)));
    }
    previous = e;
  }
  return {};
}

std::optional<offset_position> offset_index::lookup(model::offset target) const {
  // Binary search for the last entry with offset <= target.
  uint32_t lo = 0;
  uint32_t hi = _file.entry_count();
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (decode(mid).offset <= target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return decode(lo - 1);
}

std::optional<offset_position> offset_index::last() const {
  if (_file.entry_count() == 0) return std::nullopt;
  return decode(_file.entry_count() - 1);
}

bool offset_index::can_index(model::offset offset) const {
  int64_t relative = offset - _base;
  return relative >= 0 && relative <= std::numeric_limits<int32_t>::max();
}

void offset_index::append(model::offset offset, uint32_t position) {
  SLUICE_ASSERT(can_index(offset), "offset {} not relative to base {}", offset.value(),
                _base.value());
  auto tail = last();
  SLUICE_ASSERT(!tail || (offset > tail->offset && position > tail->position),
                "index entry ({}, {}) after ({}, {})", offset.value(), position,
                tail->offset.value(), tail->position);
  std::array<uint8_t, offset_index_entry_size> bytes{};
  put_u32(bytes.data(), static_cast<uint32_t>(offset - _base));
  put_u32(bytes.data() + 4, position);
  _file.append(bytes);
}

void offset_index::truncate_to_position(uint32_t position) {
  uint32_t keep = _file.entry_count();
  while (keep > 0 && decode(keep - 1).position >= position) --keep;
  _file.truncate_entries(keep);
}

}  // namespace sluice::storage
