#pragma once

// Helpers for storage tests, the crash-test writer and the benchmarks: temporary directories and
// record batches built with protocol's batch_builder.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "storage/log.h"

namespace sluice::storage::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// `memory` puts it on /dev/shm when that exists: for tests that create thousands of files and
// test logic rather than the disk, where ext4's file creation cost would dominate.
class temp_dir {
 public:
  explicit temp_dir(bool memory = false);
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return _path; }
  std::string operator/(const std::string& name) const { return _path + "/" + name; }

 private:
  std::string _path;
};

// One uncompressed batch of `records` records with values of `value_bytes` bytes. Record i has
// key "k<key_base + i>" and timestamp `timestamp_ms + i`; the value bytes derive from `seed`.
std::vector<uint8_t> make_batch(int records, size_t value_bytes, int64_t timestamp_ms,
                                uint64_t seed = 0, int key_base = 0);

// A batch of records with explicit keys and values (nullopt value: tombstone).
struct kv {
  std::string key;
  std::optional<std::string> value;
};
std::vector<uint8_t> make_kv_batch(const std::vector<kv>& records, int64_t timestamp_ms);

// The bytes of every batch in the log from `start`, read through log::read and pread.
std::vector<uint8_t> read_all(log& l, model::offset start = model::offset(0));

// Splits a byte string of whole batches into batches; asserts it parses.
std::vector<std::vector<uint8_t>> split_batches(const std::vector<uint8_t>& bytes);

std::string read_file_or_empty(const std::string& path);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Options for opening a log in tests: a fixed clock that tests advance by hand.
log_open_options test_options(int64_t* clock_ms, bool clean = false,
                              model::offset recovery_point = model::offset(0));

// A stand-in for a partition's owning shard: group-commit completions posted by the flusher
// queue here and run on the caller's thread. Waits on a condition variable, never on a timer.
struct fake_shard {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::function<void()>> queue;

  std::function<void(std::function<void()>)> poster() {
    return [this](std::function<void()> fn) {
      std::lock_guard lock(mutex);
      queue.push_back(std::move(fn));
      ready.notify_one();
    };
  }
  // Waits for the next posted piece of work and runs it.
  void run_one() {
    std::function<void()> fn;
    {
      std::unique_lock lock(mutex);
      ready.wait(lock, [&] { return !queue.empty(); });
      fn = std::move(queue.front());
      queue.pop_front();
    }
    fn();
  }
  // Runs posted work until `done` holds.
  void run_until(const std::function<bool()>& done) {
    while (!done()) run_one();
  }
};

}  // namespace sluice::storage::testing
