#pragma once

// time_index: the sparse map from timestamp to offset of one segment (the .timeindex file).
// Entry i says "every batch before offset base + relative_offset has max timestamp < timestamp";
// entries are strictly increasing in timestamp and non-decreasing in offset
// (docs/format/time_index.md). Its last entry is the segment's largest timestamp once the
// segment is sealed, which retention.ms uses.
//
// Owned by one segment; not thread-safe.

#include <optional>

#include "model/model.h"
#include "storage/index_file.h"

namespace sluice::storage {

struct timestamp_offset {
  model::timestamp_ms timestamp;
  model::offset offset;
};

class time_index {
 public:
  time_index(file_system& fs, std::string path, model::offset base, uint32_t index_bytes_max);

  // Loads and checks the file (ordering, offsets relative to the base). Fails with `corrupt`.
  sresult<void> load();

  // The greatest entry whose timestamp is <= target, or nullopt (scan from the segment start).
  std::optional<timestamp_offset> lookup(model::timestamp_ms target) const;
  std::optional<timestamp_offset> last() const;

  // Adds an entry when `timestamp` exceeds the last entry's; otherwise does nothing. `force`
  // appends even when the index is full (the final entry written when a segment is sealed).
  void maybe_append(model::timestamp_ms timestamp, model::offset offset, bool force = false);
  // Drops every entry whose offset is >= `offset`.
  void truncate_to_offset(model::offset offset);

  // Full for the purpose of rolling the segment; one spare entry remains for the seal.
  bool full() const { return _file.entry_count() + 1 >= _file.entries_max(); }

  index_file& file() { return _file; }
  const index_file& file() const { return _file; }

 private:
  timestamp_offset decode(uint32_t i) const;

  index_file _file;
  model::offset _base;
};

}  // namespace sluice::storage
