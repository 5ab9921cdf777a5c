#pragma once

// Checkpoint files (docs/format/checkpoints.md): small text files in Kafka's layout (a version
// line, a count line, one entry per line) followed by a CRC32C line of our own, so that a flipped
// byte is detected instead of silently moving a recovery point. Written atomically (temporary
// file, fdatasync, rename, directory fsync); a reader sees the old or the new file, never a mix.
//
// Free functions, no state: callers serialise writes to one path.

#include <map>
#include <string>
#include <vector>

#include "model/model.h"
#include "storage/file_system.h"

namespace sluice::storage {

inline constexpr int checkpoint_version = 0;

// Writes `lines` (without newlines) as a checkpoint.
sresult<void> write_checkpoint(file_system& fs, const std::string& path,
                               const std::vector<std::string>& lines);
// Reads a checkpoint back. Fails with `corrupt` when the version, count or CRC line is wrong and
// with not_found when the file is missing.
sresult<std::vector<std::string>> read_checkpoint(file_system& fs, const std::string& path);

// recovery-point-offset-checkpoint and log-start-offset-checkpoint: "<topic> <partition> <offset>".
using offset_map = std::map<model::topic_partition, model::offset>;
sresult<void> write_offset_checkpoint(file_system& fs, const std::string& path,
                                      const offset_map& offsets);
sresult<offset_map> read_offset_checkpoint(file_system& fs, const std::string& path);

// leader-epoch-checkpoint: "<epoch> <start offset>", epochs and offsets increasing.
struct epoch_entry {
  model::leader_epoch epoch;
  model::offset start_offset;
  auto operator<=>(const epoch_entry&) const = default;
};
sresult<void> write_epoch_checkpoint(file_system& fs, const std::string& path,
                                     const std::vector<epoch_entry>& entries);
sresult<std::vector<epoch_entry>> read_epoch_checkpoint(file_system& fs, const std::string& path);

}  // namespace sluice::storage
