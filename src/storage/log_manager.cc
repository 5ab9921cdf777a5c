#include "storage/log_manager.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "base/logging.h"
#include "storage/checkpoint.h"
#include "storage/format.h"

namespace sluice::storage {

namespace {
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

log_manager::log_manager(file_system& fs, log_manager_config config)
    : _fs(fs), _config(std::move(config)) {
  SLUICE_ASSERT(!_config.log_dirs.empty(), "log manager without log dirs");
  if (!_config.clock) {
    _config.clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

log_manager::~log_manager() {
  if (_started) (void)stop();
}

log_open_options log_manager::base_options(const model::topic_partition& tp) const {
  log_open_options o;
  o.clock = _config.clock;
  o.group_commit = _config.group_commit;
  if (_config.post) {
    o.post = [post = _config.post, tp](std::function<void()> fn) { post(tp, std::move(fn)); };
  }
  return o;
}

sresult<std::vector<log_manager::load_job>> log_manager::scan_dir(const std::string& log_dir) {
  if (auto r = _fs.mkdir(log_dir); !r) return failure(r.error());
  bool clean = _fs.exists(join_path(log_dir, std::string(clean_shutdown_marker_name)));
  auto read_offsets = [&](std::string_view name) -> offset_map {
    auto offsets = read_offset_checkpoint(_fs, join_path(log_dir, std::string(name)));
    if (offsets) return std::move(*offsets);
    if (offsets.error().code != errc::not_found) {
      // Losing a recovery point costs a longer recovery; losing a log start offset may expose
      // records that DeleteRecords removed. Both are reported, neither stops the broker.
      logger("storage")->error("{}: {}; treating it as empty", log_dir, offsets.error().describe());
    }
    return {};
  };
  offset_map recovery_points = read_offsets(recovery_point_checkpoint_name);
  offset_map log_starts = read_offsets(log_start_checkpoint_name);
  offset_map cleaned = read_offsets(cleaner_checkpoint_name);
  auto names = _fs.list_dir(log_dir);
  if (!names) return failure(names.error());
  std::vector<load_job> jobs;
  for (const auto& name : *names) {
    std::string path = join_path(log_dir, name);
    if (ends_with(name, "-delete")) {
      if (auto r = remove_tree(path); !r) return failure(r.error());
      continue;
    }
    auto tp = parse_partition_dir_name(name);
    if (!tp) continue;  // checkpoint files, the marker, anything else
    if (_config.skip && _config.skip(*tp)) continue;
    load_job job{log_dir, path, *tp, base_options(*tp)};
    job.options.clean_shutdown = clean;
    if (auto it = recovery_points.find(*tp); it != recovery_points.end()) {
      job.options.recovery_point = it->second;
    }
    if (auto it = log_starts.find(*tp); it != log_starts.end()) {
      job.options.log_start = it->second;
    }
    if (auto it = cleaned.find(*tp); it != cleaned.end()) job.options.cleaned_offset = it->second;
    jobs.push_back(std::move(job));
  }
  logger("storage")->info("{}: {} partitions, {} shutdown", log_dir, jobs.size(),
                          clean ? "clean" : "unclean");
  return jobs;
}

void log_manager::run_parallel(size_t count, const std::function<void(size_t)>& fn) const {
  size_t threads = _config.load_threads != 0 ? _config.load_threads
                                             : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max<size_t>(1, count));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

sresult<void> log_manager::load_all(std::vector<load_job>& jobs) {
  std::vector<std::optional<sresult<std::unique_ptr<log>>>> results(jobs.size());
  auto worker = [&](size_t i) {
    auto& job = jobs[i];
    auto overrides = _config.topic_overrides ? _config.topic_overrides(job.tp.topic)
                                             : std::map<std::string, std::string>{};
    auto config = config_for_topic(overrides);
    if (!config) {
      results[i] = failure(config.error());
      return;
    }
    results[i] = log::open(_fs, job.path, job.tp, *config, job.options);
  };
  run_parallel(jobs.size(), worker);
  std::lock_guard lock(_mutex);
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto& r = *results[i];
    if (!r) {
      logger("storage")->error("failed to load {}: {}", jobs[i].path, r.error().describe());
      return failure(r.error());
    }
    _logs[jobs[i].tp] = entry{std::move(*r), jobs[i].log_dir};
  }
  return {};
}

sresult<void> log_manager::start() {
  SLUICE_ASSERT(!_started, "log manager started twice");
  std::vector<load_job> jobs;
  for (const auto& dir : _config.log_dirs) {
    auto found = scan_dir(dir);
    if (!found) return failure(found.error());
    for (auto& j : *found) jobs.push_back(std::move(j));
  }
  if (auto r = load_all(jobs); !r) return r;
  // Recovery moved recovery points; record them before the markers go.
  if (auto r = write_checkpoints(); !r) return r;
  for (const auto& dir : _config.log_dirs) {
    auto marker = join_path(dir, std::string(clean_shutdown_marker_name));
    if (_fs.exists(marker)) {
      if (auto r = _fs.unlink(marker); !r) return r;
      if (auto r = _fs.sync_dir(dir); !r) return r;
    }
  }
  _started = true;
  _last_retention_ms = _last_checkpoint_ms = _config.clock();
  logger("storage")->info("log manager started: {} partitions in {} log dirs", _logs.size(),
                          _config.log_dirs.size());
  return {};
}

sresult<void> log_manager::stop() {
  if (!_started) return {};
  _started = false;
  sresult<void> outcome;
  std::set<std::string> failed_dirs;
  {
    // Closing flushes every log: spread the fdatasyncs over the load threads.
    std::lock_guard lock(_mutex);
    std::vector<entry*> entries;
    for (auto& [tp, e] : _logs) entries.push_back(&e);
    std::vector<std::optional<sresult<void>>> results(entries.size());
    run_parallel(entries.size(), [&](size_t i) { results[i] = entries[i]->l->close(); });
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!*results[i]) {
        logger("storage")->error("closing {}: {}", entries[i]->l->dir(),
                                 results[i]->error().describe());
        failed_dirs.insert(entries[i]->dir);
        outcome = *results[i];
      }
    }
  }
  if (auto r = write_checkpoints(); !r) return r;
  // A dir with a log that did not close cleanly gets no marker: it will be recovered.
  for (const auto& dir : _config.log_dirs) {
    if (failed_dirs.contains(dir)) continue;
    auto marker =
        _fs.open(join_path(dir, std::string(clean_shutdown_marker_name)), open_mode::create);
    if (!marker) return failure(marker.error());
    if (auto r = (*marker)->fdatasync(); !r) return r;
    if (auto r = _fs.sync_dir(dir); !r) return r;
  }
  std::lock_guard lock(_mutex);
  _logs.clear();
  return outcome;
}

}  // namespace sluice::storage

namespace sluice::storage {

sresult<log*> log_manager::create(const model::topic_partition& tp,
                                  const std::map<std::string, std::string>& overrides) {
  return std::move(create_all({{tp, overrides}}).front());
}

std::vector<sresult<log*>> log_manager::create_all(const std::vector<new_partition>& partitions) {
  std::vector<sresult<log*>> out;
  out.reserve(partitions.size());
  std::lock_guard lock(_mutex);
  std::map<std::string, size_t> counts;
  for (const auto& dir : _config.log_dirs) counts[dir] = 0;
  for (const auto& [_, e] : _logs) ++counts[e.dir];
  std::set<std::string> dirs_to_sync;
  for (const auto& [tp, overrides] : partitions) {
    auto config = config_for_topic(overrides);
    if (!config) {
      out.emplace_back(failure(config.error()));
      continue;
    }
    if (_logs.contains(tp)) {
      out.emplace_back(failure(make_error(
          errc::already_exists, fmt::format("partition {} exists", partition_dir_name(tp)))));
      continue;
    }
    std::string dir = _config.log_dirs.front();
    for (const auto& d : _config.log_dirs) {
      if (counts[d] < counts[dir]) dir = d;
    }
    if (!overrides.empty()) _topic_overrides[tp.topic] = overrides;
    auto options = base_options(tp);
    options.clean_shutdown = true;  // a new directory has nothing to recover
    auto l = log::open(_fs, join_path(dir, partition_dir_name(tp)), tp, *config, options);
    if (!l) {
      out.emplace_back(failure(l.error()));
      continue;
    }
    dirs_to_sync.insert(dir);
    ++counts[dir];
    out.emplace_back(l->get());
    _logs[tp] = entry{std::move(*l), dir};
  }
  // A new partition directory is durable once its parent is synced: a log dir that cannot be
  // synced takes back the partitions just created in it, as create() of one would.
  for (const auto& dir : dirs_to_sync) {
    auto synced = _fs.sync_dir(dir);
    if (synced) continue;
    for (size_t i = 0; i < partitions.size(); ++i) {
      auto it = _logs.find(partitions[i].tp);
      if (!out[i] || it == _logs.end() || it->second.dir != dir) continue;
      out[i] = failure(synced.error());
      _logs.erase(it);
    }
  }
  return out;
}

sresult<void> log_manager::remove_tree(const std::string& path) {
  auto names = _fs.list_dir(path);
  if (!names) return failure(names.error());
  for (const auto& name : *names) {
    if (auto r = _fs.unlink(join_path(path, name)); !r) return r;
  }
  if (auto r = _fs.rmdir(path); !r) return r;
  return _fs.sync_dir(parent_dir(path));
}

sresult<void> log_manager::remove(const model::topic_partition& tp) {
  std::unique_ptr<log> l;
  {
    std::lock_guard lock(_mutex);
    auto it = _logs.find(tp);
    if (it == _logs.end()) {
      return failure(
          make_error(errc::not_found, fmt::format("no partition {}", partition_dir_name(tp))));
    }
    l = std::move(it->second.l);
    _logs.erase(it);
  }
  std::string path = l->dir();
  l.reset();
  // The rename is the commit point: a crash after it finishes the deletion at the next start.
  std::string doomed = fmt::format("{}.{}-delete", path, _delete_counter++);
  if (auto r = _fs.rename(path, doomed); !r) return r;
  if (auto r = _fs.sync_dir(parent_dir(path)); !r) return r;
  logger("storage")->info("deleted partition {}", partition_dir_name(tp));
  return remove_tree(doomed);
}

log* log_manager::get(const model::topic_partition& tp) const {
  std::lock_guard lock(_mutex);
  auto it = _logs.find(tp);
  return it == _logs.end() ? nullptr : it->second.l.get();
}

std::vector<model::topic_partition> log_manager::partitions() const {
  std::lock_guard lock(_mutex);
  std::vector<model::topic_partition> out;
  for (const auto& [tp, _] : _logs) out.push_back(tp);
  return out;
}

size_t log_manager::size() const {
  std::lock_guard lock(_mutex);
  return _logs.size();
}

sresult<void> log_manager::set_topic_config(const std::string& topic,
                                            const std::map<std::string, std::string>& overrides) {
  auto config = config_for_topic(overrides);
  if (!config) return failure(config.error());
  std::lock_guard lock(_mutex);
  _topic_overrides[topic] = overrides;
  for (auto& [tp, e] : _logs) {
    if (tp.topic == topic) e.l->set_config(*config);
  }
  return {};
}

std::vector<std::pair<model::topic_partition, std::string>> log_manager::placements() const {
  std::lock_guard lock(_mutex);
  std::vector<std::pair<model::topic_partition, std::string>> out;
  out.reserve(_logs.size());
  for (const auto& [tp, e] : _logs) out.emplace_back(tp, e.dir);
  return out;
}

sresult<void> log_manager::write_checkpoints() {
  std::lock_guard turn(_checkpoint_mutex);
  std::map<std::string, offset_map> recovery_points;
  std::map<std::string, offset_map> log_starts;
  std::map<std::string, offset_map> cleaned;
  {
    std::lock_guard lock(_mutex);
    for (const auto& dir : _config.log_dirs) {
      recovery_points[dir];
      log_starts[dir];
      cleaned[dir];
    }
    for (const auto& [tp, e] : _logs) {
      recovery_points[e.dir][tp] = e.l->recovery_point();
      log_starts[e.dir][tp] = e.l->published_log_start_offset();
      if (e.l->config().cleanup_compact) cleaned[e.dir][tp] = e.l->cleaned_offset();
    }
  }
  for (const auto& dir : _config.log_dirs) {
    for (auto [name, offsets] : {std::pair{recovery_point_checkpoint_name, &recovery_points[dir]},
                                 std::pair{log_start_checkpoint_name, &log_starts[dir]},
                                 std::pair{cleaner_checkpoint_name, &cleaned[dir]}}) {
      auto r = write_offset_checkpoint(_fs, join_path(dir, std::string(name)), *offsets);
      if (!r) return r;
    }
  }
  return {};
}

sresult<void> log_manager::housekeep(log& l, int64_t now_ms, bool check_retention,
                                     const compaction_budget& budget) {
  l.maybe_flush(now_ms);
  if (check_retention) {
    if (auto r = l.apply_retention(now_ms); !r) return failure(r.error());
    if (l.config().cleanup_compact) {
      if (auto r = compact(l, now_ms, budget); !r) return failure(r.error());
    }
  }
  if (auto r = l.remove_deleted_segments(now_ms); !r) return failure(r.error());
  return {};
}

sresult<void> log_manager::tick(int64_t now_ms) {
  bool retention = now_ms - _last_retention_ms >= _config.retention_check_interval_ms;
  if (retention) _last_retention_ms = now_ms;
  {
    std::lock_guard lock(_mutex);
    for (auto& [tp, e] : _logs) {
      if (auto r = housekeep(*e.l, now_ms, retention, _config.compaction); !r) return r;
    }
  }
  if (now_ms - _last_checkpoint_ms >= _config.checkpoint_interval_ms) {
    _last_checkpoint_ms = now_ms;
    return write_checkpoints();
  }
  return {};
}

}  // namespace sluice::storage
