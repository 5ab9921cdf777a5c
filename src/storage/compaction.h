#pragma once

// Log compaction (cleanup.policy=compact, or compact,delete): keeps the latest record of every
// key, removes tombstones once they are older than delete.retention.ms, and never changes an
// offset. Compaction rewrites one sealed segment at a time into `<base>.log.cleaned`, renames it
// to `<base>.log.swap` once complete and synced, and swaps it in for the old segment (which goes
// to deferred deletion, so readers keep their files). A `.swap` file found at start is a
// finished rewrite and completes the swap; a `.cleaned` file is an unfinished one and is removed
// (docs/format/segment.md).
//
// The dirty section is [cleaned offset, first uncleanable offset): sealed segments whose largest
// timestamp is at least min.compaction.lag.ms old. It is cleaned when its share of the sealed
// bytes reaches min.cleanable.dirty.ratio. An offset map (key -> latest offset) is built from
// the dirty section only, bounded by `map_entries_max`; every sealed segment up to the end of the
// dirty section is then rewritten against it.
//
// Threading: runs on the log's owning shard, in passes bounded by `bytes_max` of input read, so
// the shard is never stalled for long (see README.md).

#include "storage/log.h"

namespace sluice::storage {

struct compaction_budget {
  uint64_t bytes_max = 64ULL << 20;  // input bytes one pass may read
  size_t map_entries_max = 1'000'000;
};

struct compaction_result {
  bool ran = false;
  size_t segments_rewritten = 0;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  size_t records_removed = 0;
  model::offset cleaned_up_to;  // the log's cleaned offset after the pass
};

// The share of the sealed bytes that are dirty and cleanable now; 0 when nothing is.
double cleanable_dirty_ratio(log& l, int64_t now_ms);

// One compaction pass if the log's policy includes compact and the dirty ratio is reached (or
// `force`). Returns what it did; ran == false when there was nothing to do.
sresult<compaction_result> compact(log& l, int64_t now_ms, const compaction_budget& budget,
                                   bool force = false);

}  // namespace sluice::storage
