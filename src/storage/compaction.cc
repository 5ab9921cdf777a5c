#include "storage/compaction.h"

#include <fmt/format.h>

#include <string>
#include <unordered_map>

#include "base/logging.h"
#include "protocol/batch_builder.h"
#include "protocol/record_batch.h"
#include "storage/format.h"

namespace sluice::storage {

namespace {

using offset_map_t = std::unordered_map<std::string, int64_t>;

std::string key_of(const protocol::record& r) {
  return std::string(reinterpret_cast<const char*>(r.key->data()), r.key->size());
}

// The index of the first sealed segment that is not cleanable yet (too new for
// min.compaction.lag.ms); segments before it form the cleanable range.
sresult<size_t> first_uncleanable(log& l, int64_t now_ms) {
  const auto& segments = l.segments();
  size_t end = 0;
  for (; end + 1 < segments.size(); ++end) {
    auto largest = segments[end]->largest_timestamp();
    if (!largest) return failure(largest.error());
    if (now_ms - largest->value() < l.config().min_compaction_lag_ms) break;
  }
  return end;
}

sresult<std::vector<uint8_t>> read_batch(file& f, const scanned_batch& b) {
  std::vector<uint8_t> bytes(b.info.size_bytes);
  auto n = read_exact(f, b.position, bytes);
  if (!n) return failure(n.error());
  if (*n != bytes.size() || !batch_crc_valid(bytes)) {
    return failure(make_error(
        errc::corrupt, fmt::format("{} at {}: bad batch during compaction", f.path(), b.position)));
  }
  return bytes;
}

// Adds the keys of one segment to the map; false when the map would exceed its bound.
sresult<bool> map_segment(segment& s, offset_map_t& map, size_t entries_max) {
  batch_scanner scanner(*s.log_file(), 0, s.size_bytes(), false);
  for (;;) {
    auto next = scanner.next();
    if (!next) return failure(next.error());
    if (!*next) return true;
    auto bytes = read_batch(*s.log_file(), **next);
    if (!bytes) return failure(bytes.error());
    auto records = protocol::read_records(*bytes);
    if (!records) {
      return failure(make_error(errc::corrupt, records.error().message));
    }
    if (records->header.is_control()) continue;
    for (const auto& r : records->records) {
      if (!r.key) continue;
      map[key_of(r)] = (*next)->info.base_offset.value() + r.offset_delta;
      if (map.size() > entries_max) return false;
    }
  }
}

// Writes the kept records of one batch as batches of consecutive offsets, so that every record
// keeps its offset. Returns the bytes to append to the cleaned segment.
std::vector<uint8_t> rewrite_batch(const protocol::batch_records& batch,
                                   const std::vector<bool>& keep) {
  const auto& h = batch.header;
  std::vector<uint8_t> out;
  std::optional<protocol::batch_builder> run;
  int32_t expected_delta = -1;
  auto flush_run = [&] {
    if (run && run->record_count() > 0) {
      auto bytes = run->build();
      out.insert(out.end(), bytes.begin(), bytes.end());
    }
    run.reset();
  };
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const auto& r = batch.records[i];
    if (!keep[i]) continue;
    if (!run || r.offset_delta != expected_delta) {
      flush_run();
      run.emplace(h.codec());
      run->base_offset(h.base_offset + r.offset_delta);
      run->partition_leader_epoch(h.partition_leader_epoch);
      if (h.producer_id >= 0) {
        int32_t sequence = h.base_sequence < 0 ? h.base_sequence : h.base_sequence + r.offset_delta;
        run->producer(h.producer_id, h.producer_epoch, sequence);
      }
      if (h.has_log_append_time()) run->log_append_time(h.max_timestamp);
    }
    run->add(h.base_timestamp + r.timestamp_delta, r.key, r.value, r.headers);
    expected_delta = r.offset_delta + 1;
  }
  flush_run();
  return out;
}

}  // namespace

double cleanable_dirty_ratio(log& l, int64_t now_ms) {
  auto end = first_uncleanable(l, now_ms);
  if (!end || *end == 0) return 0;
  uint64_t dirty = 0;
  uint64_t total = 0;
  for (size_t i = 0; i + 1 < l.segments().size(); ++i) {
    const auto& s = l.segments()[i];
    total += s->size_bytes();
    if (i < *end && l.segments()[i + 1]->base_offset() > l.cleaned_offset()) {
      dirty += s->size_bytes();
    }
  }
  return total == 0 ? 0 : static_cast<double>(dirty) / static_cast<double>(total);
}

}  // namespace sluice::storage

namespace sluice::storage {

namespace {

struct pass_state {
  const offset_map_t& map;
  int64_t tombstone_horizon_ms;
  compaction_result& result;
};

// Rewrites one sealed segment against the map into <base>.log.swap. Returns the swap path.
sresult<std::string> rewrite_segment(file_system& fs, segment& s, pass_state& pass) {
  std::string cleaned = s.path(log_suffix) + std::string(cleaned_suffix);
  auto out = fs.open(cleaned, open_mode::create);
  if (!out) return failure(out.error());
  if (auto r = (*out)->truncate(0); !r) return failure(r.error());
  uint64_t written = 0;
  batch_scanner scanner(*s.log_file(), 0, s.size_bytes(), false);
  for (;;) {
    auto next = scanner.next();
    if (!next) return failure(next.error());
    if (!*next) break;
    auto bytes = read_batch(*s.log_file(), **next);
    if (!bytes) return failure(bytes.error());
    auto records = protocol::read_records(*bytes);
    if (!records) return failure(make_error(errc::corrupt, records.error().message));
    const auto& h = records->header;
    std::vector<bool> keep(records->records.size(), true);
    size_t kept = keep.size();
    // Control and transactional batches are copied whole: removing their records needs the
    // transaction state, which compaction does not have yet.
    if (!h.is_control() && !h.is_transactional()) {
      for (size_t i = 0; i < keep.size(); ++i) {
        const auto& r = records->records[i];
        if (!r.key) continue;
        int64_t offset = h.base_offset + r.offset_delta;
        auto it = pass.map.find(key_of(r));
        bool superseded = it != pass.map.end() && it->second > offset;
        bool expired_tombstone = !r.value && h.max_timestamp < pass.tombstone_horizon_ms;
        if (superseded || expired_tombstone) {
          keep[i] = false;
          --kept;
        }
      }
    }
    pass.result.records_removed += keep.size() - kept;
    std::vector<uint8_t> rewritten;
    std::span<const uint8_t> section = *bytes;
    if (kept != keep.size()) {
      rewritten = rewrite_batch(*records, keep);
      section = rewritten;
    }
    if (section.empty()) continue;
    if (auto r = (*out)->pwrite(written, section); !r) return failure(r.error());
    written += section.size();
  }
  if (auto r = (*out)->fdatasync(); !r) return failure(r.error());
  out->reset();
  // The .swap name is the commit point: from here a crash finishes the swap at the next start.
  std::string swap = s.path(log_suffix) + std::string(swap_suffix);
  if (auto r = fs.rename(cleaned, swap); !r) return failure(r.error());
  if (auto r = fs.sync_dir(parent_dir(swap)); !r) return failure(r.error());
  pass.result.bytes_before += s.size_bytes();
  pass.result.bytes_after += written;
  return swap;
}

}  // namespace

sresult<compaction_result> compact(log& l, int64_t now_ms, const compaction_budget& budget,
                                   bool force) {
  compaction_result result;
  result.cleaned_up_to = l.cleaned_offset();
  if (!l.config().cleanup_compact && !force) return result;
  auto end = first_uncleanable(l, now_ms);
  if (!end) return failure(end.error());
  if (*end == 0) return result;
  if (!force && cleanable_dirty_ratio(l, now_ms) < l.config().min_cleanable_dirty_ratio) {
    return result;
  }
  // Segments are held by shared_ptr: the vector in the log changes as segments are swapped.
  std::vector<std::shared_ptr<segment>> range(l.segments().begin(),
                                              l.segments().begin() + static_cast<ptrdiff_t>(*end));
  model::offset clean_end = l.segments()[*end]->base_offset();
  offset_map_t map;
  for (size_t i = 0; i < range.size(); ++i) {
    model::offset segment_end = i + 1 < range.size() ? range[i + 1]->base_offset() : clean_end;
    if (segment_end <= l.cleaned_offset()) continue;
    auto fits = map_segment(*range[i], map, budget.map_entries_max);
    if (!fits) return failure(fits.error());
    if (!*fits) {
      // A partial map is still correct (records it does not know are kept); the rest of this
      // segment stays dirty for the next pass.
      clean_end = range[i]->base_offset();
      range.resize(i + 1);
      break;
    }
  }
  result.ran = true;
  pass_state pass{map, now_ms - l.config().delete_retention_ms, result};
  uint64_t read_bytes = 0;
  for (const auto& s : range) {
    if (read_bytes + s->size_bytes() > budget.bytes_max && read_bytes > 0) {
      clean_end = std::min(clean_end, s->base_offset());  // the budget ends this pass
      break;
    }
    read_bytes += s->size_bytes();
    auto swap = rewrite_segment(l.fs(), *s, pass);
    if (!swap) return failure(swap.error());
    if (auto r = l.replace_segment(s, *swap); !r) return failure(r.error());
    ++result.segments_rewritten;
  }
  l.set_cleaned_offset(std::max(l.cleaned_offset(), clean_end));
  l.trim_index_memory();
  result.cleaned_up_to = l.cleaned_offset();
  logger("storage")->info("{}: compacted {} segments, {} -> {} bytes, {} records removed", l.dir(),
                          result.segments_rewritten, result.bytes_before, result.bytes_after,
                          result.records_removed);
  return result;
}

}  // namespace sluice::storage
