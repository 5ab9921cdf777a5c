#pragma once

// index_file: the in-memory image of one index file (.index or .timeindex) made of fixed-size
// entries, and the file it is mirrored to. Entries are appended in memory and written to the end
// of the file by flush(); the file is never preallocated, so its size is always a whole number of
// entries (docs/format/offset_index.md). Index files are not made durable on the append path:
// recovery rebuilds every index after the recovery point, so a lost entry costs a rebuild, not
// data.
//
// Owned by one segment; not thread-safe (the partition's shard is the only user).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "storage/file_system.h"

namespace sluice::storage {

class index_file {
 public:
  index_file(file_system& fs, std::string path, uint32_t entry_size, uint32_t entries_max);

  // Reads the whole file into memory. Fails with `corrupt` when its size is not a whole number of
  // entries or exceeds entries_max; a missing file fails with not_found.
  sresult<void> load();
  // Starts empty and truncates the file on the next flush (used by rebuilds).
  void reset();

  uint32_t entry_count() const { return static_cast<uint32_t>(_bytes.size() / _entry_size); }
  uint32_t entries_max() const { return _entries_max; }
  bool full() const { return entry_count() >= _entries_max; }
  const uint8_t* entry(uint32_t i) const { return _bytes.data() + size_t{i} * _entry_size; }

  void append(std::span<const uint8_t> entry_bytes);
  // Keeps the first `count` entries.
  void truncate_entries(uint32_t count);

  // Writes entries not yet in the file (or rewrites the file after a truncation). No fsync.
  sresult<void> flush();
  sresult<void> sync();
  // Same as flush(); kept for symmetry with seal (no descriptor stays open).
  sresult<void> close();
  // Frees the in-memory image of a sealed index; the next user must load() again.
  void unload();
  bool loaded() const { return _loaded; }
  void set_loaded() { _loaded = true; }

  const std::string& path() const { return _path; }
  void rename_to(std::string path) { _path = std::move(path); }

 private:
  sresult<void> write(bool sync);

  file_system& _fs;
  std::string _path;
  uint32_t _entry_size;
  uint32_t _entries_max;
  std::vector<uint8_t> _bytes;
  // Bytes of _bytes already in the file; the file may need truncation when it holds more.
  uint64_t _written_bytes = 0;
  bool _file_needs_truncate = false;
  bool _loaded = false;
};

}  // namespace sluice::storage
