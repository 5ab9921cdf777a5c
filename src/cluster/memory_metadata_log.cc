#include "cluster/memory_metadata_log.h"

#include "protocol/record_batch.h"

namespace sluice::cluster {

cresult<model::offset> memory_metadata_log::append(std::span<const record_group> groups) {
  if (_fail_appends) return make_failure(errc::log_io, "injected metadata log append failure");
  auto encoded = encode_groups(_next_offset, groups, /*timestamp_ms=*/0);
  for (auto& batch : encoded) {
    auto header = protocol::read_batch_header(batch);
    SLUICE_ASSERT(header.has_value(), "encoded metadata batch does not parse");
    _next_offset = model::offset(header->last_offset() + 1);
    _batches.push_back(std::move(batch));
  }
  return _next_offset - 1;
}

cresult<void> memory_metadata_log::read(model::offset from, const record_visitor& visit) {
  for (const auto& batch : _batches) {
    SLUICE_ASSERT(protocol::batch_crc_matches(batch), "in-memory metadata batch lost its CRC");
    auto records = decode_batch(batch);
    if (!records) return failure(records.error());
    for (const auto& record : *records) {
      if (record.offset < from) continue;
      auto visited = visit(record);
      if (!visited) return visited;
    }
  }
  return {};
}

}  // namespace sluice::cluster
