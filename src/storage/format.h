#pragma once

// Constants and names of the on-disk layout. Every number here is specified in docs/format/;
// change the page together with the constant.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/model.h"

namespace sluice::storage {

// docs/format/segment.md: a segment's files are named by its base offset, 20 digits, zero-padded.
inline constexpr int file_name_digits = 20;
inline constexpr std::string_view log_suffix = ".log";
inline constexpr std::string_view offset_index_suffix = ".index";
inline constexpr std::string_view time_index_suffix = ".timeindex";
inline constexpr std::string_view snapshot_suffix = ".snapshot";
// A segment renamed for deletion keeps its name with this appended (docs/format/segment.md).
inline constexpr std::string_view deleted_suffix = ".deleted";
// A segment written by compaction before it is swapped in (docs/format/segment.md).
inline constexpr std::string_view cleaned_suffix = ".cleaned";
// A finished compaction rewrite, waiting to replace the segment of the same base offset.
inline constexpr std::string_view swap_suffix = ".swap";
inline constexpr std::string_view tmp_suffix = ".tmp";

// docs/format/offset_index.md: u32 relative offset, u32 position, big-endian.
inline constexpr uint32_t offset_index_entry_size = 8;
// docs/format/time_index.md: i64 timestamp, u32 relative offset, big-endian.
inline constexpr uint32_t time_index_entry_size = 12;
static_assert(offset_index_entry_size == sizeof(uint32_t) + sizeof(uint32_t));
static_assert(time_index_entry_size == sizeof(int64_t) + sizeof(uint32_t));

// docs/format/checkpoints.md: the per-log-dir checkpoint files and the clean-shutdown marker.
inline constexpr std::string_view recovery_point_checkpoint_name =
    "recovery-point-offset-checkpoint";
inline constexpr std::string_view log_start_checkpoint_name = "log-start-offset-checkpoint";
inline constexpr std::string_view cleaner_checkpoint_name = "cleaner-offset-checkpoint";
inline constexpr std::string_view clean_shutdown_marker_name = ".kafka_cleanshutdown";
// Per partition directory.
inline constexpr std::string_view leader_epoch_checkpoint_name = "leader-epoch-checkpoint";

// A checkpoint, index or snapshot file larger than this is corrupt; it bounds what we allocate.
inline constexpr uint64_t checkpoint_size_max = 64ULL << 20;

// "00000000000000001234" for 1234.
std::string offset_file_name(model::offset base, std::string_view suffix);
// The base offset of "00000000000000001234.log" (with the given suffix), or nullopt.
std::optional<model::offset> parse_offset_file_name(std::string_view name, std::string_view suffix);

// "<topic>-<partition>", Kafka's partition directory name.
std::string partition_dir_name(const model::topic_partition& tp);
// Splits at the last '-'; nullopt when the name is not a partition directory.
std::optional<model::topic_partition> parse_partition_dir_name(std::string_view name);

// Big-endian helpers for the index and checkpoint formats.
inline void put_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint32_t get_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void put_i64(uint8_t* p, int64_t v) {
  put_u32(p, static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32));
  put_u32(p + 4, static_cast<uint32_t>(v));
}
inline int64_t get_i64(const uint8_t* p) {
  return static_cast<int64_t>((uint64_t{get_u32(p)} << 32) | get_u32(p + 4));
}

}  // namespace sluice::storage
