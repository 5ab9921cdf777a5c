#include "protocol/legacy_records.h"

#include <fmt/format.h>
#include <zlib.h>

#include <optional>

#include "protocol/batch_builder.h"
#include "protocol/big_endian.h"
#include "protocol/compression.h"

namespace sluice::protocol {

namespace {

constexpr size_t entry_overhead = 12;  // offset int64 + message size int32
constexpr size_t crc_bytes = 4;
constexpr int8_t codec_mask = 0x07;
constexpr int8_t log_append_time_bit = 0x08;

size_t message_header_bytes(int8_t magic) {
  return crc_bytes + 1 + 1 + (magic == legacy_magic_v1 ? 8 : 0);
}

uint32_t crc32_of(std::span<const uint8_t> bytes) {
  return static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

failure<batch_error> fail(batch_errc code, std::string message) {
  return failure(batch_error{code, std::move(message)});
}

struct message_view {
  int64_t offset = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = -1;
  std::optional<std::span<const uint8_t>> key;
  std::optional<std::span<const uint8_t>> value;
};

// Reads one entry at in[pos], checking its size and CRC; advances pos.
result<message_view, batch_error> read_entry(std::span<const uint8_t> in, size_t& pos) {
  if (in.size() - pos < entry_overhead)
    return fail(batch_errc::truncated, fmt::format("message entry cut at byte {}", pos));
  message_view m;
  m.offset = load_big_endian<int64_t>(in.data() + pos);
  const int32_t size = load_big_endian<int32_t>(in.data() + pos + 8);
  pos += entry_overhead;
  if (size < static_cast<int32_t>(message_header_bytes(legacy_magic_v0) + 8))
    return fail(batch_errc::bad_length, fmt::format("message size {}", size));
  if (in.size() - pos < static_cast<size_t>(size))
    return fail(batch_errc::truncated, fmt::format("message of {} bytes cut short", size));
  auto msg = in.subspan(pos, static_cast<size_t>(size));
  pos += static_cast<size_t>(size);
  const uint32_t stored_crc = load_big_endian<uint32_t>(msg.data());
  if (crc32_of(msg.subspan(crc_bytes)) != stored_crc)
    return fail(batch_errc::bad_crc, fmt::format("message at offset {}: CRC mismatch", m.offset));
  m.magic = static_cast<int8_t>(msg[4]);
  if (m.magic != legacy_magic_v0 && m.magic != legacy_magic_v1)
    return fail(batch_errc::bad_magic, fmt::format("message magic {}", m.magic));
  m.attributes = static_cast<int8_t>(msg[5]);
  size_t at = 6;
  if (m.magic == legacy_magic_v1) {
    if (msg.size() < at + 8 + 8) return fail(batch_errc::bad_length, "message too short");
    m.timestamp = load_big_endian<int64_t>(msg.data() + at);
    at += 8;
  }
  auto bytes_field = [&](std::optional<std::span<const uint8_t>>& out) -> bool {
    if (msg.size() - at < 4) return false;
    const int32_t n = load_big_endian<int32_t>(msg.data() + at);
    at += 4;
    if (n < -1 || (n > 0 && msg.size() - at < static_cast<size_t>(n))) return false;
    if (n >= 0) {
      out = msg.subspan(at, static_cast<size_t>(n));
      at += static_cast<size_t>(n);
    }
    return true;
  };
  if (!bytes_field(m.key) || !bytes_field(m.value) || at != msg.size())
    return fail(batch_errc::bad_record,
                fmt::format("message at offset {} does not parse", m.offset));
  return m;
}

struct up_record {
  int64_t timestamp;
  std::optional<std::span<const uint8_t>> key;
  std::optional<std::span<const uint8_t>> value;
};

void append_entry(std::vector<uint8_t>& out, int64_t offset, int8_t magic, int8_t attributes,
                  int64_t timestamp, std::optional<std::span<const uint8_t>> key,
                  std::optional<std::span<const uint8_t>> value) {
  const size_t size =
      message_header_bytes(magic) + 4 + (key ? key->size() : 0) + 4 + (value ? value->size() : 0);
  const size_t start = out.size();
  out.resize(start + entry_overhead + size);
  uint8_t* p = out.data() + start;
  store_big_endian<int64_t>(p, offset);
  store_big_endian<int32_t>(p + 8, static_cast<int32_t>(size));
  uint8_t* msg = p + entry_overhead;
  size_t at = crc_bytes;
  msg[at++] = static_cast<uint8_t>(magic);
  msg[at++] = static_cast<uint8_t>(attributes);
  if (magic == legacy_magic_v1) {
    store_big_endian<int64_t>(msg + at, timestamp);
    at += 8;
  }
  for (const auto& field : {key, value}) {
    store_big_endian<int32_t>(msg + at, field ? static_cast<int32_t>(field->size()) : -1);
    at += 4;
    if (field && !field->empty()) {
      std::copy(field->begin(), field->end(), msg + at);
      at += field->size();
    }
  }
  store_big_endian<uint32_t>(msg, crc32_of({msg + crc_bytes, size - crc_bytes}));
}

}  // namespace

int8_t fetch_message_format(int16_t fetch_version) {
  if (fetch_version <= 1) return legacy_magic_v0;
  if (fetch_version <= 3) return legacy_magic_v1;
  return 2;
}

result<std::vector<uint8_t>, batch_error> upconvert_message_set(
    std::span<const uint8_t> message_set, size_t decompressed_bytes_max) {
  std::vector<up_record> records;
  std::vector<std::vector<uint8_t>> inflated;  // owns what compressed wrappers' records view
  size_t inflated_total = 0;
  compression_codec codec = compression_codec::none;
  size_t pos = 0;
  while (pos < message_set.size()) {
    auto m = read_entry(message_set, pos);
    if (!m) return failure(m.error());
    const int8_t raw_codec = static_cast<int8_t>(m->attributes & codec_mask);
    if (raw_codec == 0) {
      records.push_back({m->magic == legacy_magic_v1 ? m->timestamp : -1, m->key, m->value});
      continue;
    }
    if (raw_codec > static_cast<int8_t>(compression_codec::lz4)) {
      return fail(batch_errc::bad_compression,
                  fmt::format("message format {} has no codec {}", m->magic, raw_codec));
    }
    if (!m->value) return fail(batch_errc::bad_record, "compressed message without a value");
    codec = static_cast<compression_codec>(raw_codec);
    // Format 0's lz4 frames carry the header checksum Kafka 0.8/0.9 got wrong; Kafka skips it.
    auto inner = codec == compression_codec::lz4 && m->magic == legacy_magic_v0
                     ? decompress_lz4_ignoring_header_checksum(
                           *m->value, decompressed_bytes_max - inflated_total)
                     : decompress(codec, *m->value, decompressed_bytes_max - inflated_total);
    if (!inner) {
      return fail(inner.error().code == compression_errc::too_large ? batch_errc::too_large
                                                                    : batch_errc::bad_compression,
                  inner.error().message);
    }
    inflated_total += inner->size();
    inflated.push_back(std::move(*inner));
    std::span<const uint8_t> inner_set = inflated.back();
    const bool wrapper_time = m->magic == legacy_magic_v1 && (m->attributes & log_append_time_bit);
    size_t inner_pos = 0;
    while (inner_pos < inner_set.size()) {
      auto im = read_entry(inner_set, inner_pos);
      if (!im) return failure(im.error());
      if ((im->attributes & codec_mask) != 0)
        return fail(batch_errc::bad_record, "a compressed message inside a compressed message");
      int64_t ts = im->magic == legacy_magic_v1 ? im->timestamp : -1;
      if (wrapper_time) ts = m->timestamp;
      records.push_back({ts, im->key, im->value});
    }
  }
  if (records.empty()) return fail(batch_errc::bad_record_count, "a message set without messages");
  batch_builder builder(codec);
  for (const auto& r : records) builder.add(r.timestamp, r.key, r.value);
  return builder.build();
}

result<std::vector<uint8_t>, batch_error> downconvert_batches(std::span<const uint8_t> batches,
                                                              int8_t magic, int64_t first_offset,
                                                              size_t bytes_max) {
  std::vector<uint8_t> out;
  size_t pos = 0;
  while (pos < batches.size()) {
    auto rest = batches.subspan(pos);
    auto header = read_batch_header(rest);
    // A read may end inside a batch; what is whole is converted.
    if (!header || header->size_bytes() > rest.size()) break;
    auto batch = rest.first(header->size_bytes());
    pos += header->size_bytes();
    if (header->is_control()) continue;
    auto decoded = read_records(batch);
    if (!decoded) return failure(decoded.error());
    const bool append_time = decoded->header.has_log_append_time();
    for (const auto& r : decoded->records) {
      const int64_t offset = decoded->header.base_offset + r.offset_delta;
      if (offset < first_offset) continue;
      const int64_t ts = append_time ? decoded->header.max_timestamp
                                     : decoded->header.base_timestamp + r.timestamp_delta;
      const size_t before = out.size();
      append_entry(out, offset, magic,
                   magic == legacy_magic_v1 && append_time ? log_append_time_bit : 0, ts, r.key,
                   r.value);
      if (out.size() > bytes_max && before > 0) {
        out.resize(before);
        return out;
      }
    }
  }
  return out;
}

std::vector<uint8_t> build_message_set(const std::vector<legacy_message>& messages, int8_t magic,
                                       compression_codec codec) {
  std::vector<uint8_t> plain;
  int64_t offset = 0;
  auto view = [](const std::optional<std::vector<uint8_t>>& v) {
    return v ? std::optional<std::span<const uint8_t>>(*v) : std::nullopt;
  };
  for (const auto& m : messages)
    append_entry(plain, offset++, magic, 0, m.timestamp, view(m.key), view(m.value));
  if (codec == compression_codec::none) return plain;
  auto compressed = compress(codec, plain);
  SLUICE_ASSERT(compressed.has_value(), "compressing a test message set failed");
  std::vector<uint8_t> out;
  int64_t wrapper_ts = -1;
  for (const auto& m : messages) wrapper_ts = std::max(wrapper_ts, m.timestamp);
  // Format 1 wrappers carry the last inner offset; the inner offsets are relative.
  append_entry(out, magic == legacy_magic_v1 ? offset - 1 : 0, magic, static_cast<int8_t>(codec),
               wrapper_ts, std::nullopt, std::span<const uint8_t>(*compressed));
  return out;
}

}  // namespace sluice::protocol
