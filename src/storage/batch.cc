#include "storage/batch.h"

#include "protocol/record_batch.h"

namespace sluice::storage {

static_assert(batch_peek_bytes == protocol::batch_header_size);

uint32_t batch_header_bytes() {
  return protocol::batch_header_size;
}

std::optional<batch_info> parse_batch_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < protocol::batch_header_size) return std::nullopt;
  auto header = protocol::read_batch_header(bytes);
  if (!header) return std::nullopt;
  const auto& h = *header;
  if (h.magic != 2) return std::nullopt;
  if (h.batch_length <
      static_cast<int32_t>(protocol::batch_header_size - protocol::batch_log_overhead)) {
    return std::nullopt;
  }
  if (h.last_offset_delta < 0 || h.record_count < 0 || h.base_offset < 0) return std::nullopt;
  batch_info info;
  info.base_offset = model::offset(h.base_offset);
  info.last_offset = model::offset(h.base_offset + h.last_offset_delta);
  info.leader_epoch = model::leader_epoch(h.partition_leader_epoch);
  info.max_timestamp = model::timestamp_ms(h.max_timestamp);
  info.size_bytes = static_cast<uint32_t>(h.batch_length) + protocol::batch_log_overhead;
  info.record_count = h.record_count;
  info.attributes = h.attributes;
  info.producer_id = h.producer_id;
  info.producer_epoch = h.producer_epoch;
  info.base_sequence = h.base_sequence;
  return info;
}

bool batch_crc_valid(std::span<const uint8_t> batch) {
  return protocol::batch_crc_matches(batch);
}

std::optional<record_position> first_record_at_or_after(std::span<const uint8_t> batch,
                                                        model::timestamp_ms target,
                                                        model::offset offset_min) {
  auto decoded = protocol::read_records(batch);
  if (!decoded) return std::nullopt;
  const auto& h = decoded->header;
  for (const auto& r : decoded->records) {
    int64_t timestamp =
        h.has_log_append_time() ? h.max_timestamp : h.base_timestamp + r.timestamp_delta;
    model::offset offset(h.base_offset + r.offset_delta);
    if (timestamp >= target.value() && offset >= offset_min) {
      return record_position{offset, model::timestamp_ms(timestamp)};
    }
  }
  return std::nullopt;
}

void patch_batch(std::span<uint8_t> batch, model::offset base, model::leader_epoch epoch) {
  protocol::set_base_offset(batch, base.value());
  protocol::set_partition_leader_epoch(batch, epoch.value());
}

}  // namespace sluice::storage
