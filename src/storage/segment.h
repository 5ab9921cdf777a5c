#pragma once

// segment: one .log file of a partition log and its two indexes, named by the segment's base
// offset (docs/format/segment.md). The .log holds record batches exactly as they were appended;
// the indexes are derived data that can always be rebuilt from it.
//
// Ownership: the partition log holds segments by shared_ptr, and so does the deletion queue.
// The .log file itself is a shared_ptr<file> that every read handle (segment_read) also holds,
// so a descriptor a socket is sending from stays open after the segment is deleted or replaced.
//
// Threading: all methods run on the partition's shard. The one exception is the .log file's
// fdatasync, which the group-commit flusher calls from its thread through log_file().

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "storage/batch_scanner.h"
#include "storage/checkpoint.h"
#include "storage/log_config.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

namespace sluice::storage {

// A byte range of a .log file that a socket can send with sendfile(2). `log` keeps the file open
// for as long as the range is held. The range starts at a batch boundary; like Kafka's, it may
// end inside a batch when max_bytes cut it (consumers discard a partial trailing batch).
struct segment_read {
  std::shared_ptr<file> log;
  uint64_t position = 0;
  uint64_t length = 0;
  model::offset first_offset;  // base offset of the first batch in the range
};

// What recovery carries from one segment to the next.
struct recovery_state {
  model::offset next_offset;             // every batch must start at or after this offset
  model::leader_epoch leader_epoch{-1};  // batch epochs never decrease
  // The leader-epoch checkpoint, when intact: a batch at or after the first entry must carry
  // the epoch the checkpoint gives for its base offset. Empty: not checked.
  std::vector<epoch_entry> epochs;
  model::offset limit{INT64_MAX};  // the next segment's base offset: batches must end before it
  bool truncated = false;          // set when a segment was cut at a bad batch
  std::string reason;              // why, for the log line
};

class segment {
 public:
  // Creates the files of an empty segment; fails with already_exists if the .log exists.
  static sresult<std::shared_ptr<segment>> create(file_system& fs, const std::string& dir,
                                                  model::offset base, const log_config& config,
                                                  int64_t now_ms);
  // Opens an existing segment's .log. Indexes are read on first use.
  static sresult<std::shared_ptr<segment>> open(file_system& fs, const std::string& dir,
                                                model::offset base, const log_config& config,
                                                int64_t now_ms);

  model::offset base_offset() const { return _base; }
  // One past the last offset in the segment (the base offset when empty).
  model::offset next_offset() const { return _next_offset; }
  uint64_t size_bytes() const { return _size_bytes; }
  bool empty() const { return _size_bytes == 0; }
  const std::shared_ptr<file>& log_file() const { return _log; }
  std::string path(std::string_view suffix) const;

  // Appends whole batches whose offsets are already assigned; `batches` describes `bytes` in
  // order. On failure nothing is appended: the file is cut back to its old size. If even that
  // fails the error is log_failed and the caller must stop writing to this log.
  sresult<void> append(std::span<const uint8_t> bytes, std::span<const batch_info> batches);

  // Kafka's roll rules: the batch would overflow segment.bytes, segment.ms has passed since the
  // first batch's timestamp, an index is full, or the offsets no longer fit the u32 index field.
  bool should_roll(uint32_t incoming_bytes, model::offset incoming_last,
                   model::timestamp_ms incoming_max_timestamp, int64_t now_ms);

  // The first batch whose last offset is >= target, or nullopt when every batch is before it.
  sresult<std::optional<scanned_batch>> find_batch(model::offset target);
  // The first batch whose max timestamp is >= target, or nullopt.
  sresult<std::optional<scanned_batch>> find_batch_by_timestamp(model::timestamp_ms target);

  // The range from the batch holding `start` to before `end_offset` (exclusive), at most
  // `max_bytes` long unless `min_one_batch` and the first batch alone is larger. nullopt when the
  // segment holds nothing at or after `start`; a zero-length range when `start` is at or past
  // `end_offset`.
  sresult<std::optional<segment_read>> read(model::offset start, model::offset end_offset,
                                            uint64_t max_bytes, bool min_one_batch);

  // Validates every batch (lengths, CRC32C, offsets and epochs never going back) and rebuilds both
  // indexes. At the first bad batch the segment is truncated there and state.truncated is set.
  sresult<void> recover(recovery_state& state);
  // Finds the end of a segment that was flushed and closed cleanly: scans headers from the last
  // index entry. Fails with corrupt when the tail does not parse (the caller recovers instead).
  sresult<void> load_end();
  // Keeps only the batches that end before `offset`. A batch straddling `offset` is removed too.
  sresult<void> truncate_to(model::offset offset);

  // Loads the indexes, rebuilding them from the .log when missing or corrupt.
  sresult<void> ensure_indexes();
  // Writes pending index entries (no fsync).
  sresult<void> flush_indexes();
  // Called when the segment stops being the active one: final time-index entry, indexes written
  // (not synced: they are checked when used and rebuilt when bad), and their memory released
  // until the next lookup.
  sresult<void> seal();
  // The largest batch timestamp in the segment, -1 when unknown (no timestamps).
  sresult<model::timestamp_ms> largest_timestamp();
  void set_next_offset(model::offset next) { _next_offset = next; }
  // Frees the in-memory indexes of a sealed segment; the next lookup loads them again.
  void release_indexes();
  bool indexes_loaded() const { return _offsets.file().loaded() || _times.file().loaded(); }
  // A tick of the owning log's last use of this segment, to choose which indexes to release.
  uint64_t last_use() const { return _last_use; }
  void set_last_use(uint64_t tick) { _last_use = tick; }

  // Renames the three files to <name>.deleted (retention, truncation, compaction swap).
  sresult<void> rename_for_delete();
  // Unlinks the files; safe to call once no reader holds log_file().
  sresult<void> remove_files();
  bool renamed_for_delete() const { return _deleted; }

 private:
  segment(file_system& fs, std::string dir, model::offset base, const log_config& config,
          std::shared_ptr<file> log, uint64_t size_bytes, int64_t now_ms);
  // Rebuilds both indexes by scanning headers (no CRC); used when an index file is bad.
  sresult<void> rebuild_indexes();
  void index_batch(const batch_info& batch, uint64_t position);
  sresult<std::optional<scanned_batch>> scan_from(uint64_t position, model::offset target);

  file_system& _fs;
  std::string _dir;
  model::offset _base;
  model::offset _next_offset;
  uint32_t _index_interval_bytes;
  uint64_t _segment_bytes;
  int64_t _segment_ms;
  std::shared_ptr<file> _log;
  offset_index _offsets;
  time_index _times;
  uint64_t _size_bytes;
  uint64_t _bytes_since_index = 0;
  model::timestamp_ms _max_timestamp{-1};
  model::offset _offset_of_max_timestamp;
  bool _max_timestamp_known = false;
  std::optional<model::timestamp_ms> _first_batch_timestamp;
  int64_t _created_ms;
  uint64_t _last_use = 0;
  bool _deleted = false;
};

}  // namespace sluice::storage
