// The machine's own limits: raw sequential write(2) bandwidth and fdatasync latency, measured
// with plain system calls in the directory the log benchmarks use.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "bench.h"

namespace sluice::bench {

namespace {

double sequential_write(const std::string& path, uint64_t bytes) {
  std::vector<char> block(1 << 20, 'x');
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t done = 0; done < bytes; done += block.size()) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
  }
  ::fdatasync(fd);
  double s = seconds_since(start);
  ::close(fd);
  ::unlink(path.c_str());
  return mib_per_s(bytes, s);
}

// write(2) of `block` bytes, fdatasync after every `per_sync` blocks: the raw equivalent of group
// commit where one fdatasync covers `per_sync` appended batches.
double write_with_syncs(const std::string& path, size_t block_bytes, int per_sync, uint64_t bytes) {
  std::vector<char> block(block_bytes, 'z');
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  auto start = std::chrono::steady_clock::now();
  uint64_t done = 0;
  for (int n = 1; done < bytes; ++n) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    done += block.size();
    if (n % per_sync == 0) ::fdatasync(fd);
  }
  ::fdatasync(fd);
  double s = seconds_since(start);
  ::close(fd);
  ::unlink(path.c_str());
  return mib_per_s(done, s);
}

void fdatasync_latency(const std::string& path, machine_limits& out) {
  std::vector<char> block(4096, 'y');
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::vector<double> us;
  for (int i = 0; i < 300; ++i) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    auto start = std::chrono::steady_clock::now();
    ::fdatasync(fd);
    us.push_back(seconds_since(start) * 1e6);
  }
  ::close(fd);
  ::unlink(path.c_str());
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  out.fdatasync_p50_us = us[us.size() / 2];
  out.fdatasync_p99_us = us[us.size() * 99 / 100];
}

}  // namespace

machine_limits measure_machine(const std::string& dir, uint64_t bytes) {
  machine_limits m;
  m.write_mib_s = sequential_write(dir + "/raw-write.bin", bytes);
  fdatasync_latency(dir + "/fdatasync.bin", m);
  std::printf(
      "machine: sequential write(2) 1 MiB blocks + final fdatasync: %.0f MiB/s (%llu MiB)\n",
      m.write_mib_s, static_cast<unsigned long long>(bytes >> 20));
  std::printf("machine: fdatasync after a 4 KiB append: p50 %.0f us, p99 %.0f us (300 samples)\n",
              m.fdatasync_p50_us, m.fdatasync_p99_us);
  std::printf("machine: write(2) 1 MiB blocks, fdatasync every 8: %.0f MiB/s\n",
              write_with_syncs(dir + "/sync-1m.bin", 1 << 20, 8, bytes / 4));
  std::printf("machine: write(2) 16 KiB blocks, fdatasync every 8: %.0f MiB/s\n",
              write_with_syncs(dir + "/sync-16k.bin", 16 << 10, 8, bytes / 4));
  return m;
}

}  // namespace sluice::bench
