#include "storage/batch_scanner.h"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "storage/format.h"

namespace sluice::storage {

batch_scanner::batch_scanner(file& log, uint64_t position, uint64_t end_position, bool verify_crc,
                             size_t buffer_bytes)
    : _log(log),
      _position(position),
      _end(end_position),
      _verify_crc(verify_crc),
      _buffer(std::max<size_t>(buffer_bytes, batch_peek_bytes)) {}

sresult<bool> batch_scanner::fill(uint64_t position, size_t bytes) {
  SLUICE_ASSERT(bytes <= _buffer.size(), "fill of {} bytes, buffer {}", bytes, _buffer.size());
  if (position >= _buffer_position && position + bytes <= _buffer_position + _buffer_size) {
    return true;
  }
  uint64_t want = std::min<uint64_t>(_buffer.size(), _end - std::min(_end, position));
  auto n = read_exact(_log, position, std::span<uint8_t>(_buffer.data(), want));
  if (!n) return failure(n.error());
  _buffer_position = position;
  _buffer_size = *n;
  return *n >= bytes;
}

sresult<bool> batch_scanner::crc_matches(uint64_t position, const batch_info& info,
                                         uint32_t stored_crc) {
  uint64_t at = position + protocol::batch_crc_start;
  const uint64_t end = position + info.size_bytes;
  uint32_t crc = 0;
  while (at < end) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(end - at, _buffer.size()));
    auto ok = fill(at, chunk);
    if (!ok) return failure(ok.error());
    if (!*ok) return false;
    crc = protocol::crc32c({_buffer.data() + (at - _buffer_position), chunk}, crc);
    at += chunk;
  }
  return crc == stored_crc;
}

sresult<std::optional<scanned_batch>> batch_scanner::next() {
  if (_position == _end) return std::optional<scanned_batch>{};
  auto corrupt = [&](std::string why) {
    return failure(make_error(errc::corrupt,
                              fmt::format("{} at position {}: {}", _log.path(), _position, why)));
  };
  if (_end - _position < batch_peek_bytes) return corrupt("torn batch header");
  auto ok = fill(_position, batch_peek_bytes);
  if (!ok) return failure(ok.error());
  if (!*ok) return corrupt("file ends inside a batch header");
  std::span<const uint8_t> header(_buffer.data() + (_position - _buffer_position),
                                  batch_peek_bytes);
  auto info = parse_batch_header(header);
  if (!info) return corrupt("invalid batch header");
  if (info->size_bytes > _end - _position) {
    return corrupt(fmt::format("batch of {} bytes runs past the end", info->size_bytes));
  }
  if (_verify_crc) {
    uint32_t stored = get_u32(header.data() + protocol::batch_field::crc);
    auto match = crc_matches(_position, *info, stored);
    if (!match) return failure(match.error());
    if (!*match) return corrupt("CRC32C mismatch");
  }
  scanned_batch out{*info, _position};
  _position += info->size_bytes;
  return std::optional<scanned_batch>(out);
}

}  // namespace sluice::storage
