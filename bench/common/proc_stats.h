#pragma once

// Resource figures of another process (the broker under test), read from /proc/<pid>.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace sluice::bench {

struct proc_sample {
  double cpu_s = 0;        // utime + stime since the process started
  uint64_t vm_hwm_kb = 0;  // peak resident set size (VmHWM)
  uint64_t vm_rss_kb = 0;  // resident set size now (VmRSS)
};

// nullopt when the process does not exist or /proc cannot be read.
std::optional<proc_sample> sample_process(pid_t pid);

// Resets the process's VmHWM to its current RSS (writes 5 to /proc/<pid>/clear_refs), so that a
// later sample reports the peak of the interval in between. False when not permitted.
bool reset_peak_rss(pid_t pid);

// This process's own CPU time (user + system) in seconds.
double own_cpu_s();

}  // namespace sluice::bench
