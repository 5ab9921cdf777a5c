#include "protocol/batch_builder.h"

#include <algorithm>
#include <array>
#include <limits>

#include "base/assert.h"
#include "protocol/big_endian.h"
#include "protocol/crc32c.h"
#include "protocol/varint.h"

namespace sluice::protocol {

namespace {

void append_bytes(std::vector<uint8_t>& out, std::optional<std::span<const uint8_t>> bytes) {
  if (!bytes) {
    append_varint(out, -1);
    return;
  }
  SLUICE_ASSERT(bytes->size() <= std::numeric_limits<int32_t>::max(), "{}-byte field",
                bytes->size());
  append_varint(out, static_cast<int32_t>(bytes->size()));
  out.insert(out.end(), bytes->begin(), bytes->end());
}

}  // namespace

batch_builder::batch_builder(compression_codec codec) : _codec(codec) {
  SLUICE_ASSERT(codec >= compression_codec::none && codec <= compression_codec::zstd,
                "batch_builder with codec {}", static_cast<int>(codec));
}

batch_builder& batch_builder::base_offset(int64_t offset) {
  _base_offset = offset;
  return *this;
}

batch_builder& batch_builder::partition_leader_epoch(int32_t epoch) {
  _partition_leader_epoch = epoch;
  return *this;
}

batch_builder& batch_builder::producer(int64_t producer_id, int16_t producer_epoch,
                                       int32_t base_sequence) {
  _producer_id = producer_id;
  _producer_epoch = producer_epoch;
  _base_sequence = base_sequence;
  return *this;
}

batch_builder& batch_builder::transactional(bool on) {
  _transactional = on;
  return *this;
}

batch_builder& batch_builder::control(bool on) {
  _control = on;
  return *this;
}

batch_builder& batch_builder::log_append_time(int64_t append_time_ms) {
  _log_append_time_ms = append_time_ms;
  return *this;
}

batch_builder& batch_builder::compression_level(int level) {
  _compression_level = level;
  return *this;
}

batch_builder& batch_builder::add(int64_t timestamp_ms, std::optional<std::span<const uint8_t>> key,
                                  std::optional<std::span<const uint8_t>> value,
                                  std::span<const record_header> headers) {
  SLUICE_ASSERT(_record_count < std::numeric_limits<int32_t>::max(), "batch full");
  if (_record_count == 0) {
    _base_timestamp = timestamp_ms;
    _max_timestamp = timestamp_ms;
  }
  _max_timestamp = std::max(_max_timestamp, timestamp_ms);
  std::vector<uint8_t> body;
  body.push_back(0);  // record attributes: none defined
  // Java computes the delta in wrapping 64-bit arithmetic; so does this, without the UB.
  append_varlong(body, static_cast<int64_t>(static_cast<uint64_t>(timestamp_ms) -
                                            static_cast<uint64_t>(_base_timestamp)));
  append_varint(body, _record_count);  // offset delta
  append_bytes(body, key);
  append_bytes(body, value);
  SLUICE_ASSERT(headers.size() <= std::numeric_limits<int32_t>::max(), "{} headers",
                headers.size());
  append_varint(body, static_cast<int32_t>(headers.size()));
  for (const record_header& h : headers) {
    append_bytes(body, bytes_of(h.key));
    append_bytes(body, h.value);
  }
  SLUICE_ASSERT(body.size() <= std::numeric_limits<int32_t>::max(), "{}-byte record", body.size());
  append_varint(_records, static_cast<int32_t>(body.size()));
  _records.insert(_records.end(), body.begin(), body.end());
  ++_record_count;
  return *this;
}

batch_builder& batch_builder::add_transaction_marker(int64_t timestamp_ms, control_record_type type,
                                                     int32_t coordinator_epoch) {
  std::array<uint8_t, 4> key{};  // version 0, type
  store_big_endian(key.data() + 2, static_cast<int16_t>(type));
  std::array<uint8_t, 6> value{};  // version 0, coordinator epoch
  store_big_endian(value.data() + 2, coordinator_epoch);
  _control = true;
  _transactional = true;
  return add(timestamp_ms, std::span<const uint8_t>(key), std::span<const uint8_t>(value));
}

std::vector<uint8_t> batch_builder::build() const {
  SLUICE_ASSERT(_record_count > 0, "build of an empty batch");
  std::vector<uint8_t> compressed;
  std::span<const uint8_t> section = _records;
  if (_codec != compression_codec::none) {
    auto c = compress(_codec, _records, _compression_level);
    SLUICE_ASSERT(c.has_value(), "{} compression of {} bytes failed: {}", to_string(_codec),
                  _records.size(), c.error().message);
    compressed = std::move(*c);
    section = compressed;
  }
  const size_t batch_length = batch_header_size - batch_log_overhead + section.size();
  SLUICE_ASSERT(batch_length <= std::numeric_limits<int32_t>::max(), "{}-byte batch", batch_length);
  std::vector<uint8_t> out(batch_header_size);
  uint8_t* p = out.data();
  int16_t attributes = static_cast<int16_t>(_codec);
  if (_log_append_time_ms) attributes |= batch_attribute::log_append_time;
  if (_transactional) attributes |= batch_attribute::transactional;
  if (_control) attributes |= batch_attribute::control;
  store_big_endian(p + batch_field::base_offset, _base_offset);
  store_big_endian(p + batch_field::batch_length, static_cast<int32_t>(batch_length));
  store_big_endian(p + batch_field::partition_leader_epoch, _partition_leader_epoch);
  p[batch_field::magic] = static_cast<uint8_t>(batch_magic_v2);
  store_big_endian(p + batch_field::attributes, attributes);
  store_big_endian(p + batch_field::last_offset_delta, _record_count - 1);
  store_big_endian(p + batch_field::base_timestamp, _base_timestamp);
  store_big_endian(p + batch_field::max_timestamp, _log_append_time_ms.value_or(_max_timestamp));
  store_big_endian(p + batch_field::producer_id, _producer_id);
  store_big_endian(p + batch_field::producer_epoch, _producer_epoch);
  store_big_endian(p + batch_field::base_sequence, _base_sequence);
  store_big_endian(p + batch_field::record_count, _record_count);
  out.insert(out.end(), section.begin(), section.end());
  store_big_endian(out.data() + batch_field::crc,
                   crc32c(std::span<const uint8_t>(out).subspan(batch_crc_start)));
  return out;
}

}  // namespace sluice::protocol
