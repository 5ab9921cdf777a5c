#pragma once

// offset_index: the sparse map from offset to file position of one segment (the .index file).
// Entry i says "the batch whose last offset is base + relative_offset starts at `position`";
// entries are strictly increasing in both fields (docs/format/offset_index.md). An entry is added
// every index.interval.bytes of appended batches.
//
// Owned by one segment; not thread-safe.

#include <optional>

#include "model/model.h"
#include "storage/index_file.h"

namespace sluice::storage {

struct offset_position {
  model::offset offset;
  uint32_t position = 0;
};

class offset_index {
 public:
  offset_index(file_system& fs, std::string path, model::offset base, uint32_t index_bytes_max);

  // Loads and checks the file: entries strictly increasing, relative offsets of a valid segment,
  // positions below `log_size_bytes`. Fails with `corrupt` otherwise.
  sresult<void> load(uint64_t log_size_bytes);

  // The greatest entry whose offset is <= target, or nullopt (scan from position 0).
  std::optional<offset_position> lookup(model::offset target) const;
  std::optional<offset_position> last() const;

  // Adds an entry; `offset` and `position` must exceed the last entry's.
  void append(model::offset offset, uint32_t position);
  // Drops every entry at or after `position` (the log was truncated there).
  void truncate_to_position(uint32_t position);
  // True when an offset cannot be represented relative to the base (u32).
  bool can_index(model::offset offset) const;

  index_file& file() { return _file; }
  const index_file& file() const { return _file; }
  model::offset base() const { return _base; }

 private:
  offset_position decode(uint32_t i) const;

  index_file _file;
  model::offset _base;
};

}  // namespace sluice::storage
