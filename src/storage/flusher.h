#pragma once

// flusher: the background thread that runs fdatasync for group commit, so that a shard never
// blocks its event loop on a disk flush. A partition log submits one job at a time, holding the
// .log files written since its last flush; the flusher syncs them and calls the job's `done` on
// its own thread. The log turns that into a post back to its owning shard (see log::sync).
//
// Concurrent waiters share one fdatasync because the log batches them: while a job is in
// flight, new waiters only queue, and the next job covers all of them.
//
// Thread-safe: submit() may be called from any shard. The queue is bounded by the number of
// logs (each has at most one job in flight), so it needs no other bound.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/file_system.h"

namespace sluice::storage {

struct flush_job {
  std::vector<std::shared_ptr<file>> files;
  // Called on the flusher thread with the first error, or success.
  std::function<void(sresult<void>)> done;
};

class flusher {
 public:
  flusher() = default;
  flusher(const flusher&) = delete;
  flusher& operator=(const flusher&) = delete;
  ~flusher();

  void start();
  // Runs every queued job, then joins the thread. Jobs submitted after stop() run inline.
  void stop();
  void submit(flush_job job);
  // fdatasync calls made so far (for tests and benchmarks).
  uint64_t syncs() const;

 private:
  void run();
  static void execute(flush_job& job);

  mutable std::mutex _mutex;
  std::condition_variable _wake;
  std::deque<flush_job> _queue;
  bool _running = false;
  bool _stopping = false;
  uint64_t _syncs = 0;
  std::thread _thread;
};

}  // namespace sluice::storage
