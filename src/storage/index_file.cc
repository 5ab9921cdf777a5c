#include "storage/index_file.h"

#include <fmt/format.h>

#include "base/assert.h"

namespace sluice::storage {

index_file::index_file(file_system& fs, std::string path, uint32_t entry_size, uint32_t entries_max)
    : _fs(fs), _path(std::move(path)), _entry_size(entry_size), _entries_max(entries_max) {
  SLUICE_ASSERT(entry_size > 0 && entries_max > 0, "index {} entry size {} entries max {}", _path,
                entry_size, entries_max);
}

sresult<void> index_file::load() {
  auto bytes = read_whole_file(_fs, _path, uint64_t{_entries_max} * _entry_size);
  if (!bytes) return failure(bytes.error());
  if (bytes->size() % _entry_size != 0) {
    return failure(make_error(errc::corrupt, fmt::format("{}: size {} is not a multiple of {}",
                                                         _path, bytes->size(), _entry_size)));
  }
  _bytes = std::move(*bytes);
  _written_bytes = _bytes.size();
  _file_needs_truncate = false;
  _loaded = true;
  return {};
}

void index_file::reset() {
  _bytes.clear();
  _written_bytes = 0;
  _file_needs_truncate = true;
  _loaded = true;
}

void index_file::append(std::span<const uint8_t> entry_bytes) {
  SLUICE_ASSERT(entry_bytes.size() == _entry_size, "index entry of {} bytes, want {}",
                entry_bytes.size(), _entry_size);
  SLUICE_ASSERT(!full(), "append to full index {}", _path);
  _bytes.insert(_bytes.end(), entry_bytes.begin(), entry_bytes.end());
}

void index_file::truncate_entries(uint32_t count) {
  if (count >= entry_count()) return;
  _bytes.resize(size_t{count} * _entry_size);
  if (_written_bytes > _bytes.size()) {
    _written_bytes = _bytes.size();
    _file_needs_truncate = true;
  }
}

sresult<void> index_file::write(bool sync) {
  bool pending = _file_needs_truncate || _written_bytes != _bytes.size();
  if (!pending && !sync) return {};
  // Opened per write and closed again: index files are written only when a segment is sealed,
  // closed, recovered or truncated, and keeping them open would cost two descriptors per
  // partition.
  auto f = _fs.open(_path, open_mode::create);
  if (!f) return failure(f.error());
  if (_file_needs_truncate) {
    if (auto r = (*f)->truncate(_written_bytes); !r) return r;
    _file_needs_truncate = false;
  }
  auto tail = std::span<const uint8_t>(_bytes).subspan(_written_bytes);
  if (!tail.empty()) {
    if (auto r = (*f)->pwrite(_written_bytes, tail); !r) return r;
  }
  _written_bytes = _bytes.size();
  if (sync) return (*f)->fdatasync();
  return {};
}

sresult<void> index_file::flush() {
  return write(false);
}

sresult<void> index_file::sync() {
  return write(true);
}

sresult<void> index_file::close() {
  return flush();
}

void index_file::unload() {
  if (_file_needs_truncate || _written_bytes != _bytes.size()) return;  // keep unwritten entries
  _bytes.clear();
  _bytes.shrink_to_fit();
  _written_bytes = 0;
  _loaded = false;
}

}  // namespace sluice::storage
