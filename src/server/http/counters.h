#pragma once

// The broker's counters for the metrics endpoint (server/http/README.md), kept per shard so that
// counting costs the produce and fetch paths one plain add on a cache line no other thread
// writes: no lock, no atomic read-modify-write, no shared line bouncing between cores.
//
// Each shard thread is bound to its own shard_counters (bind_current_shard) and is the only
// writer of it; the scrape thread reads every shard's values with relaxed loads and sums them.
// A value can be one add behind at the moment of a scrape, never torn (64-bit atomics).
// Counting from a thread bound to no shard_counters (the controller's thread, unit tests that
// run handlers logic without a broker) is a no-op.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace sluice::server::metrics {

// A counter with a single writer: load + store rather than fetch_add, which would be a locked
// instruction. Only the owning shard thread may call add().
class counter {
 public:
  void add(uint64_t n) {
    _value.store(_value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t value() const { return _value.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> _value{0};
};

// Bounds of the per-API request counters. API keys and versions are counted only after the
// connection checked them against the registry, so these bounds are never reached by a
// served request; a larger key or version is not counted rather than written out of range.
inline constexpr int api_keys_max = 128;
inline constexpr int api_versions_max = 32;

// What one shard counts. Aligned so that two shards' counters never share a cache line.
struct alignas(64) shard_counters {
  // BrokerTopicMetrics, all topics.
  counter bytes_in;             // BytesInPerSec: record bytes appended by Produce
  counter bytes_out;            // BytesOutPerSec: record bytes in Fetch responses
  counter messages_in;          // MessagesInPerSec: records appended by Produce
  counter produce_conversions;  // ProduceMessageConversionsPerSec: records up-converted
  counter fetch_conversions;    // FetchMessageConversionsPerSec: records down-converted
  // RequestMetrics RequestsPerSec, by [api key][version].
  std::array<std::array<counter, api_versions_max>, api_keys_max> requests;
};

// Sums of every shard's counters at one scrape.
struct totals {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t messages_in = 0;
  uint64_t produce_conversions = 0;
  uint64_t fetch_conversions = 0;
  std::array<std::array<uint64_t, api_versions_max>, api_keys_max> requests{};
};

// The counters of every shard of one broker. Built before the shards start; outlives them.
class shard_counter_set {
 public:
  explicit shard_counter_set(unsigned shards);
  unsigned size() const { return static_cast<unsigned>(_shards.size()); }
  shard_counters& shard(unsigned s) { return *_shards[s]; }
  // Any thread: the sum over the shards.
  totals sum() const;

 private:
  std::vector<std::unique_ptr<shard_counters>> _shards;
};

namespace detail {
inline thread_local shard_counters* current = nullptr;
}

// Binds the calling thread (a shard's) to `c`, or unbinds it with nullptr.
inline void bind_current_shard(shard_counters* c) {
  detail::current = c;
}

// The calling shard's counters, or nullptr on a thread bound to none.
inline shard_counters* current_shard() {
  return detail::current;
}

// Records in whole v2 batches (their headers' record_count summed); stops at a malformed one.
uint64_t records_in_batches(std::span<const uint8_t> batches);
// Entries of a message set of format 0 or 1 (offset, size, message), not looking inside
// compressed wrappers: what the down-conversion writes (uncompressed messages) holds one record
// per entry. Stops at a truncated entry.
uint64_t entries_in_message_set(std::span<const uint8_t> message_set);

// The hot-path calls: one thread-local load, one test and one add each.
inline void count_produce_append(uint64_t bytes, uint64_t records) {
  if (auto* c = detail::current) {
    c->bytes_in.add(bytes);
    c->messages_in.add(records);
  }
}
inline void count_fetch_bytes(uint64_t bytes) {
  if (auto* c = detail::current) c->bytes_out.add(bytes);
}
inline void count_produce_conversion(uint64_t records) {
  if (auto* c = detail::current) c->produce_conversions.add(records);
}
inline void count_fetch_conversion(uint64_t records) {
  if (auto* c = detail::current) c->fetch_conversions.add(records);
}
inline void count_request(int16_t api_key, int16_t version) {
  auto* c = detail::current;
  if (c == nullptr || api_key < 0 || api_key >= api_keys_max || version < 0 ||
      version >= api_versions_max)
    return;
  c->requests[static_cast<size_t>(api_key)][static_cast<size_t>(version)].add(1);
}

}  // namespace sluice::server::metrics
