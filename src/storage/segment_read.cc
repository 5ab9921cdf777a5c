// segment: lookups, reads, recovery and truncation (the append side is in segment.cc).

#include <fmt/format.h>

#include "base/logging.h"
#include "storage/format.h"
#include "storage/segment.h"

namespace sluice::storage {

sresult<std::optional<scanned_batch>> segment::scan_from(uint64_t position, model::offset target) {
  batch_scanner scanner(*_log, position, _size_bytes, false, 4096);
  for (;;) {
    auto next = scanner.next();
    if (!next) return failure(next.error());
    if (!*next || (*next)->info.last_offset >= target) return std::move(*next);
  }
}

sresult<std::optional<scanned_batch>> segment::find_batch(model::offset target) {
  if (target >= _next_offset || empty()) return std::optional<scanned_batch>{};
  if (auto r = ensure_indexes(); !r) return failure(r.error());
  auto entry = _offsets.lookup(target);
  uint64_t position = entry ? entry->position : 0;
  auto found = scan_from(position, target);
  bool index_bad = !found && found.error().code == errc::corrupt && position != 0;
  if (found && *found && entry) {
    // The indexed batch must be the one the index says; anything else means a damaged index.
    index_bad = (*found)->position == position && (*found)->info.last_offset != entry->offset;
  }
  if (!index_bad) return found;
  logger("storage")->warn("{}: index entry ({}, {}) does not match the log; rebuilding",
                          path(offset_index_suffix), entry->offset.value(), entry->position);
  if (auto r = rebuild_indexes(); !r) return failure(r.error());
  entry = _offsets.lookup(target);
  return scan_from(entry ? entry->position : 0, target);
}

sresult<std::optional<scanned_batch>> segment::find_batch_by_timestamp(model::timestamp_ms target) {
  if (empty()) return std::optional<scanned_batch>{};
  if (auto r = ensure_indexes(); !r) return failure(r.error());
  uint64_t position = 0;
  if (auto entry = _times.lookup(target)) {
    auto start = find_batch(entry->offset);
    if (!start) return failure(start.error());
    // The entry names the batch holding the largest timestamp so far; anything else means a
    // damaged time index, and starting from the segment's beginning is always correct.
    if (*start && (*start)->info.last_offset == entry->offset &&
        (*start)->info.max_timestamp == entry->timestamp) {
      position = (*start)->position;
    } else {
      logger("storage")->warn("{}: time index entry ({}, {}) does not match the log; rebuilding",
                              path(time_index_suffix), entry->timestamp.value(),
                              entry->offset.value());
      if (auto r = rebuild_indexes(); !r) return failure(r.error());
    }
  }
  batch_scanner scanner(*_log, position, _size_bytes, false, 4096);
  for (;;) {
    auto next = scanner.next();
    if (!next) return failure(next.error());
    if (!*next || (*next)->info.max_timestamp >= target) return std::move(*next);
  }
}

sresult<std::optional<segment_read>> segment::read(model::offset start, model::offset end_offset,
                                                   uint64_t max_bytes, bool min_one_batch) {
  auto first = find_batch(start);
  if (!first) return failure(first.error());
  if (!*first) return std::optional<segment_read>{};
  segment_read out{_log, (*first)->position, 0, (*first)->info.base_offset};
  if ((*first)->info.base_offset >= end_offset) return std::optional<segment_read>(out);
  uint64_t end_position = _size_bytes;
  if (end_offset < _next_offset) {
    auto end = find_batch(end_offset);
    if (!end) return failure(end.error());
    if (*end) end_position = (*end)->position;
  }
  uint64_t available = end_position - out.position;
  out.length = std::min(available, max_bytes);
  if (min_one_batch && out.length < (*first)->info.size_bytes) {
    out.length = std::min<uint64_t>(available, (*first)->info.size_bytes);
  }
  return std::optional<segment_read>(out);
}

namespace {

// The epoch the checkpoint gives for `offset`, or nullopt when the offset precedes it.
std::optional<model::leader_epoch> epoch_for(const std::vector<epoch_entry>& epochs,
                                             model::offset offset) {
  std::optional<model::leader_epoch> out;
  for (const auto& e : epochs) {
    if (e.start_offset > offset) break;
    out = e.epoch;
  }
  return out;
}

// Why a batch that passed its CRC check still cannot follow the batches before it, or "".
// base_offset and partition_leader_epoch lie outside the CRC, so these checks are all that
// protects them.
std::string order_problem(const batch_info& info, const recovery_state& state,
                          model::offset segment_base) {
  if (info.base_offset < state.next_offset || info.base_offset < segment_base) {
    return fmt::format("batch offset {} goes back (expected >= {})", info.base_offset.value(),
                       std::max(state.next_offset, segment_base).value());
  }
  if (info.last_offset >= state.limit) {
    return fmt::format("batch ends at offset {}, past the next segment's base {}",
                       info.last_offset.value(), state.limit.value());
  }
  if (info.leader_epoch < state.leader_epoch) {
    return fmt::format("leader epoch {} after {}", info.leader_epoch.value(),
                       state.leader_epoch.value());
  }
  auto expected = epoch_for(state.epochs, info.base_offset);
  if (expected && *expected != info.leader_epoch) {
    return fmt::format("leader epoch {} where the checkpoint says {}", info.leader_epoch.value(),
                       expected->value());
  }
  return {};
}

}  // namespace

sresult<void> segment::recover(recovery_state& state) {
  _offsets.file().reset();
  _times.file().reset();
  _bytes_since_index = 0;
  _max_timestamp_known = false;
  _first_batch_timestamp.reset();
  _next_offset = std::max(_base, state.next_offset);
  batch_scanner scanner(*_log, 0, _size_bytes, true);
  // A batch that skipped offsets or raised the epoch is suspect when the next one goes back: a
  // flipped bit in its own offset or epoch field would look exactly like that.
  std::optional<uint64_t> suspect_position;
  for (;;) {
    auto next = scanner.next();
    std::string problem;
    uint64_t cut = scanner.position();
    if (!next && next.error().code != errc::corrupt) return failure(next.error());
    if (!next) {
      problem = next.error().message;
    } else if (!*next) {
      break;
    } else {
      problem = order_problem((*next)->info, state, _base);
      cut = (*next)->position;
      const auto& info = (*next)->info;
      bool goes_back =
          info.base_offset < state.next_offset || info.leader_epoch < state.leader_epoch;
      if (!problem.empty() && goes_back && suspect_position) cut = *suspect_position;
      suspect_position.reset();
      if (info.base_offset > state.next_offset || info.leader_epoch > state.leader_epoch) {
        suspect_position = (*next)->position;
      }
    }
    if (!problem.empty()) {
      logger("storage")->error("truncating {} at position {} (dropping {} bytes): {}",
                               path(log_suffix), cut, _size_bytes - cut, problem);
      if (auto r = _log->truncate(cut); !r) return r;
      _size_bytes = cut;
      state.truncated = true;
      state.reason = problem;
      // The kept prefix is re-indexed from scratch; it was valid when first scanned.
      return rebuild_indexes();
    }
    index_batch((*next)->info, (*next)->position);
    state.next_offset = (*next)->info.last_offset + 1;
    state.leader_epoch = (*next)->info.leader_epoch;
  }
  return flush_indexes();
}

sresult<void> segment::truncate_to(model::offset offset) {
  if (offset >= _next_offset) return {};
  auto cut_batch = find_batch(offset);
  if (!cut_batch) return failure(cut_batch.error());
  uint64_t cut = *cut_batch ? (*cut_batch)->position : _size_bytes;
  if (auto r = _log->truncate(cut); !r) return r;
  _size_bytes = cut;
  // The indexes and the derived state are rebuilt from what remains; truncation is rare.
  return rebuild_indexes();
}

}  // namespace sluice::storage

namespace sluice::storage {

sresult<void> segment::load_end() {
  if (auto r = ensure_indexes(); !r) return r;
  uint64_t position = 0;
  if (auto last = _offsets.last()) position = last->position;
  _next_offset = _base;
  // The first batch's timestamp drives segment.ms; read it even when the scan starts later.
  if (!empty()) {
    batch_scanner head(*_log, 0, _size_bytes, false, 4096);
    auto first = head.next();
    if (!first) return failure(first.error());
    if (*first) _first_batch_timestamp = (*first)->info.max_timestamp;
  }
  batch_scanner scanner(*_log, position, _size_bytes, false);
  for (;;) {
    auto next = scanner.next();
    if (!next) return failure(next.error());
    if (!*next) break;
    const auto& info = (*next)->info;
    if (!_max_timestamp_known || info.max_timestamp > _max_timestamp) {
      _max_timestamp = info.max_timestamp;
      _offset_of_max_timestamp = info.last_offset;
      _max_timestamp_known = true;
    }
    _next_offset = info.last_offset + 1;
  }
  _bytes_since_index = _size_bytes - position;
  return {};
}

}  // namespace sluice::storage
