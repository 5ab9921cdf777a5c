// Crash test: a writer process (crash_writer.cc) appends and flushes while this test kills it
// with SIGKILL at a point chosen by a seeded generator: after it reported k flushes (k may be
// 0, which kills it during start-up or recovery), wherever it then is. After every kill the log
// is recovered and checked: every batch reported durable is present and byte-for-byte intact,
// offsets are contiguous, and nothing after a torn write is served.
//
// SLUICE_CRASH_SEED and SLUICE_CRASH_ITERATIONS override the seed and the iteration count.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "storage/batch.h"
#include "storage/log_manager.h"
#include "storage/tests/crash_batches.h"

namespace sluice::storage {
using testing::temp_dir;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

struct writer {
  pid_t pid = -1;
  int out = -1;
  std::string pending;

  writer(const std::string& dir, int flush_every) {
    int fds[2];
    SLUICE_ASSERT(::pipe(fds) == 0, "pipe");
    pid = ::fork();
    SLUICE_ASSERT(pid >= 0, "fork");
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::string every = std::to_string(flush_every);
      ::execl(SLUICE_CRASH_WRITER, SLUICE_CRASH_WRITER, dir.c_str(), every.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    out = fds[0];
  }
  ~writer() {
    if (out >= 0) ::close(out);
  }
  // The offset of the next "durable <offset>" line, or nullopt when the writer exited.
  std::optional<int64_t> next_durable() {
    for (;;) {
      auto nl = pending.find('\n');
      if (nl != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        SLUICE_ASSERT(line.starts_with("durable "), "writer said '{}'", line);
        return std::stoll(line.substr(8));
      }
      char buffer[256];
      ssize_t n = ::read(out, buffer, sizeof(buffer));
      if (n <= 0) return std::nullopt;
      pending.append(buffer, static_cast<size_t>(n));
    }
  }
  int kill_and_wait() {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  }
};

// Recovers the log in `dir` and checks it against the deterministic content.
void verify(const std::string& dir, int64_t durable, uint64_t seed, int iteration) {
  log_manager_config config;
  config.log_dirs = {dir};
  config.load_threads = 1;
  config.defaults.segment_bytes = 64 * 1024;
  config.defaults.index_interval_bytes = 1024;
  log_manager manager(posix_file_system(), config);
  ASSERT_TRUE(manager.start().has_value()) << "seed " << seed << " iteration " << iteration;
  log* l = manager.get({"crash", model::partition_id(0)});
  if (l == nullptr) {
    ASSERT_EQ(durable, 0) << "seed " << seed << " iteration " << iteration;
    return;
  }
  ASSERT_GE(l->log_end_offset().value(), durable)
      << "seed " << seed << " iteration " << iteration << ": durable offsets lost";
  model::offset expected_base(0);
  for (const auto& batch : testing::split_batches(testing::read_all(*l))) {
    auto info = parse_batch_header(batch);
    ASSERT_EQ(info->base_offset, expected_base) << "seed " << seed << " iteration " << iteration;
    auto expected = testing::crash_batch(expected_base);
    patch_batch(expected, expected_base, testing::crash_epoch(expected_base));
    ASSERT_TRUE(batch == expected) << "seed " << seed << " iteration " << iteration << ": batch at "
                                   << expected_base.value() << " differs";
    expected_base = info->last_offset + 1;
  }
  ASSERT_EQ(expected_base, l->log_end_offset()) << "seed " << seed << " iteration " << iteration;
  ASSERT_TRUE(manager.stop().has_value());
}

}  // namespace

TEST(crash, killed_writer_loses_nothing_durable_and_serves_nothing_torn) {
  const uint64_t seed = env_or("SLUICE_CRASH_SEED", 20261125);
  const int iterations = static_cast<int>(env_or("SLUICE_CRASH_ITERATIONS", 100));
  std::printf("crash test seed %llu, %d iterations\n", static_cast<unsigned long long>(seed),
              iterations);
  std::mt19937_64 rng(seed);
  std::unique_ptr<temp_dir> dir;
  int64_t durable = 0;
  for (int it = 0; it < iterations; ++it) {
    if (it % 10 == 0) {
      dir = std::make_unique<temp_dir>();  // ten crash-recover cycles per log
      durable = 0;
    }
    int flush_every = 1 + static_cast<int>(rng() % 8);
    int lines = static_cast<int>(rng() % 8);
    writer w(dir->path(), flush_every);
    for (int i = 0; i < lines; ++i) {
      auto d = w.next_durable();
      ASSERT_TRUE(d.has_value()) << "seed " << seed << " iteration " << it << ": writer died";
      durable = std::max(durable, *d);
    }
    int status = w.kill_and_wait();
    ASSERT_TRUE(WIFSIGNALED(status))
        << "seed " << seed << " iteration " << it << ": writer exited with " << WEXITSTATUS(status);
    verify(dir->path(), durable, seed, it);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace sluice::storage
