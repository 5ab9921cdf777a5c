#include "protocol/record_batch.h"

#include <fmt/format.h>

#include <limits>

#include "base/assert.h"
#include "protocol/big_endian.h"
#include "protocol/crc32c.h"
#include "protocol/varint.h"

namespace sluice::protocol {

namespace {

failure<batch_error> fail(batch_errc code, std::string message) {
  return failure(batch_error{code, std::move(message)});
}

// Reads the fields of one record from `_rest`, which shrinks as they are read. Every failure is a
// malformed record; the caller adds which record it was.
class field_reader {
 public:
  explicit field_reader(std::span<const uint8_t> bytes) : _rest(bytes) {}

  size_t remaining() const { return _rest.size(); }

  bool read_int8(int8_t& out) {
    if (_rest.empty()) return false;
    out = static_cast<int8_t>(_rest[0]);
    _rest = _rest.subspan(1);
    return true;
  }

  bool read_varint(int32_t& out) {
    auto r = protocol::read_varint(_rest);
    if (!r) return false;
    out = r->value;
    _rest = _rest.subspan(r->size_bytes);
    return true;
  }

  bool read_varlong(int64_t& out) {
    auto r = protocol::read_varlong(_rest);
    if (!r) return false;
    out = r->value;
    _rest = _rest.subspan(r->size_bytes);
    return true;
  }

  // A varint length (-1 for null when `nullable`) and that many bytes, checked against the rest.
  bool read_bytes(bool nullable, std::optional<std::span<const uint8_t>>& out) {
    int32_t length = 0;
    if (!read_varint(length)) return false;
    if (length == -1 && nullable) {
      out.reset();
      return true;
    }
    if (length < 0 || static_cast<size_t>(length) > _rest.size()) return false;
    out = _rest.first(static_cast<size_t>(length));
    _rest = _rest.subspan(static_cast<size_t>(length));
    return true;
  }

 private:
  std::span<const uint8_t> _rest;
};

// Parses the body of a record (the bytes its length prefix covers), which it must fill exactly.
result<record, batch_error> parse_record_body(std::span<const uint8_t> body, int32_t index) {
  auto bad = [index](std::string_view what) {
    return fail(batch_errc::bad_record, fmt::format("record {}: {}", index, what));
  };
  field_reader in(body);
  record r;
  if (!in.read_int8(r.attributes)) return bad("no attributes");
  if (!in.read_varlong(r.timestamp_delta)) return bad("bad timestamp delta");
  if (!in.read_varint(r.offset_delta)) return bad("bad offset delta");
  if (!in.read_bytes(true, r.key)) return bad("bad key length");
  if (!in.read_bytes(true, r.value)) return bad("bad value length");
  int32_t header_count = 0;
  if (!in.read_varint(header_count)) return bad("bad header count");
  // A header takes at least two bytes (two one-byte lengths), which bounds the loop by the input.
  if (header_count < 0 || static_cast<size_t>(header_count) > in.remaining() / 2) {
    return bad(fmt::format("header count {} with {} bytes left", header_count, in.remaining()));
  }
  for (int32_t i = 0; i < header_count; ++i) {
    std::optional<std::span<const uint8_t>> key;
    record_header h;
    if (!in.read_bytes(false, key)) return bad(fmt::format("header {}: bad key", i));
    h.key = std::string_view(reinterpret_cast<const char*>(key->data()), key->size());
    if (!in.read_bytes(true, h.value)) return bad(fmt::format("header {}: bad value", i));
    r.headers.push_back(h);
  }
  if (in.remaining() != 0) {
    return bad(fmt::format("{} bytes after the last field", in.remaining()));
  }
  return r;
}

bool known_codec(const batch_header& h) {
  return (h.attributes & batch_attribute::codec_mask) <=
         static_cast<int16_t>(compression_codec::zstd);
}

// The header and that `batch` is exactly the batch's bytes.
result<batch_header, batch_error> check_batch_bytes(std::span<const uint8_t> batch) {
  auto header = read_batch_header(batch);
  if (!header) return header;
  const size_t size = header->size_bytes();
  if (batch.size() < size) {
    return fail(batch_errc::truncated,
                fmt::format("batch has {} of its {} bytes", batch.size(), size));
  }
  if (batch.size() > size) {
    return fail(batch_errc::bad_length,
                fmt::format("{} bytes follow the batch of {} bytes", batch.size() - size, size));
  }
  return header;
}

result<void, batch_error> check_codec(const batch_header& h) {
  if (known_codec(h)) return {};
  return fail(batch_errc::bad_compression,
              fmt::format("unknown codec {}", h.attributes & batch_attribute::codec_mask));
}

// The records section of a checked batch: the bytes after the header, decompressed into
// `storage` when the batch is compressed.
result<std::span<const uint8_t>, batch_error> records_section(const batch_header& h,
                                                              std::span<const uint8_t> batch,
                                                              size_t decompressed_bytes_max,
                                                              std::vector<uint8_t>& storage) {
  auto section = batch.subspan(batch_header_size);
  if (h.codec() == compression_codec::none) return section;
  auto decompressed = decompress(h.codec(), section, decompressed_bytes_max);
  if (!decompressed) {
    const auto& e = decompressed.error();
    const auto code =
        e.code == compression_errc::too_large ? batch_errc::too_large : batch_errc::bad_compression;
    return fail(code, fmt::format("{} records: {}", to_string(h.codec()), e.message));
  }
  storage = std::move(*decompressed);
  return std::span<const uint8_t>(storage);
}

// Reads all records of the section, checking the count; with `produce_rules`, also that each
// offset delta is the record's position. Appends to `out` when it is given.
result<void, batch_error> check_records(const batch_header& h, std::span<const uint8_t> section,
                                        bool produce_rules, std::vector<record>* out,
                                        record_timestamps* timestamps = nullptr) {
  record_reader reader(section, h.record_count);
  for (int32_t index = 0; reader.has_next(); ++index) {
    auto r = reader.next();
    if (!r) return failure(r.error());
    if (timestamps != nullptr) {
      const int64_t ts = h.base_timestamp + r->timestamp_delta;
      timestamps->max = std::max(timestamps->max, ts);
      if (ts != -1) timestamps->min = std::min(timestamps->min, ts);
    }
    if (produce_rules && r->offset_delta != index) {
      return fail(batch_errc::bad_record,
                  fmt::format("record {} has offset delta {}", index, r->offset_delta));
    }
    if (out != nullptr) out->push_back(std::move(*r));
  }
  return reader.finish();
}

}  // namespace

compression_codec batch_header::codec() const {
  return static_cast<compression_codec>(attributes & batch_attribute::codec_mask);
}
bool batch_header::is_transactional() const {
  return (attributes & batch_attribute::transactional) != 0;
}
bool batch_header::is_control() const {
  return (attributes & batch_attribute::control) != 0;
}
bool batch_header::has_log_append_time() const {
  return (attributes & batch_attribute::log_append_time) != 0;
}
int64_t batch_header::last_offset() const {
  return base_offset + last_offset_delta;
}
size_t batch_header::size_bytes() const {
  return static_cast<size_t>(batch_length) + batch_log_overhead;
}

std::string_view to_string(batch_errc code) {
  switch (code) {
    case batch_errc::truncated:
      return "truncated";
    case batch_errc::bad_length:
      return "bad_length";
    case batch_errc::bad_magic:
      return "bad_magic";
    case batch_errc::bad_crc:
      return "bad_crc";
    case batch_errc::bad_record_count:
      return "bad_record_count";
    case batch_errc::bad_record:
      return "bad_record";
    case batch_errc::too_large:
      return "too_large";
    case batch_errc::bad_compression:
      return "bad_compression";
  }
  return "unknown";
}

result<batch_header, batch_error> read_batch_header(std::span<const uint8_t> bytes) {
  // The magic first, so that a v0/v1 message set (shorter headers) is reported as such.
  if (bytes.size() <= batch_field::magic) {
    return fail(batch_errc::truncated, fmt::format("{} bytes, no batch header", bytes.size()));
  }
  const auto magic = static_cast<int8_t>(bytes[batch_field::magic]);
  if (magic != batch_magic_v2) {
    return fail(batch_errc::bad_magic, fmt::format("magic {}, expected 2", magic));
  }
  if (bytes.size() < batch_header_size) {
    return fail(batch_errc::truncated, fmt::format("{}-byte batch header", bytes.size()));
  }
  const uint8_t* p = bytes.data();
  batch_header h{};
  h.base_offset = load_big_endian<int64_t>(p + batch_field::base_offset);
  h.batch_length = load_big_endian<int32_t>(p + batch_field::batch_length);
  h.partition_leader_epoch = load_big_endian<int32_t>(p + batch_field::partition_leader_epoch);
  h.magic = magic;
  h.crc = load_big_endian<uint32_t>(p + batch_field::crc);
  h.attributes = load_big_endian<int16_t>(p + batch_field::attributes);
  h.last_offset_delta = load_big_endian<int32_t>(p + batch_field::last_offset_delta);
  h.base_timestamp = load_big_endian<int64_t>(p + batch_field::base_timestamp);
  h.max_timestamp = load_big_endian<int64_t>(p + batch_field::max_timestamp);
  h.producer_id = load_big_endian<int64_t>(p + batch_field::producer_id);
  h.producer_epoch = load_big_endian<int16_t>(p + batch_field::producer_epoch);
  h.base_sequence = load_big_endian<int32_t>(p + batch_field::base_sequence);
  h.record_count = load_big_endian<int32_t>(p + batch_field::record_count);
  constexpr auto length_min = static_cast<int32_t>(batch_header_size - batch_log_overhead);
  if (h.batch_length < length_min) {
    return fail(batch_errc::bad_length,
                fmt::format("batch length {} below the minimum {}", h.batch_length, length_min));
  }
  return h;
}

bool batch_crc_matches(std::span<const uint8_t> batch) {
  if (batch.size() < batch_header_size) return false;
  const auto stored = load_big_endian<uint32_t>(batch.data() + batch_field::crc);
  return crc32c(batch.subspan(batch_crc_start)) == stored;
}

result<batch_header, batch_error> validate_batch(std::span<const uint8_t> batch, bool deep,
                                                 size_t decompressed_bytes_max,
                                                 record_timestamps* timestamps) {
  auto header = check_batch_bytes(batch);
  if (!header) return header;
  const batch_header& h = *header;
  if (!batch_crc_matches(batch)) {
    return fail(batch_errc::bad_crc, fmt::format("stored CRC {:#010x}, computed {:#010x}", h.crc,
                                                 crc32c(batch.subspan(batch_crc_start))));
  }
  if (auto codec = check_codec(h); !codec) return failure(codec.error());
  if (h.record_count <= 0 || h.last_offset_delta != h.record_count - 1) {
    return fail(batch_errc::bad_record_count,
                fmt::format("record count {} with last offset delta {}", h.record_count,
                            h.last_offset_delta));
  }
  if (h.codec() != compression_codec::none && !deep) return header;
  std::vector<uint8_t> storage;
  auto section = records_section(h, batch, decompressed_bytes_max, storage);
  if (!section) return failure(section.error());
  if (timestamps != nullptr) *timestamps = record_timestamps{};
  auto checked = check_records(h, *section, /*produce_rules=*/true, nullptr, timestamps);
  if (!checked) return failure(checked.error());
  return header;
}

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  SLUICE_ASSERT(batch.size() >= batch_header_size, "set_base_offset on {} bytes", batch.size());
  store_big_endian(batch.data() + batch_field::base_offset, base_offset);
}

void set_max_timestamp(std::span<uint8_t> batch, int64_t max_timestamp) {
  SLUICE_ASSERT(batch.size() >= batch_header_size, "set_max_timestamp on {} bytes", batch.size());
  store_big_endian(batch.data() + batch_field::max_timestamp, max_timestamp);
  store_big_endian(batch.data() + batch_field::crc, crc32c(batch.subspan(batch_crc_start)));
}

void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  SLUICE_ASSERT(batch.size() >= batch_header_size, "set_partition_leader_epoch on {} bytes",
                batch.size());
  store_big_endian(batch.data() + batch_field::partition_leader_epoch, epoch);
}

record_reader::record_reader(std::span<const uint8_t> records, int32_t record_count)
    : _rest(records), _record_count(record_count) {}

result<record, batch_error> record_reader::next() {
  SLUICE_ASSERT(has_next(), "record_reader::next after {} of {} records (failed: {})",
                _records_read, _record_count, _failed);
  const int32_t index = _records_read;
  auto error = [this](batch_errc code, std::string message) {
    _failed = true;
    return fail(code, std::move(message));
  };
  if (_rest.empty()) {
    return error(batch_errc::bad_record_count,
                 fmt::format("records end after {} of {} records", index, _record_count));
  }
  auto length = read_varint(_rest);
  if (!length) return error(batch_errc::bad_record, fmt::format("record {}: bad length", index));
  const auto body_bytes = static_cast<int64_t>(length->value);
  if (body_bytes < 0 || static_cast<uint64_t>(body_bytes) > _rest.size() - length->size_bytes) {
    return error(batch_errc::bad_record,
                 fmt::format("record {}: length {} with {} bytes left", index, body_bytes,
                             _rest.size() - length->size_bytes));
  }
  auto body = _rest.subspan(length->size_bytes, static_cast<size_t>(body_bytes));
  _rest = _rest.subspan(length->size_bytes + body.size());
  auto parsed = parse_record_body(body, index);
  if (!parsed) {
    _failed = true;
    return parsed;
  }
  ++_records_read;
  return parsed;
}

result<void, batch_error> record_reader::finish() const {
  SLUICE_ASSERT(!has_next(), "record_reader::finish with {} of {} records read", _records_read,
                _record_count);
  if (_failed) return fail(batch_errc::bad_record, "a record failed to parse");
  if (_record_count < 0) {
    return fail(batch_errc::bad_record_count, fmt::format("record count {}", _record_count));
  }
  if (!_rest.empty()) {
    return fail(batch_errc::bad_record_count,
                fmt::format("{} bytes follow the last of {} records", _rest.size(), _record_count));
  }
  return {};
}

result<batch_records, batch_error> read_records(std::span<const uint8_t> batch,
                                                size_t decompressed_bytes_max) {
  auto header = check_batch_bytes(batch);
  if (!header) return failure(header.error());
  if (auto codec = check_codec(*header); !codec) return failure(codec.error());
  batch_records out;
  out.header = *header;
  auto section = records_section(out.header, batch, decompressed_bytes_max, out.decompressed);
  if (!section) return failure(section.error());
  auto checked = check_records(out.header, *section, /*produce_rules=*/false, &out.records);
  if (!checked) return failure(checked.error());
  return out;
}

std::optional<transaction_marker> read_transaction_marker(const record& r) {
  constexpr size_t key_bytes = 4;    // version, type
  constexpr size_t value_bytes = 6;  // version, coordinator epoch
  if (!r.key || r.key->size() < key_bytes || !r.value || r.value->size() < value_bytes) {
    return std::nullopt;
  }
  const auto key_version = load_big_endian<int16_t>(r.key->data());
  const auto type = load_big_endian<int16_t>(r.key->data() + 2);
  const auto value_version = load_big_endian<int16_t>(r.value->data());
  if (key_version < 0 || value_version < 0) return std::nullopt;
  if (type != static_cast<int16_t>(control_record_type::abort) &&
      type != static_cast<int16_t>(control_record_type::commit)) {
    return std::nullopt;
  }
  return transaction_marker{static_cast<control_record_type>(type),
                            load_big_endian<int32_t>(r.value->data() + 2)};
}

}  // namespace sluice::protocol
