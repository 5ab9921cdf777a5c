#include "storage/producer_state.h"

#include <fmt/format.h>

#include <algorithm>

#include "storage/format.h"

namespace sluice::storage {

int32_t sequence_after(int32_t sequence, int32_t delta) {
  if (sequence > INT32_MAX - delta) return delta - (INT32_MAX - sequence) - 1;
  return sequence + delta;
}

namespace {

int32_t last_sequence_of(const batch_info& batch) {
  return sequence_after(batch.base_sequence,
                        static_cast<int32_t>(batch.last_offset - batch.base_offset));
}

bool in_sequence(int32_t last, int32_t next) {
  return next == sequence_after(last, 1);
}

}  // namespace

sequence_check producer_state::check(const producer_entry* entry, const batch_info& batch) {
  const int32_t first = batch.base_sequence;
  const int32_t last = last_sequence_of(batch);
  if (entry == nullptr || entry->epoch < 0) return {};  // a new producer starts anywhere
  if (batch.producer_epoch < entry->epoch) {
    return {sequence_verdict::fenced,
            {},
            fmt::format("producer {} has epoch {}, older than its current epoch {}",
                        batch.producer_id, batch.producer_epoch, entry->epoch)};
  }
  if (batch.producer_epoch > entry->epoch) {
    // A bumped epoch restarts the sequence at 0.
    if (first == 0) return {};
    return {sequence_verdict::out_of_order,
            {},
            fmt::format("producer {}: first sequence of new epoch {} is {}, expected 0",
                        batch.producer_id, batch.producer_epoch, first)};
  }
  for (const auto& b : entry->batches) {
    if (b.first_sequence == first && b.last_sequence == last) {
      return {sequence_verdict::duplicate, b, {}};
    }
  }
  if (entry->batches.empty() || in_sequence(entry->batches.back().last_sequence, first)) return {};
  return {
      sequence_verdict::out_of_order,
      {},
      fmt::format("producer {} epoch {}: sequence {} follows {}, expected {}", batch.producer_id,
                  batch.producer_epoch, first, entry->batches.back().last_sequence,
                  sequence_after(entry->batches.back().last_sequence, 1))};
}

void producer_state::record(producer_entry& entry, const batch_info& batch) {
  if (batch.producer_epoch != entry.epoch) {
    entry.epoch = batch.producer_epoch;
    entry.batches.clear();
  }
  entry.batches.push_back({batch.base_sequence, last_sequence_of(batch), batch.base_offset,
                           batch.last_offset, batch.max_timestamp.value()});
  while (entry.batches.size() > batches_kept) entry.batches.pop_front();
  entry.last_timestamp = batch.max_timestamp.value();
}

const producer_entry* producer_state::find(int64_t producer_id) const {
  auto it = _producers.find(producer_id);
  return it == _producers.end() ? nullptr : &it->second;
}

void producer_state::replay(const batch_info& batch) {
  if (batch.producer_id < 0 || batch.base_sequence < 0) return;
  auto& entry = _producers[batch.producer_id];
  // What is in the log was accepted once: an epoch going back means a follower's copy of a
  // fenced producer's batch, which Kafka also keeps without moving the epoch back.
  if (batch.producer_epoch < entry.epoch) return;
  record(entry, batch);
}

size_t producer_state::expire(int64_t now_ms, int64_t expiration_ms) {
  return std::erase_if(
      _producers, [&](const auto& p) { return now_ms - p.second.last_timestamp >= expiration_ms; });
}

// Blob layout (docs/format/producer_snapshot.md), big-endian:
//   u32 count, then per producer: i64 id, i16 epoch, i64 last timestamp, u8 batch count, then
//   per batch: i32 first sequence, i32 last sequence, i64 first offset, i64 last offset,
//   i64 max timestamp.
std::vector<uint8_t> producer_state::encode() const {
  constexpr size_t entry_bytes = 8 + 2 + 8 + 1, batch_bytes = 4 + 4 + 8 + 8 + 8;
  std::vector<int64_t> ids;
  ids.reserve(_producers.size());
  for (const auto& p : _producers) ids.push_back(p.first);
  std::sort(ids.begin(), ids.end());  // deterministic bytes
  size_t size = 4;
  for (const auto& p : _producers) size += entry_bytes + p.second.batches.size() * batch_bytes;
  std::vector<uint8_t> out(size);
  uint8_t* at = out.data();
  auto u32 = [&](uint32_t v) {
    put_u32(at, v);
    at += 4;
  };
  auto i64 = [&](int64_t v) {
    put_i64(at, v);
    at += 8;
  };
  u32(static_cast<uint32_t>(ids.size()));
  for (int64_t id : ids) {
    const auto& e = _producers.at(id);
    i64(id);
    *at++ = static_cast<uint8_t>(static_cast<uint16_t>(e.epoch) >> 8);
    *at++ = static_cast<uint8_t>(e.epoch);
    i64(e.last_timestamp);
    *at++ = static_cast<uint8_t>(e.batches.size());
    for (const auto& b : e.batches) {
      u32(static_cast<uint32_t>(b.first_sequence));
      u32(static_cast<uint32_t>(b.last_sequence));
      i64(b.first_offset.value());
      i64(b.last_offset.value());
      i64(b.max_timestamp);
    }
  }
  return out;
}

std::optional<producer_state> producer_state::decode(std::span<const uint8_t> blob) {
  size_t pos = 0;
  auto have = [&](size_t n) { return blob.size() - pos >= n; };
  auto u32 = [&] {
    uint32_t v = get_u32(blob.data() + pos);
    pos += 4;
    return v;
  };
  auto i64 = [&] {
    int64_t v = get_i64(blob.data() + pos);
    pos += 8;
    return v;
  };
  if (!have(4)) return std::nullopt;
  uint32_t count = u32();
  producer_state out;
  for (uint32_t i = 0; i < count; ++i) {
    if (!have(19)) return std::nullopt;
    int64_t id = i64();
    producer_entry e;
    e.epoch = static_cast<int16_t>((blob[pos] << 8) | blob[pos + 1]);
    pos += 2;
    e.last_timestamp = i64();
    size_t batches = blob[pos++];
    if (batches > batches_kept || !have(batches * 32)) return std::nullopt;
    for (size_t b = 0; b < batches; ++b) {
      producer_batch pb;
      pb.first_sequence = static_cast<int32_t>(u32());
      pb.last_sequence = static_cast<int32_t>(u32());
      pb.first_offset = model::offset(i64());
      pb.last_offset = model::offset(i64());
      pb.max_timestamp = i64();
      e.batches.push_back(pb);
    }
    if (!out._producers.emplace(id, std::move(e)).second) return std::nullopt;
  }
  if (pos != blob.size()) return std::nullopt;
  return out;
}

}  // namespace sluice::storage
