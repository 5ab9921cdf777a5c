#include "cluster/metadata_log.h"

namespace sluice::cluster {

namespace {

// A record's share of a batch: its value, its 4-byte key and at most ~25 bytes of record framing
// (length, attributes, deltas, key and value lengths, header count).
size_t record_size_estimate(const metadata_record& record) {
  return encode_value(record).size() + 4 + 25;
}

}  // namespace

std::vector<std::vector<uint8_t>> encode_groups(model::offset base,
                                                std::span<const record_group> groups,
                                                int64_t timestamp_ms, size_t batch_bytes_target) {
  SLUICE_ASSERT(!groups.empty(), "append of no record groups");
  std::vector<std::vector<uint8_t>> batches;
  std::vector<metadata_record> pending;
  size_t pending_bytes = 0;
  model::offset next = base;
  auto flush = [&] {
    if (pending.empty()) return;
    batches.push_back(encode_batch(next, pending, timestamp_ms));
    next = next + static_cast<int64_t>(pending.size());
    pending.clear();
    pending_bytes = 0;
  };
  for (const auto& group : groups) {
    SLUICE_ASSERT(!group.empty(), "empty record group");
    size_t group_bytes = 0;
    for (const auto& record : group) group_bytes += record_size_estimate(record);
    if (pending_bytes + group_bytes > batch_bytes_target) flush();
    pending.insert(pending.end(), group.begin(), group.end());
    pending_bytes += group_bytes;
  }
  flush();
  return batches;
}

}  // namespace sluice::cluster
