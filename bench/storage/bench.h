#pragma once

// Shared helpers of the storage benchmarks.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double mib_per_s(uint64_t bytes, double seconds) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0) / seconds;
}

// Machine limits measured in the same run, printed beside the log's figures.
struct machine_limits {
  double write_mib_s = 0;       // sequential write(2) of 1 MiB blocks, ending with fdatasync
  double fdatasync_p50_us = 0;  // 4 KiB append + fdatasync
  double fdatasync_p99_us = 0;
};

machine_limits measure_machine(const std::string& dir, uint64_t bytes);

}  // namespace sluice::bench
