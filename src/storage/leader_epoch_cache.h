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
#include <span>
#include <vector>

#include "storage/checkpoint.h"

namespace sluice::storage {

// end_offset_for() over any sorted list of entries (OffsetForLeaderEpoch adds the current leader
// epoch when no batch of it has been written yet, as Kafka's leader records it at election).
std::optional<epoch_entry> epoch_end_offset(std::span<const epoch_entry> entries,
                                            model::leader_epoch epoch, model::offset log_end);

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
  // OffsetForLeaderEpoch, with Kafka's answers (its LeaderEpochFileCache.endOffsetFor): for the
  // latest epoch, {epoch, log_end}; for an older one, the largest known epoch <= `epoch` and the
  // start offset of the next higher epoch; for an epoch below every entry, {epoch, start offset
  // of the first entry} (that data is gone). nullopt (Kafka's UNDEFINED_EPOCH and
  // UNDEFINED_EPOCH_OFFSET, both -1) for epoch -1, an empty cache, or an epoch above the latest.
  // The returned entry's start_offset is the END offset of that epoch.
  std::optional<epoch_entry> end_offset_for(model::leader_epoch epoch, model::offset log_end) const;
  const std::vector<epoch_entry>& entries() const { return _entries; }

 private:
  sresult<void> persist();

  file_system& _fs;
  std::string _path;
  std::vector<epoch_entry> _entries;
};

}  // namespace sluice::storage
