#pragma once

// log_manager: every partition log of the broker, spread over several log.dirs. Creates and
// deletes partitions, loads all of them at start in parallel (recovering those that were not
// shut down cleanly), writes the per-directory checkpoints (recovery points, log start offsets)
// and the clean-shutdown marker, and runs the periodic housekeeping: retention, deferred file
// deletion, flush.ms and checkpoints.
//
// Threading: start(), stop(), create(), remove() and set_topic_config() are called from one
// control thread. Each log belongs to one shard (ARCHITECTURE decision 4); that shard calls
// housekeep() for the logs it owns. write_checkpoints() may run on the control thread at any
// time: it reads only the atomics each log publishes. The map of logs is guarded by a mutex that
// only these control-path calls take; the hot path (append, read) uses a log* obtained once.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/compaction.h"
#include "storage/log.h"

namespace sluice::storage {

struct log_manager_config {
  std::vector<std::string> log_dirs;  // log.dirs
  log_config defaults;                // the broker's log.* settings
  // The topic-level overrides known at start (from the metadata log); may be empty.
  std::function<std::map<std::string, std::string>(const std::string& topic)> topic_overrides;
  size_t load_threads = 0;                       // 0: one per hardware thread
  int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
  int64_t checkpoint_interval_ms = 60000;        // log.flush.offset.checkpoint.interval.ms
  std::function<int64_t()> clock;                // milliseconds; system clock when empty
  compaction_budget compaction;                  // per housekeeping pass of one log
  flusher* group_commit = nullptr;               // shared by every log; see log_open_options
  // Runs a function on the shard that owns `tp` (log_open_options::post for each log).
  std::function<void(const model::topic_partition& tp, std::function<void()>)> post;
  // Partition directories that another owner holds and the manager must neither load nor
  // touch (the metadata log's `__cluster_metadata-0`). Empty: load every partition directory.
  std::function<bool(const model::topic_partition&)> skip;
};

class log_manager {
 public:
  log_manager(file_system& fs, log_manager_config config);
  log_manager(const log_manager&) = delete;
  log_manager& operator=(const log_manager&) = delete;
  ~log_manager();

  // Loads every partition directory of every log dir. A directory without a clean-shutdown
  // marker has its logs recovered from their checkpointed recovery points. The markers are
  // removed once loading succeeds, so that a crash from now on counts as unclean.
  sresult<void> start();
  // Closes every log (flushing it), writes the checkpoints and the clean-shutdown markers.
  sresult<void> stop();

  // Creates a partition in the log dir holding the fewest partitions.
  sresult<log*> create(const model::topic_partition& tp,
                       const std::map<std::string, std::string>& overrides = {});
  // Creates several partitions, as create() does each, then makes the new directories durable
  // with one sync of each log dir used instead of one per partition (a topic of 10,000
  // partitions is one call). A result per partition, in order; a partition that fails leaves
  // the others created.
  struct new_partition {
    model::topic_partition tp;
    std::map<std::string, std::string> overrides;
  };
  std::vector<sresult<log*>> create_all(const std::vector<new_partition>& partitions);
  // Deletes a partition: its directory is renamed to "<name>.<n>-delete" and removed. Readers
  // holding segment_read handles keep their open files until they drop them.
  sresult<void> remove(const model::topic_partition& tp);
  // nullptr when the partition does not exist.
  log* get(const model::topic_partition& tp) const;
  std::vector<model::topic_partition> partitions() const;
  size_t size() const;
  // log.dirs as configured, in order.
  const std::vector<std::string>& log_dirs() const { return _config.log_dirs; }
  // Every partition with the log dir that holds it (DescribeLogDirs). Any thread.
  std::vector<std::pair<model::topic_partition, std::string>> placements() const;

  // Records topic-level overrides for `topic` and applies them, on top of the broker defaults,
  // to every partition of it. New settings affect segments created from now on. This calls
  // log::set_config directly, so it is for single-threaded use; a sharded broker takes the
  // config from config_for_topic() and calls set_config on each partition's owning shard.
  sresult<void> set_topic_config(const std::string& topic,
                                 const std::map<std::string, std::string>& overrides);
  // The broker defaults with `overrides` applied; invalid_argument for a bad value.
  sresult<log_config> config_for_topic(const std::map<std::string, std::string>& overrides) const {
    return apply_overrides(_config.defaults, overrides);
  }

  // Writes recovery-point-offset-checkpoint and log-start-offset-checkpoint in every log dir.
  // Any thread; concurrent calls are serialised, and each writes values read under its turn,
  // so a later call never puts older offsets on disk than an earlier one (DeleteRecords writes
  // them at once while shard 0 writes them every minute).
  sresult<void> write_checkpoints();
  // Periodic work for one log, on its owning shard: flush.ms, retention and compaction every
  // log.retention.check.interval.ms, unlinking segments whose deletion delay has passed.
  static sresult<void> housekeep(log& l, int64_t now_ms, bool check_retention,
                                 const compaction_budget& budget);
  // housekeep() for every log, then checkpoints when due. For single-threaded use and tests.
  sresult<void> tick(int64_t now_ms);

 private:
  struct entry {
    std::unique_ptr<log> l;
    std::string dir;  // the log dir holding it
  };
  struct load_job {
    std::string log_dir;
    std::string path;
    model::topic_partition tp;
    log_open_options options;
  };

  sresult<std::vector<load_job>> scan_dir(const std::string& log_dir);
  sresult<void> load_all(std::vector<load_job>& jobs);
  // Runs fn(0) .. fn(count - 1) on load_threads threads, the caller's included.
  void run_parallel(size_t count, const std::function<void(size_t)>& fn) const;
  sresult<void> remove_tree(const std::string& path);
  log_open_options base_options(const model::topic_partition& tp) const;

  file_system& _fs;
  log_manager_config _config;
  mutable std::mutex _mutex;
  std::mutex _checkpoint_mutex;  // taken before _mutex, never after it
  std::map<model::topic_partition, entry> _logs;
  std::map<std::string, std::map<std::string, std::string>> _topic_overrides;
  int64_t _last_retention_ms = 0;
  int64_t _last_checkpoint_ms = 0;
  uint64_t _delete_counter = 0;
  bool _started = false;
};

}  // namespace sluice::storage
