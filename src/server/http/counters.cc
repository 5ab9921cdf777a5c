#include "server/http/counters.h"

#include <algorithm>

#include "protocol/record_batch.h"

namespace sluice::server::metrics {

shard_counter_set::shard_counter_set(unsigned shards) {
  for (unsigned s = 0; s < shards; ++s) _shards.push_back(std::make_unique<shard_counters>());
}

uint64_t records_in_batches(std::span<const uint8_t> batches) {
  uint64_t records = 0;
  while (!batches.empty()) {
    auto header = protocol::read_batch_header(batches);
    if (!header || header->size_bytes() > batches.size()) break;
    records += static_cast<uint64_t>(std::max(header->record_count, 0));
    batches = batches.subspan(header->size_bytes());
  }
  return records;
}

uint64_t entries_in_message_set(std::span<const uint8_t> message_set) {
  constexpr size_t entry_overhead = 12;  // offset int64, message size int32
  uint64_t entries = 0;
  while (message_set.size() >= entry_overhead) {
    const uint8_t* size_at = message_set.data() + 8;
    uint32_t size = (uint32_t{size_at[0]} << 24) | (uint32_t{size_at[1]} << 16) |
                    (uint32_t{size_at[2]} << 8) | uint32_t{size_at[3]};
    if (size > message_set.size() - entry_overhead) break;
    ++entries;
    message_set = message_set.subspan(entry_overhead + size);
  }
  return entries;
}

totals shard_counter_set::sum() const {
  totals t;
  for (const auto& s : _shards) {
    t.bytes_in += s->bytes_in.value();
    t.bytes_out += s->bytes_out.value();
    t.messages_in += s->messages_in.value();
    t.produce_conversions += s->produce_conversions.value();
    t.fetch_conversions += s->fetch_conversions.value();
    for (size_t k = 0; k < s->requests.size(); ++k)
      for (size_t v = 0; v < s->requests[k].size(); ++v)
        t.requests[k][v] += s->requests[k][v].value();
  }
  return t;
}

}  // namespace sluice::server::metrics
