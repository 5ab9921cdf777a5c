#pragma once

// A latency histogram with log-linear buckets, in the manner of HdrHistogram: values below 128
// have a bucket each; above, every power of two is split into 64 equal buckets, so a reported
// percentile is at most 1/64 (1.6 %) above the true value. Any uint64_t fits; memory is fixed
// (3,776 counters). Not thread-safe: one histogram per thread, merged at the end.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace sluice::bench {

class histogram {
 public:
  static constexpr int linear_bits = 7;                      // values 0..127 are exact
  static constexpr uint64_t linear_max = 1u << linear_bits;  // 128
  static constexpr uint64_t sub_buckets = linear_max / 2;    // 64 per power of two above
  static constexpr size_t bucket_count = linear_max + (64 - linear_bits) * sub_buckets;

  void record(uint64_t value) {
    ++_counts[index_of(value)];
    ++_count;
    _sum += static_cast<double>(value);
    if (value > _max) _max = value;
    if (value < _min) _min = value;
  }

  void merge(const histogram& other) {
    for (size_t i = 0; i < bucket_count; ++i) _counts[i] += other._counts[i];
    _count += other._count;
    _sum += other._sum;
    if (other._max > _max) _max = other._max;
    if (other._min < _min) _min = other._min;
  }

  uint64_t count() const { return _count; }
  uint64_t max() const { return _count == 0 ? 0 : _max; }
  uint64_t min() const { return _count == 0 ? 0 : _min; }
  double mean() const { return _count == 0 ? 0 : _sum / static_cast<double>(_count); }

  // The smallest bucket upper bound at or below which `fraction` (0..1] of the values lie, capped
  // at the exact maximum: never below the true percentile.
  uint64_t percentile(double fraction) const {
    if (_count == 0) return 0;
    auto rank = static_cast<uint64_t>(fraction * static_cast<double>(_count) + 0.5);
    if (rank < 1) rank = 1;
    if (rank > _count) rank = _count;
    uint64_t seen = 0;
    for (size_t i = 0; i < bucket_count; ++i) {
      seen += _counts[i];
      if (seen >= rank) {
        uint64_t upper = upper_bound_of(i);
        return upper < _max ? upper : _max;
      }
    }
    return _max;
  }

  static size_t index_of(uint64_t value) {
    if (value < linear_max) return static_cast<size_t>(value);
    int msb = std::bit_width(value) - 1;  // >= linear_bits
    int shift = msb - (linear_bits - 1);  // (value >> shift) lies in [64, 127]
    auto sub = static_cast<size_t>((value >> shift) - sub_buckets);
    return linear_max + static_cast<size_t>(msb - linear_bits) * sub_buckets + sub;
  }

  // The largest value that falls into bucket `index`.
  static uint64_t upper_bound_of(size_t index) {
    if (index < linear_max) return index;
    size_t above = index - linear_max;
    int msb = static_cast<int>(above / sub_buckets) + linear_bits;
    int shift = msb - (linear_bits - 1);
    uint64_t lower = (sub_buckets + above % sub_buckets) << shift;
    return lower + ((uint64_t{1} << shift) - 1);
  }

 private:
  std::array<uint64_t, bucket_count> _counts{};
  uint64_t _count = 0;
  double _sum = 0;
  uint64_t _max = 0;
  uint64_t _min = UINT64_MAX;
};

}  // namespace sluice::bench
