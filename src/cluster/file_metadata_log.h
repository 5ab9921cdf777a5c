#pragma once

// file_metadata_log: the single-node metadata log, stored as the partition
// `__cluster_metadata-0` of the metadata log directory (`metadata.log.dir`, else the first of
// `log.dirs`). It is an ordinary storage::log (segments of Kafka v2 batches, indexes, recovery),
// so the bytes on disk are those of any partition (docs/format/metadata-log.md).
//
// Durability: every append is followed by a flush (fdatasync) before it returns. Recovery: the
// log is opened as after an unclean stop every time, so storage validates every batch (lengths,
// CRC32C, offsets) and cuts a torn tail at the last whole batch. Then every record is decoded: a
// batch with a correct CRC that does not decode is not a torn write, and open() fails rather
// than silently dropping committed metadata.
//
// The log manager must not load `__cluster_metadata-0` as a data partition, and retention never
// runs on it (nothing calls apply_retention; its config also says unlimited).
//
// Threading: not thread-safe; owned and used by the controller's thread. Blocking I/O.

#include <cstdint>
#include <memory>
#include <string>

#include "cluster/metadata_log.h"
#include "config/broker_config.h"
#include "storage/file_system.h"
#include "storage/log.h"

namespace sluice::cluster {

inline constexpr std::string_view metadata_partition_dir = "__cluster_metadata-0";

// The directory that holds __cluster_metadata-0: metadata.log.dir, else the first log dir.
std::string metadata_log_directory(const config::broker_config& config);

// What open() found.
struct metadata_log_recovery {
  uint64_t valid_bytes = 0;      // bytes of segment data kept
  uint64_t truncated_bytes = 0;  // bytes recovery cut from the tail
};

class file_metadata_log final : public metadata_log {
 public:
  // Opens the log under `log_dir` (creating the directories when missing), recovers it and
  // decodes every record. `fs` must outlive the log.
  static cresult<std::unique_ptr<file_metadata_log>> open(
      const std::string& log_dir, storage::file_system& fs = storage::posix_file_system());

  cresult<model::offset> append(std::span<const record_group> groups) override;
  cresult<void> read(model::offset from, const record_visitor& visit) override;
  model::offset next_offset() const override { return _log->log_end_offset(); }

  const metadata_log_recovery& recovery() const { return _recovery; }
  const std::string& dir() const { return _log->dir(); }

 private:
  explicit file_metadata_log(std::unique_ptr<storage::log> log) : _log(std::move(log)) {}

  std::unique_ptr<storage::log> _log;
  metadata_log_recovery _recovery;
};

}  // namespace sluice::cluster
