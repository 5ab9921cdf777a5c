#pragma once

// The deterministic content of the crash test: the batch stored at base offset `o` is a function
// of `o` alone, so the verifier can check every batch it finds without talking to the writer.

#include "storage/tests/test_util.h"

namespace sluice::storage::testing {

inline uint64_t crash_hash(int64_t o) {
  uint64_t x = static_cast<uint64_t>(o) * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ULL;
  return x ^ (x >> 32);
}

// 1-4 records of 16 bytes to 6 KiB: large enough that a kill lands inside writes.
inline std::vector<uint8_t> crash_batch(model::offset o) {
  uint64_t h = crash_hash(o.value());
  return make_batch(1 + static_cast<int>(h % 4), 16 + (h >> 8) % 6000, o.value(), h);
}

// The epoch rises every 37 offsets or so, to exercise the epoch checkpoint.
inline model::leader_epoch crash_epoch(model::offset o) {
  return model::leader_epoch(static_cast<int32_t>(o.value() / 37));
}

}  // namespace sluice::storage::testing
