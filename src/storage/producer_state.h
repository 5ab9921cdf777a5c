#pragma once

// producer_state: what a partition log knows about the idempotent producers writing to it, as
// Kafka keeps it: per producer id, the producer epoch and the sequence ranges and offsets of its
// last five batches. It decides whether a batch is new, a retry of one already appended (answered
// with the original offsets), out of sequence, or from a fenced (older) epoch.
//
// The log owns one (log.h): it checks batches before an append, records them after it, rebuilds
// the state at open from the newest snapshot plus the batches after it, and writes a snapshot at
// every segment roll and at close (docs/format/producer_snapshot.md). Not thread-safe: the log's
// shard is the only user.

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/model.h"
#include "storage/batch.h"

namespace sluice::storage {

// One appended batch of a producer.
struct producer_batch {
  int32_t first_sequence = 0;
  int32_t last_sequence = 0;
  model::offset first_offset;
  model::offset last_offset;
  int64_t max_timestamp = -1;
  bool operator==(const producer_batch&) const = default;
};

struct producer_entry {
  int16_t epoch = -1;                  // -1: none seen yet
  std::deque<producer_batch> batches;  // oldest first, at most producer_state::batches_kept
  int64_t last_timestamp = -1;         // max timestamp of the newest batch (expiry)
  bool operator==(const producer_entry&) const = default;
};

enum class sequence_verdict {
  append,        // new and in sequence (or the producer's first batch): append it
  duplicate,     // a retry of one of the last five batches: answer with its offsets
  out_of_order,  // OUT_OF_ORDER_SEQUENCE_NUMBER
  fenced,        // an epoch older than the producer's current one: INVALID_PRODUCER_EPOCH
};

struct sequence_check {
  sequence_verdict verdict = sequence_verdict::append;
  producer_batch duplicate_of;  // with `duplicate`
  std::string message;          // with out_of_order and fenced
};

// The sequence number `delta` after `sequence`, wrapping from INT32_MAX to 0 as Kafka does.
int32_t sequence_after(int32_t sequence, int32_t delta);

class producer_state {
 public:
  static constexpr size_t batches_kept = 5;

  // Checks a batch from an idempotent producer (producer_id >= 0) against `entry` (nullptr for
  // a producer not seen before).
  static sequence_check check(const producer_entry* entry, const batch_info& batch);
  // Records an appended batch (offsets assigned) in `entry`.
  static void record(producer_entry& entry, const batch_info& batch);

  const producer_entry* find(int64_t producer_id) const;
  producer_entry& get(int64_t producer_id) { return _producers[producer_id]; }
  void put(int64_t producer_id, producer_entry entry) {
    _producers[producer_id] = std::move(entry);
  }
  // Records a batch read back from the log (recovery); batches without a producer id are
  // ignored.
  void replay(const batch_info& batch);

  // Removes producers whose newest batch is at least `expiration_ms` old
  // (producer.id.expiration.ms); returns how many.
  size_t expire(int64_t now_ms, int64_t expiration_ms);
  void clear() { _producers.clear(); }
  size_t size() const { return _producers.size(); }
  bool empty() const { return _producers.empty(); }

  // The snapshot blob (docs/format/producer_snapshot.md) and its inverse; nullopt when the blob
  // does not decode.
  std::vector<uint8_t> encode() const;
  static std::optional<producer_state> decode(std::span<const uint8_t> blob);

  bool operator==(const producer_state&) const = default;

 private:
  std::unordered_map<int64_t, producer_entry> _producers;
};

}  // namespace sluice::storage
