#include "protocol/wire.h"

#include <fmt/format.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

namespace sluice::protocol {

namespace {

// Kafka caps every string, compact or not, at the int16 maximum.
constexpr size_t string_length_max = std::numeric_limits<int16_t>::max();
// An unsigned varint of a uint32 takes at most 5 bytes.
constexpr int uvarint_bytes_max = 5;

template <typename U>
U load_big_endian(const uint8_t* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | p[i]);
  return v;
}

template <typename U>
void store_big_endian(std::vector<uint8_t>& out, U v) {
  uint8_t b[sizeof(U)];
  for (size_t i = 0; i < sizeof(U); ++i) b[sizeof(U) - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  out.insert(out.end(), b, b + sizeof(U));
}

}  // namespace

codec_error unsupported_version(std::string_view message, int16_t version, size_t offset) {
  return codec_error{fmt::format("{} version {} is not supported", message, version), offset};
}

// ---------------------------------------------------------------------------------------------
// records_data

records_data records_data::view(std::span<const uint8_t> bytes,
                                std::shared_ptr<const void> keepalive) {
  records_data r;
  r._null = false;
  if (!bytes.empty()) r._segments.emplace_back(memory_range{bytes, std::move(keepalive)});
  return r;
}

records_data records_data::owned(std::vector<uint8_t> bytes) {
  auto holder = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  std::span<const uint8_t> view_of(*holder);
  return view(view_of, std::move(holder));
}

records_data records_data::files(std::vector<file_range> ranges) {
  records_data r;
  r._null = false;
  for (auto& range : ranges) r.append(std::move(range));
  return r;
}

void records_data::append(records_segment segment) {
  if (const auto* f = std::get_if<file_range>(&segment)) {
    SLUICE_ASSERT(f->fd >= 0 && f->position >= 0 && f->length >= 0,
                  "bad file range: fd {} position {} length {}", f->fd, f->position, f->length);
  }
  _null = false;
  _segments.push_back(std::move(segment));
}

size_t records_data::size() const {
  size_t total = 0;
  for (const auto& s : _segments) total += external_chunk{0, s}.size();
  return total;
}

std::span<const uint8_t> records_data::memory() const {
  if (_segments.size() != 1) return {};
  const auto* m = std::get_if<memory_range>(&_segments[0]);
  return m ? m->data : std::span<const uint8_t>();
}

bool records_data::operator==(const records_data& other) const {
  if (_null != other._null) return false;
  auto has_file = [](const records_data& r) {
    for (const auto& s : r._segments) {
      if (std::holds_alternative<file_range>(s)) return true;
    }
    return false;
  };
  if (!has_file(*this) && !has_file(other)) {
    // Memory only: equal content, however it is split into segments.
    auto concat = [](const records_data& r) {
      std::vector<uint8_t> out;
      for (const auto& s : r._segments) {
        const auto& m = std::get<memory_range>(s);
        out.insert(out.end(), m.data.begin(), m.data.end());
      }
      return out;
    };
    return concat(*this) == concat(other);
  }
  if (_segments.size() != other._segments.size()) return false;
  for (size_t i = 0; i < _segments.size(); ++i) {
    const auto* a = std::get_if<file_range>(&_segments[i]);
    const auto* b = std::get_if<file_range>(&other._segments[i]);
    if (!a || !b) return false;
    if (a->fd != b->fd || a->position != b->position || a->length != b->length) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// encoded_message

size_t external_chunk::size() const {
  if (const auto* m = std::get_if<memory_range>(&source)) return m->data.size();
  return static_cast<size_t>(std::get<file_range>(source).length);
}

size_t encoded_message::total_size() const {
  size_t total = bytes.size();
  for (const auto& e : externals) total += e.size();
  return total;
}

result<std::vector<uint8_t>, codec_error> encoded_message::flatten() const {
  std::vector<uint8_t> out;
  out.reserve(total_size());
  size_t copied = 0;  // of `bytes`
  for (const auto& e : externals) {
    SLUICE_ASSERT(e.offset >= copied && e.offset <= bytes.size(),
                  "external chunk offset {} out of order (copied {}, size {})", e.offset, copied,
                  bytes.size());
    out.insert(out.end(), bytes.begin() + copied, bytes.begin() + e.offset);
    copied = e.offset;
    if (const auto* m = std::get_if<memory_range>(&e.source)) {
      out.insert(out.end(), m->data.begin(), m->data.end());
      continue;
    }
    const auto& f = std::get<file_range>(e.source);
    const size_t at = out.size();
    out.resize(at + f.length);
    int64_t done = 0;
    while (done < f.length) {
      const ssize_t n = ::pread(f.fd, out.data() + at + done, f.length - done, f.position + done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return failure(
            codec_error{fmt::format("reading {} bytes at {} of fd {}: {}", f.length, f.position,
                                    f.fd, n < 0 ? std::strerror(errno) : "end of file"),
                        at});
      }
      done += n;
    }
  }
  out.insert(out.end(), bytes.begin() + copied, bytes.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// reader

codec_result reader::status() const {
  if (_failed) return failure(_error);
  return {};
}

void reader::fail(std::string message) {
  if (_failed) return;
  _failed = true;
  _error = codec_error{std::move(message), offset()};
}

void reader::fail(const codec_error& error) {
  if (_failed) return;
  _failed = true;
  _error = error;
}

bool reader::need(size_t size) {
  if (_failed) return false;
  if (_data.size() - _pos < size) {
    fail(fmt::format("need {} bytes, {} left", size, _data.size() - _pos));
    return false;
  }
  return true;
}

void reader::read(bool& out) {
  int8_t v = 0;
  read(v);
  out = v != 0;
}

void reader::read(int8_t& out) {
  out = need(1) ? static_cast<int8_t>(_data[_pos++]) : 0;
}

void reader::read(int16_t& out) {
  uint16_t v = 0;
  read(v);
  out = static_cast<int16_t>(v);
}

void reader::read(uint16_t& out) {
  out = 0;
  if (!need(2)) return;
  out = load_big_endian<uint16_t>(&_data[_pos]);
  _pos += 2;
}

void reader::read(int32_t& out) {
  out = 0;
  if (!need(4)) return;
  out = static_cast<int32_t>(load_big_endian<uint32_t>(&_data[_pos]));
  _pos += 4;
}

void reader::read(int64_t& out) {
  out = 0;
  if (!need(8)) return;
  out = static_cast<int64_t>(load_big_endian<uint64_t>(&_data[_pos]));
  _pos += 8;
}

void reader::read(double& out) {
  int64_t bits = 0;
  read(bits);
  out = std::bit_cast<double>(bits);
}

void reader::read(model::uuid& out) {
  out = model::uuid{};
  if (!need(16)) return;
  std::memcpy(out.bytes.data(), &_data[_pos], 16);
  _pos += 16;
}

uint32_t reader::read_uvarint() {
  uint32_t v = 0;
  for (int i = 0; i < uvarint_bytes_max; ++i) {
    if (!need(1)) return 0;
    const uint8_t b = _data[_pos++];
    if (i == uvarint_bytes_max - 1 && (b & 0xf0) != 0) {
      fail("unsigned varint does not fit in 32 bits");
      return 0;
    }
    v |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  return 0;  // unreachable: the fifth byte either ends the varint or fails above
}

std::span<const uint8_t> reader::read_raw(size_t size) {
  if (!need(size)) return {};
  auto out = _data.subspan(_pos, size);
  _pos += size;
  return out;
}

namespace {

enum class length_kind { string, bytes };

// Reads a string or bytes length: -1 for null, else a length that fits in the remaining bytes.
int64_t read_length(reader& r, bool flexible, length_kind kind) {
  int64_t length = 0;
  if (flexible) {
    length = static_cast<int64_t>(r.read_uvarint()) - 1;
  } else if (kind == length_kind::string) {
    int16_t v = 0;
    r.read(v);
    length = v;
  } else {
    length = r.read_int32();
  }
  if (!r.ok()) return 0;
  if (length < -1) {
    r.fail(fmt::format("negative length {}", length));
    return 0;
  }
  if (kind == length_kind::string && length > static_cast<int64_t>(string_length_max)) {
    r.fail(fmt::format("string length {} exceeds {}", length, string_length_max));
    return 0;
  }
  if (length > static_cast<int64_t>(r.remaining())) {
    r.fail(fmt::format("length {} exceeds the {} bytes left", length, r.remaining()));
    return 0;
  }
  return length;
}

}  // namespace

void reader::read(std::string& out, bool flexible) {
  out.clear();
  const int64_t length = read_length(*this, flexible, length_kind::string);
  if (length < 0) return fail("null string in a non-nullable field");
  auto bytes = read_raw(length);
  out.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void reader::read(std::optional<std::string>& out, bool flexible, bool nullable) {
  const int64_t length = read_length(*this, flexible, length_kind::string);
  if (length < 0) {
    if (!nullable) return fail("null string in a version where it is not nullable");
    out.reset();
    return;
  }
  auto bytes = read_raw(length);
  out.emplace(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void reader::read(std::vector<uint8_t>& out, bool flexible) {
  out.clear();
  const int64_t length = read_length(*this, flexible, length_kind::bytes);
  if (length < 0) return fail("null bytes in a non-nullable field");
  auto bytes = read_raw(length);
  out.assign(bytes.begin(), bytes.end());
}

void reader::read(std::optional<std::vector<uint8_t>>& out, bool flexible, bool nullable) {
  const int64_t length = read_length(*this, flexible, length_kind::bytes);
  if (length < 0) {
    if (!nullable) return fail("null bytes in a version where they are not nullable");
    out.reset();
    return;
  }
  auto bytes = read_raw(length);
  out.emplace(bytes.begin(), bytes.end());
}

void reader::read(records_data& out, bool flexible, bool nullable) {
  out = records_data();
  const int64_t length = read_length(*this, flexible, length_kind::bytes);
  if (!ok()) return;
  if (length < 0) {
    if (!nullable) fail("null records in a version where they are not nullable");
    return;
  }
  out = records_data::view(read_raw(length));
}

int32_t reader::read_array_length(bool flexible, bool nullable, size_t element_size_min) {
  int64_t n = flexible ? static_cast<int64_t>(read_uvarint()) - 1 : read_int32();
  if (!ok()) return 0;
  if (n < -1) {
    fail(fmt::format("negative array length {}", n));
    return 0;
  }
  if (n == -1) {
    if (!nullable) {
      fail("null array in a version where it is not nullable");
      return 0;
    }
    return -1;
  }
  // Checked before anything is allocated: n elements need at least n * element_size_min bytes.
  if (static_cast<uint64_t>(n) * element_size_min > remaining() ||
      n > std::numeric_limits<int32_t>::max()) {
    fail(fmt::format("array of {} elements cannot fit in the {} bytes left", n, remaining()));
    return 0;
  }
  return static_cast<int32_t>(n);
}

void reader::read_tagged_fields(tagged_fields& unknown) {
  read_tagged_fields_impl(unknown, nullptr, nullptr);
}

void reader::read_tagged_fields_impl(tagged_fields& unknown, known_tag_fn known, void* context) {
  unknown.fields.clear();
  const uint32_t count = read_uvarint();
  // Each field takes at least 2 bytes (its tag and its size).
  if (ok() && count > remaining() / 2) {
    return fail(
        fmt::format("{} tagged fields cannot fit in the {} bytes left", count, remaining()));
  }
  int64_t previous_tag = -1;
  for (uint32_t i = 0; i < count && ok(); ++i) {
    const uint32_t tag = read_uvarint();
    const uint32_t size = read_uvarint();
    if (!ok()) return;
    if (static_cast<int64_t>(tag) <= previous_tag) {
      return fail(fmt::format("tagged field {} after tag {}: tags must ascend", tag, previous_tag));
    }
    previous_tag = tag;
    if (!need(size)) return;
    reader field(_data.subspan(_pos, size), offset());
    if (known && known(context, field, tag)) {
      if (!field.ok()) return fail(field.error());
      if (field.remaining() != 0) {
        return fail(fmt::format("tagged field {} has {} unread bytes", tag, field.remaining()));
      }
    } else {
      auto bytes = _data.subspan(_pos, size);
      unknown.fields.push_back(raw_tagged_field{tag, {bytes.begin(), bytes.end()}});
    }
    _pos += size;
  }
}

// ---------------------------------------------------------------------------------------------
// writer

codec_result writer::status() const {
  if (_failed) return failure(_error);
  return {};
}

void writer::fail(std::string message) {
  if (_failed) return;
  _failed = true;
  _error = codec_error{std::move(message), size()};
}

void writer::fail_absent(std::string_view field, int16_t version) {
  fail(fmt::format("field {} is set but version {} does not have it", field, version));
}

void writer::fail_null(std::string_view field, int16_t version) {
  fail(fmt::format("field {} is null but version {} does not allow null", field, version));
}

void writer::write(int16_t v) {
  store_big_endian(_bytes, static_cast<uint16_t>(v));
}
void writer::write(uint16_t v) {
  store_big_endian(_bytes, v);
}
void writer::write(int32_t v) {
  store_big_endian(_bytes, static_cast<uint32_t>(v));
}
void writer::write(int64_t v) {
  store_big_endian(_bytes, static_cast<uint64_t>(v));
}
void writer::write(double v) {
  store_big_endian(_bytes, std::bit_cast<uint64_t>(v));
}

void writer::write(const model::uuid& v) {
  _bytes.insert(_bytes.end(), v.bytes.begin(), v.bytes.end());
}

void writer::write_uvarint(uint32_t v) {
  while (v >= 0x80) {
    _bytes.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  _bytes.push_back(static_cast<uint8_t>(v));
}

void writer::write_raw(std::span<const uint8_t> bytes) {
  _bytes.insert(_bytes.end(), bytes.begin(), bytes.end());
}

void writer::patch_int32(size_t offset, int32_t v) {
  SLUICE_ASSERT(offset + 4 <= _bytes.size(), "patch at {} beyond {} bytes", offset, _bytes.size());
  const auto u = static_cast<uint32_t>(v);
  for (size_t i = 0; i < 4; ++i) _bytes[offset + i] = static_cast<uint8_t>(u >> (24 - 8 * i));
}

void writer::write(std::string_view v, bool flexible) {
  if (v.size() > string_length_max) {
    return fail(fmt::format("string of {} bytes exceeds {}", v.size(), string_length_max));
  }
  if (flexible) {
    write_uvarint(static_cast<uint32_t>(v.size() + 1));
  } else {
    write(static_cast<int16_t>(v.size()));
  }
  _bytes.insert(_bytes.end(), v.begin(), v.end());
}

void writer::write(const std::optional<std::string>& v, bool flexible, bool nullable) {
  if (v) return write(std::string_view(*v), flexible);
  if (!nullable) return fail("null string in a version where it is not nullable");
  if (flexible) {
    write_uvarint(0);
  } else {
    write(static_cast<int16_t>(-1));
  }
}

void writer::write(std::span<const uint8_t> v, bool flexible) {
  if (v.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return fail(fmt::format("{} bytes do not fit an int32 length", v.size()));
  }
  if (flexible) {
    write_uvarint(static_cast<uint32_t>(v.size() + 1));
  } else {
    write(static_cast<int32_t>(v.size()));
  }
  _bytes.insert(_bytes.end(), v.begin(), v.end());
}

void writer::write(const std::optional<std::vector<uint8_t>>& v, bool flexible, bool nullable) {
  if (v) return write(std::span<const uint8_t>(*v), flexible);
  if (!nullable) return fail("null bytes in a version where they are not nullable");
  if (flexible) {
    write_uvarint(0);
  } else {
    write(static_cast<int32_t>(-1));
  }
}

void writer::write(const records_data& v, bool flexible, bool nullable) {
  if (v.is_null()) {
    if (!nullable) return fail("null records in a version where they are not nullable");
    if (flexible) {
      write_uvarint(0);
    } else {
      write(static_cast<int32_t>(-1));
    }
    return;
  }
  const size_t size = v.size();
  if (size >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return fail(fmt::format("{} record bytes do not fit an int32 length", size));
  }
  if (flexible) {
    write_uvarint(static_cast<uint32_t>(size + 1));
  } else {
    write(static_cast<int32_t>(size));
  }
  for (const auto& segment : v.segments()) {
    const size_t n = external_chunk{0, segment}.size();
    if (n > 0) add_external(segment, n);
  }
}

void writer::write_array_length(size_t count, bool is_null, bool flexible) {
  if (count >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return fail(fmt::format("array of {} elements is too long", count));
  }
  if (flexible) {
    write_uvarint(is_null ? 0 : static_cast<uint32_t>(count + 1));
  } else {
    write(is_null ? int32_t{-1} : static_cast<int32_t>(count));
  }
}

void writer::write_tagged_fields(const tagged_fields& fields) {
  tagged_field_writer(*this, fields, 0).finish();
}

void writer::add_external(records_segment segment, size_t size) {
  _externals.push_back(external_chunk{_bytes.size(), std::move(segment)});
  _external_size += size;
}

void writer::append(writer&& other) {
  if (other._failed && !_failed) {
    _failed = true;
    _error = other._error;
    _error.offset += size();
  }
  const size_t shift = _bytes.size();
  _bytes.insert(_bytes.end(), other._bytes.begin(), other._bytes.end());
  for (auto& e : other._externals) {
    e.offset += shift;
    _externals.push_back(std::move(e));
  }
  _external_size += other._external_size;
}

encoded_message writer::finish() && {
  return encoded_message{std::move(_bytes), std::move(_externals)};
}

// ---------------------------------------------------------------------------------------------
// tagged_field_writer

tagged_field_writer::tagged_field_writer(writer& w, const tagged_fields& unknown,
                                         size_t known_count)
    : _w(w), _unknown(unknown) {
  _w.write_uvarint(static_cast<uint32_t>(unknown.size() + known_count));
}

void tagged_field_writer::unknown_below(uint32_t tag) {
  while (_next_unknown < _unknown.size() && _unknown.fields[_next_unknown].tag <= tag) {
    const auto& f = _unknown.fields[_next_unknown++];
    if (f.tag == tag) {
      return _w.fail(fmt::format("tag {} is both a known field and an unknown one", tag));
    }
    writer value;
    value.write_raw(f.data);
    emit(f.tag, std::move(value));
  }
}

void tagged_field_writer::emit(uint32_t tag, writer&& value) {
  if (static_cast<int64_t>(tag) <= _last_tag) {
    return _w.fail(fmt::format("tagged field {} after tag {}: tags must ascend", tag, _last_tag));
  }
  _last_tag = tag;
  _w.write_uvarint(tag);
  _w.write_uvarint(static_cast<uint32_t>(value.size()));
  _w.append(std::move(value));
}

void tagged_field_writer::finish() {
  while (_next_unknown < _unknown.size()) {
    const auto& f = _unknown.fields[_next_unknown++];
    writer value;
    value.write_raw(f.data);
    emit(f.tag, std::move(value));
  }
}

}  // namespace sluice::protocol
