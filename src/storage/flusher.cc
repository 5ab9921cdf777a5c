#include "storage/flusher.h"

namespace sluice::storage {

flusher::~flusher() {
  stop();
}

void flusher::start() {
  std::lock_guard lock(_mutex);
  SLUICE_ASSERT(!_running, "flusher started twice");
  _running = true;
  _stopping = false;
  _thread = std::thread([this] { run(); });
}

void flusher::stop() {
  {
    std::lock_guard lock(_mutex);
    if (!_running) return;
    _stopping = true;
  }
  _wake.notify_all();
  _thread.join();
  std::lock_guard lock(_mutex);
  _running = false;
}

void flusher::submit(flush_job job) {
  {
    std::unique_lock lock(_mutex);
    if (_running && !_stopping) {
      _queue.push_back(std::move(job));
      lock.unlock();
      _wake.notify_one();
      return;
    }
    _syncs += job.files.size();
  }
  execute(job);
}

uint64_t flusher::syncs() const {
  std::lock_guard lock(_mutex);
  return _syncs;
}

void flusher::execute(flush_job& job) {
  sresult<void> outcome;
  for (auto& f : job.files) {
    if (auto r = f->fdatasync(); !r) {
      outcome = r;
      break;
    }
  }
  job.done(std::move(outcome));
}

void flusher::run() {
  for (;;) {
    flush_job job;
    {
      std::unique_lock lock(_mutex);
      _wake.wait(lock, [&] { return !_queue.empty() || _stopping; });
      if (_queue.empty()) return;
      job = std::move(_queue.front());
      _queue.pop_front();
      _syncs += job.files.size();
    }
    execute(job);
  }
}

}  // namespace sluice::storage
