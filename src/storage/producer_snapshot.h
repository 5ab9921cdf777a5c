#pragma once

// Producer-state snapshots: `<20-digit offset>.snapshot` files beside the segments
// (docs/format/producer_snapshot.md). The content is producer_state's blob; this file frames it
// with a magic, a version, a length and a CRC32C, writes it atomically, returns the newest
// intact one and removes those a truncation invalidates.
//
// Free functions over a partition directory; the partition's shard is the only caller.

#include <optional>
#include <vector>

#include "model/model.h"
#include "storage/file_system.h"

namespace sluice::storage {

inline constexpr uint32_t producer_snapshot_magic = 0x534c5053;  // "SLPS"
inline constexpr uint16_t producer_snapshot_version = 1;
inline constexpr uint32_t producer_snapshot_header_size = 14;  // magic, version, length, crc

struct producer_snapshot {
  model::offset offset;  // the log end offset the state corresponds to
  std::vector<uint8_t> blob;
};

sresult<void> write_producer_snapshot(file_system& fs, const std::string& dir, model::offset offset,
                                      std::span<const uint8_t> blob);
// The newest snapshot at or below `offset_max` whose framing and CRC are intact; corrupt ones
// are reported and skipped. nullopt when there is none.
sresult<std::optional<producer_snapshot>> read_latest_producer_snapshot(file_system& fs,
                                                                        const std::string& dir,
                                                                        model::offset offset_max);
// Removes snapshots above `offset` (after a truncation) and all but the newest `keep` at or
// below it.
sresult<void> clean_producer_snapshots(file_system& fs, const std::string& dir,
                                       model::offset offset, size_t keep);
sresult<std::vector<model::offset>> list_producer_snapshots(file_system& fs,
                                                            const std::string& dir);

}  // namespace sluice::storage
