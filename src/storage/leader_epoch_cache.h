#pragma once

// leader_epoch_cache: the start offset of every leader epoch that wrote to a partition, kept in
// memory and in the partition's leader-epoch-checkpoint file (docs/format/checkpoints.md).
// Replication uses it to answer OffsetForLeaderEpoch and to truncate a diverged follower.
//
// Every change is written through synchronously: changes are rare (a leader election, a
// truncation) and the file must never lag the log by an epoch.
//
// Owned by one partition log; not thread-safe.

#include <optional>
#include <vector>

#include "storage/checkpoint.h"

namespace sluice::storage {

class leader_epoch_cache {
 public:
  leader_epoch_cache(file_system& fs, std::string path);

  // Reads the checkpoint. A missing file gives an empty cache; a corrupt one fails with corrupt
  // (the log then rebuilds the cache from the batches).
  sresult<void> load();
  // Replaces all entries (used by the rebuild after a corrupt checkpoint) and persists them.
  sresult<void> reset(std::vector<epoch_entry> entries);

  // Records that `epoch` starts at `start_offset` when it is newer than the latest epoch.
  sresult<void> assign(model::leader_epoch epoch, model::offset start_offset);
  // The log was truncated to `end_offset`: drops epochs that start at or after it.
  sresult<void> truncate_from_end(model::offset end_offset);
  // The log start offset moved to `start_offset`: drops epochs that ended before it and moves the
  // epoch that holds it to start there.
  sresult<void> truncate_from_start(model::offset start_offset);

  std::optional<model::leader_epoch> latest_epoch() const;
  // For OffsetForLeaderEpoch: the largest epoch <= `epoch` and the offset where the next epoch
  // starts (or `log_end` for the latest). nullopt when `epoch` precedes every entry.
  std::optional<epoch_entry> end_offset_for(model::leader_epoch epoch, model::offset log_end) const;
  const std::vector<epoch_entry>& entries() const { return _entries; }

 private:
  sresult<void> persist();

  file_system& _fs;
  std::string _path;
  std::vector<epoch_entry> _entries;
};

}  // namespace sluice::storage
