#pragma once

// log: the partition log. A directory `<topic>-<partition>/` of segments in offset order, the
// last of which (the active segment) takes appends. It assigns offsets, serves reads as file
// ranges for sendfile(2), keeps the log start offset, high watermark and log end offset, rolls
// segments, enforces the flush policy, runs group commit through a flusher, recovers after an
// unclean stop, applies retention and hands whole segments to deferred deletion.
//
// Threading: a log is owned by one shard and every method must be called on that thread; no
// method locks. Work that leaves the thread: (1) group-commit fdatasync runs on the flusher's
// thread and its completion comes back through the `post` function given at open; (2) read
// ranges (segment_read) may be used on any thread, since they hold the .log file open; (3) the
// recovery point, log start offset and cleaned offset are published through atomics so that the
// log manager can write checkpoints from another thread.
//
// Invariants: log_start_offset <= high_watermark <= log_end_offset; recovery_point <=
// log_end_offset; segments are sorted and non-overlapping; the active segment is last.

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "storage/flusher.h"
#include "storage/leader_epoch_cache.h"
#include "storage/producer_snapshot.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

namespace sluice::storage {

struct append_result {
  model::offset base_offset;  // offset of the first record appended
  model::offset last_offset;  // offset of the last record appended
  uint64_t bytes = 0;
  // A retry of an idempotent producer's batch that is already in the log: nothing was appended
  // and the offsets (and max timestamp) are those of the original batch.
  bool duplicate = false;
  int64_t duplicate_max_timestamp = -1;
};

struct read_result {
  // Empty when there is nothing at `start` yet; otherwise one range from one segment.
  std::optional<segment_read> range;
  model::offset log_start_offset;
  model::offset high_watermark;
  model::offset log_end_offset;
};

struct offset_and_timestamp {
  model::offset offset;
  model::timestamp_ms timestamp;
};

// How a log is opened; the log manager fills this from its checkpoints.
struct log_open_options {
  model::offset recovery_point;                 // from recovery-point-offset-checkpoint
  std::optional<model::offset> log_start;       // from log-start-offset-checkpoint
  std::optional<model::offset> cleaned_offset;  // from cleaner-offset-checkpoint
  bool clean_shutdown = false;                  // the directory had a clean-shutdown marker
  std::function<int64_t()> clock;               // milliseconds; defaults to the system clock
  flusher* group_commit = nullptr;              // nullptr: syncs run inline on the caller
  // Runs a function on the owning shard; required with group_commit.
  std::function<void(std::function<void()>)> post;
};

using sync_callback = std::function<void(sresult<void>)>;

class log {
 public:
  // Opens (and recovers, when the stop was unclean) the log in `dir`, creating it if missing.
  static sresult<std::unique_ptr<log>> open(file_system& fs, std::string dir,
                                            model::topic_partition tp, log_config config,
                                            log_open_options options);
  log(const log&) = delete;
  log& operator=(const log&) = delete;
  ~log();

  // Appends a record set of one or more whole batches that produce already validated. Assigns
  // offsets from the log end offset by patching each batch's base offset, and the leader epoch,
  // in place (the CRC does not cover them). Nothing is appended on failure.
  // Batches of idempotent producers are checked against the producer state first: a retry of
  // a batch in the log returns its original offsets with `duplicate` set; a sequence gap fails
  // with out_of_order_sequence, an old epoch with invalid_producer_epoch.
  sresult<append_result> append(std::span<uint8_t> batches, model::leader_epoch epoch);
  // Appends batches whose offsets were assigned elsewhere (a follower); they must start at or
  // after the log end offset.
  sresult<append_result> append_with_offsets(std::span<uint8_t> batches);

  // Reads from the batch holding `start`, up to `max_bytes` (at least one whole batch when
  // min_one_batch), never including batches at or after `end_offset` (the high watermark for a
  // consumer, the log end offset for a follower). offset_out_of_range when `start` is below the
  // log start offset or above the log end offset.
  sresult<read_result> read(model::offset start, uint64_t max_bytes, model::offset end_offset,
                            bool min_one_batch);
  // ListOffsets: the first record at or after the log start offset whose timestamp is >=
  // `timestamp`, and its timestamp; nullopt when none. The time index finds the batch, whose
  // records are then decoded.
  sresult<std::optional<offset_and_timestamp>> offset_for_timestamp(model::timestamp_ms timestamp);

  model::offset log_start_offset() const { return _log_start; }
  model::offset log_end_offset() const { return _log_end; }
  model::offset high_watermark() const { return _high_watermark; }
  // Clamped to [log start offset, log end offset].
  void set_high_watermark(model::offset offset);
  // Everything before it is on disk (fdatasync'ed). Readable from any thread.
  model::offset recovery_point() const { return model::offset(_recovery_point_published.load()); }
  model::offset published_log_start_offset() const {
    return model::offset(_log_start_published.load());
  }

  // Truncation for replication: removes every batch at or after `offset` (a batch straddling it
  // is removed whole). Below the log start offset the log is emptied and restarts at `offset`.
  sresult<void> truncate_to(model::offset offset);
  // DeleteRecords: moves the log start offset up to `offset` (at most the high watermark) and
  // hands segments wholly below it to deferred deletion.
  sresult<void> advance_log_start_offset(model::offset offset);

  // Durability. flush() syncs everything now on the calling thread. sync() calls `done` once
  // every offset below `up_to` is durable, sharing one fdatasync among all waiters that arrive
  // while one is in flight; `done` runs on the owning shard. maybe_flush() applies flush.ms and
  // is called by the owner's periodic task.
  sresult<void> flush();
  // True when flush.messages asks for the data appended so far to be synced before it is
  // acknowledged (Kafka flushes inside the append; here the caller waits with sync()).
  bool flush_due() const { return _log_end - _recovery_point >= _config.flush_messages; }
  void sync(model::offset up_to, sync_callback done);
  void maybe_flush(int64_t now_ms);
  // After a failed fsync or an unrecoverable write the log refuses appends; reads still work.
  bool failed() const { return _failed; }

  // Retention: segments past retention.ms / retention.bytes, or below the log start offset, are
  // renamed to .deleted and queued; remove_deleted_segments() unlinks queued segments whose
  // file.delete.delay.ms has passed and that no reader still holds. Returns segments queued.
  sresult<size_t> apply_retention(int64_t now_ms);
  sresult<size_t> remove_deleted_segments(int64_t now_ms);
  size_t pending_deletions() const { return _pending_deletes.size(); }

  // Flushes, seals the active segment's indexes and fails pending waiters; the log is unusable
  // afterwards. The caller writes the checkpoints and the clean-shutdown marker.
  sresult<void> close();

  leader_epoch_cache& epochs() { return _epochs; }

  // Idempotent producers: their state, its snapshot at the log end offset (also written at
  // every segment roll and at close), and expiry after producer.id.expiration.ms.
  const producer_state& producers() const { return _producers; }
  sresult<void> snapshot_producers();
  sresult<std::optional<producer_snapshot>> latest_producer_snapshot();
  size_t expire_producers(int64_t now_ms, int64_t expiration_ms);

  const model::topic_partition& topic_partition() const { return _tp; }
  const std::string& dir() const { return _dir; }
  const log_config& config() const { return _config; }
  void set_config(const log_config& config) { _config = config; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return _segments.size(); }
  const std::vector<std::shared_ptr<segment>>& segments() const { return _segments; }
  int64_t now_ms() const { return _clock(); }
  // Keeps the in-memory indexes of at most sealed_indexes_max sealed segments (the most
  // recently used); the active segment's are always in memory.
  void trim_index_memory();
  static constexpr size_t sealed_indexes_max = 8;

  // For compaction (compaction.cc): swaps `old_segment` (sealed) for the finished rewrite at
  // `swap_path` (<base>.log.swap), queueing the old one for deletion.
  sresult<void> replace_segment(const std::shared_ptr<segment>& old_segment,
                                const std::string& swap_path);
  file_system& fs() { return _fs; }
  // The first offset compaction has not yet cleaned (cleaner-offset-checkpoint).
  // Published like the recovery point, for the cleaner-offset-checkpoint.
  model::offset cleaned_offset() const { return model::offset(_cleaned_offset.load()); }
  void set_cleaned_offset(model::offset offset) { _cleaned_offset.store(offset.value()); }

 private:
  log(file_system& fs, std::string dir, model::topic_partition tp, log_config config,
      log_open_options options);

  // log_load.cc
  sresult<void> load(const log_open_options& options);
  sresult<void> load_segments();
  sresult<void> recover_from(model::offset recovery_point);
  sresult<void> find_log_end();
  sresult<void> rebuild_epochs(const error& why);
  // Loads the newest snapshot at or below the log end and replays the batches after it; with
  // no snapshot, replays from the first segment unless `clean` (a clean close leaves one
  // whenever there was state to keep).
  sresult<void> load_producers(bool clean);
  // Calls fn with the header of every batch whose base offset is at or after `from`.
  sresult<void> scan_batch_headers(model::offset from,
                                   const std::function<void(const batch_info&)>& fn);
  // log.cc
  sresult<append_result> append_batches(std::span<uint8_t> bytes, std::vector<batch_info>& infos);
  sresult<void> maybe_roll(const std::vector<batch_info>& infos, uint64_t bytes);
  sresult<void> roll();
  segment* segment_for(model::offset offset) const;
  // log_retention.cc
  sresult<void> delete_segment(std::shared_ptr<segment> s, int64_t now_ms);
  void set_log_start(model::offset offset);
  // log_sync.cc
  void start_sync();
  void finish_sync(model::offset covered, sresult<void> outcome);
  void fail(const error& why);
  void set_recovery_point(model::offset offset);

  file_system& _fs;
  std::string _dir;
  model::topic_partition _tp;
  log_config _config;
  std::function<int64_t()> _clock;
  flusher* _flusher;
  std::function<void(std::function<void()>)> _post;
  std::vector<std::shared_ptr<segment>> _segments;
  leader_epoch_cache _epochs;
  producer_state _producers;
  bool _has_producer_snapshots = false;
  model::offset _log_start;
  model::offset _log_end;
  model::offset _high_watermark;
  model::offset _recovery_point;
  std::atomic<int64_t> _cleaned_offset{0};
  std::atomic<int64_t> _recovery_point_published{0};
  std::atomic<int64_t> _log_start_published{0};
  int64_t _last_flush_ms = 0;
  uint64_t _use_tick = 0;
  bool _failed = false;
  bool _closed = false;

  struct sync_waiter {
    model::offset up_to;
    sync_callback done;
  };
  // Shared with in-flight flush jobs: a completion that arrives after the log is gone finds
  // `owner` null and does nothing.
  struct sync_state {
    log* owner = nullptr;
  };
  std::deque<sync_waiter> _waiters;
  std::shared_ptr<sync_state> _sync_state;
  bool _sync_in_flight = false;

  struct pending_delete {
    std::shared_ptr<segment> seg;
    int64_t delete_after_ms;
  };
  std::deque<pending_delete> _pending_deletes;
};

}  // namespace sluice::storage
