#pragma once

// The Kafka wire codec runtime shared by the generated message types (build tree,
// protocol/messages/*.h) and the hand-written headers (protocol/header.h).
//
// Errors are sticky: the first failed read or write records a codec_error and every later
// operation on the same reader or writer does nothing and yields zeros or empty values. That keeps
// the generated code to one line per field; the top-level decode()/encode() turns the sticky state
// into a result. A length read from the wire is always checked against the bytes that remain
// before anything is allocated for it, so hostile input costs at most memory proportional to the
// frame it arrived in.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "base/result.h"
#include "model/model.h"

namespace sluice::protocol {

// A malformed message: what was wrong and at which byte offset of the decoded buffer (or of the
// output, for an encode error).
struct codec_error {
  std::string message;
  size_t offset = 0;
};

using codec_result = result<void, codec_error>;

// A tagged field that this build does not know, kept verbatim so that it can be written back.
struct raw_tagged_field {
  uint32_t tag = 0;
  std::vector<uint8_t> data;
  bool operator==(const raw_tagged_field&) const = default;
};

// The unknown tagged fields of one struct, sorted by tag (the order in which they are read, since
// the wire requires ascending tags).
struct tagged_fields {
  std::vector<raw_tagged_field> fields;
  bool empty() const { return fields.empty(); }
  size_t size() const { return fields.size(); }
  bool operator==(const tagged_fields&) const = default;
};

// Record-batch bytes held in memory. `keepalive`, when set, owns the memory `data` points into.
struct memory_range {
  std::span<const uint8_t> data;
  std::shared_ptr<const void> keepalive;
};

// Record-batch bytes in a file, sent with sendfile(2) by the server. `keepalive` holds whatever
// keeps `fd` open (a segment handle) until the bytes have been sent.
struct file_range {
  int fd = -1;
  int64_t position = 0;
  int64_t length = 0;
  std::shared_ptr<const void> keepalive;
};

using records_segment = std::variant<memory_range, file_range>;

// The value of a `records` field: null, or a sequence of segments whose concatenation is the
// record-batch bytes. Decoding yields one memory_range that views the decoded buffer without
// copying: the caller must keep that buffer (the request frame) alive while the message is in
// use. Encoding never copies the bytes either; they become external chunks of the
// encoded_message.
class records_data {
 public:
  records_data() = default;  // null

  // A view of `bytes`; `keepalive` (optional) owns them.
  static records_data view(std::span<const uint8_t> bytes,
                           std::shared_ptr<const void> keepalive = {});
  // Takes ownership of `bytes`.
  static records_data owned(std::vector<uint8_t> bytes);
  static records_data files(std::vector<file_range> ranges);
  static records_data empty() { return view({}); }

  bool is_null() const { return _null; }
  size_t size() const;
  const std::vector<records_segment>& segments() const { return _segments; }
  // The bytes when they are a single memory range (always true after decode); empty otherwise.
  std::span<const uint8_t> memory() const;
  void append(records_segment segment);

  // Compares content for memory segments and (fd, position, length) for file segments.
  bool operator==(const records_data& other) const;

 private:
  bool _null = true;
  std::vector<records_segment> _segments;
};

// Bytes of an encoded message that live outside encoded_message::bytes.
struct external_chunk {
  size_t offset = 0;  // the chunk goes before bytes[offset]
  records_segment source;
  size_t size() const;
};

// An encoded message: `bytes` with `externals` spliced in at their offsets (ascending, ties in
// order). The server writes it with writev/sendfile; flatten() makes one buffer of it.
struct encoded_message {
  std::vector<uint8_t> bytes;
  std::vector<external_chunk> externals;

  size_t total_size() const;
  // One contiguous copy. File ranges are read with pread(2): this is for tests and for TLS
  // listeners, which cannot use sendfile.
  result<std::vector<uint8_t>, codec_error> flatten() const;
};

class reader {
 public:
  // `data` must outlive the reader and every records_data decoded from it. `base_offset` is added
  // to the offsets in errors (for a reader over part of a larger buffer).
  explicit reader(std::span<const uint8_t> data, size_t base_offset = 0)
      : _data(data), _base(base_offset) {}

  bool ok() const { return !_failed; }
  const codec_error& error() const { return _error; }
  codec_result status() const;
  size_t offset() const { return _base + _pos; }
  size_t remaining() const { return _failed ? 0 : _data.size() - _pos; }
  // Records the first error (at the current offset); later reads yield zeros.
  void fail(std::string message);
  void fail(const codec_error& error);

  void read(bool& out);
  void read(int8_t& out);
  void read(int16_t& out);
  void read(uint16_t& out);
  void read(int32_t& out);
  void read(int64_t& out);
  void read(double& out);
  void read(model::uuid& out);
  uint32_t read_uvarint();
  int32_t read_int32() {
    int32_t v = 0;
    read(v);
    return v;
  }

  // Strings and bytes: int16 (string) / int32 (bytes) length in non-flexible versions, compact
  // (unsigned varint length + 1, 0 = null) in flexible ones. A null where `nullable` is false, or
  // into a non-optional value, is an error.
  void read(std::string& out, bool flexible);
  void read(std::optional<std::string>& out, bool flexible, bool nullable);
  void read(std::vector<uint8_t>& out, bool flexible);
  void read(std::optional<std::vector<uint8_t>>& out, bool flexible, bool nullable);
  void read(records_data& out, bool flexible, bool nullable);
  std::span<const uint8_t> read_raw(size_t size);

  // An array length: -1 for null (only when `nullable`), else a count whose elements need at least
  // `element_size_min` bytes each and therefore fit in the remaining bytes. 0 after an error.
  int32_t read_array_length(bool flexible, bool nullable, size_t element_size_min);

  template <typename T>
  void read_array(std::vector<T>& out, bool flexible);
  template <typename T>
  void read_array(std::optional<std::vector<T>>& out, bool flexible, bool nullable);
  // Arrays of generated structs, each read with T::read(reader&, version).
  template <typename T>
  void read_structs(std::vector<T>& out, bool flexible, int16_t version);
  template <typename T>
  void read_structs(std::optional<std::vector<T>>& out, bool flexible, bool nullable,
                    int16_t version);
  // A nullable struct field: int8 -1 for null, 1 followed by the struct otherwise.
  template <typename T>
  void read_struct(std::optional<T>& out, bool nullable, int16_t version);

  // A tagged-field section. `known(reader& field, uint32_t tag)` reads a tag this struct knows at
  // this version from a reader bounded to the field's bytes and returns true, or returns false and
  // the field is kept in `unknown`.
  template <typename F>
  void read_tagged_fields(tagged_fields& unknown, F&& known);
  void read_tagged_fields(tagged_fields& unknown);

 private:
  using known_tag_fn = bool (*)(void* context, reader& field, uint32_t tag);
  void read_tagged_fields_impl(tagged_fields& unknown, known_tag_fn known, void* context);
  template <typename T>
  void read_element(T& out, bool flexible);
  bool need(size_t size);

  std::span<const uint8_t> _data;
  size_t _pos = 0;
  size_t _base = 0;
  bool _failed = false;
  codec_error _error;
};

class writer {
 public:
  writer() = default;

  bool ok() const { return !_failed; }
  const codec_error& error() const { return _error; }
  codec_result status() const;
  // Bytes written so far, external chunks included.
  size_t size() const { return _bytes.size() + _external_size; }
  void fail(std::string message);
  // An encode error for a field that has a value the version cannot carry.
  void fail_absent(std::string_view field, int16_t version);
  void fail_null(std::string_view field, int16_t version);

  void write(bool v) { write(static_cast<int8_t>(v ? 1 : 0)); }
  void write(int8_t v) { _bytes.push_back(static_cast<uint8_t>(v)); }
  void write(int16_t v);
  void write(uint16_t v);
  void write(int32_t v);
  void write(int64_t v);
  void write(double v);
  void write(const model::uuid& v);
  void write_uvarint(uint32_t v);
  void write_raw(std::span<const uint8_t> bytes);
  // Overwrites 4 bytes at `offset` of the in-memory buffer (frame sizes).
  void patch_int32(size_t offset, int32_t v);

  void write(std::string_view v, bool flexible);
  void write(const std::optional<std::string>& v, bool flexible, bool nullable);
  void write(std::span<const uint8_t> v, bool flexible);
  void write(const std::optional<std::vector<uint8_t>>& v, bool flexible, bool nullable);
  void write(const records_data& v, bool flexible, bool nullable);
  // Writes the length of an array of `count` elements, or null (-1 / 0) when `is_null`.
  void write_array_length(size_t count, bool is_null, bool flexible);

  template <typename T>
  void write_array(const std::vector<T>& v, bool flexible);
  template <typename T>
  void write_array(const std::optional<std::vector<T>>& v, bool flexible, bool nullable);
  template <typename T>
  void write_structs(const std::vector<T>& v, bool flexible, int16_t version);
  template <typename T>
  void write_structs(const std::optional<std::vector<T>>& v, bool flexible, bool nullable,
                     int16_t version);
  template <typename T>
  void write_struct(const std::optional<T>& v, bool nullable, int16_t version);

  // A tagged-field section with only the given (unknown) fields.
  void write_tagged_fields(const tagged_fields& fields);

  // Appends everything `other` wrote (bytes and external chunks) and its error, if any.
  void append(writer&& other);

  encoded_message finish() &&;
  const std::vector<uint8_t>& bytes() const { return _bytes; }

 private:
  template <typename T>
  void write_element(const T& v, bool flexible);
  void add_external(records_segment segment, size_t size);

  std::vector<uint8_t> _bytes;
  std::vector<external_chunk> _externals;
  size_t _external_size = 0;
  bool _failed = false;
  codec_error _error;
};

// Writes a tagged-field section: the known fields the caller passes through field(), in ascending
// tag order, merged with the unknown ones kept from decoding.
class tagged_field_writer {
 public:
  // `known_count`: how many field() calls follow.
  tagged_field_writer(writer& w, const tagged_fields& unknown, size_t known_count);
  // A field known at this version; when `present`, `write_value(writer&)` encodes its value
  // (the size is written before it). Call for known fields that are not written too: an unknown
  // field with the same tag is then an error rather than a duplicate.
  template <typename F>
  void field(uint32_t tag, bool present, F&& write_value);
  // Writes the unknown fields above the last known tag; call once at the end.
  void finish();

 private:
  void unknown_below(uint32_t tag);
  void emit(uint32_t tag, writer&& value);

  writer& _w;
  const tagged_fields& _unknown;
  size_t _next_unknown = 0;
  int64_t _last_tag = -1;
};

// The error for a version outside a message's served range.
codec_error unsupported_version(std::string_view message, int16_t version, size_t offset);

// The bodies of the generated messages' decode() and encode().
template <typename T>
codec_result decode_body(T& m, reader& r, int16_t version) {
  if (version < T::min_version || version > T::max_version) {
    return failure(unsupported_version(T::api_name, version, r.offset()));
  }
  m.read(r, version);
  return r.status();
}

template <typename T>
codec_result encode_body(const T& m, writer& w, int16_t version) {
  if (version < T::min_version || version > T::max_version) {
    return failure(unsupported_version(T::api_name, version, w.size()));
  }
  m.write(w, version);
  return w.status();
}

// Reads a whole message (generated type) from `data` at `version`; trailing bytes are an error.
template <typename T>
codec_result decode_message(T& out, std::span<const uint8_t> data, int16_t version) {
  reader r(data);
  auto status = out.decode(r, version);
  if (!status) return status;
  if (r.remaining() != 0) return failure(codec_error{"trailing bytes after message", r.offset()});
  return {};
}

// ---------------------------------------------------------------------------------------------
// Template definitions.

template <typename T>
void reader::read_element(T& out, bool flexible) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<uint8_t>>) {
    read(out, flexible);
  } else {
    read(out);
  }
}

// The smallest encoding of one array element of type T, used to bound an array's length.
template <typename T>
constexpr size_t wire_size_min() {
  if constexpr (std::is_same_v<T, std::string>) {
    return 1;  // a compact empty string; the int16 form needs 2
  } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
    return 1;
  } else if constexpr (std::is_same_v<T, model::uuid>) {
    return 16;
  } else if constexpr (std::is_same_v<T, bool>) {
    return 1;
  } else {
    static_assert(std::is_arithmetic_v<T>);
    return sizeof(T);
  }
}

// Growth of decoded arrays is paced by the bytes actually consumed: reserving is capped so that a
// length near the remaining byte count cannot multiply into sizeof(T) times the frame.
inline constexpr size_t array_reserve_max = 1024;

template <typename T>
void reader::read_array(std::vector<T>& out, bool flexible) {
  out.clear();
  const int32_t n = read_array_length(flexible, false, wire_size_min<T>());
  out.reserve(std::min<size_t>(n > 0 ? n : 0, array_reserve_max));
  for (int32_t i = 0; i < n && ok(); ++i) read_element(out.emplace_back(), flexible);
}

template <typename T>
void reader::read_array(std::optional<std::vector<T>>& out, bool flexible, bool nullable) {
  const int32_t n = read_array_length(flexible, nullable, wire_size_min<T>());
  if (n < 0) {
    out.reset();
    return;
  }
  auto& v = out.emplace();
  v.reserve(std::min<size_t>(n, array_reserve_max));
  for (int32_t i = 0; i < n && ok(); ++i) read_element(v.emplace_back(), flexible);
}

template <typename T>
void reader::read_structs(std::vector<T>& out, bool flexible, int16_t version) {
  out.clear();
  const int32_t n = read_array_length(flexible, false, 1);
  out.reserve(std::min<size_t>(n > 0 ? n : 0, array_reserve_max));
  for (int32_t i = 0; i < n && ok(); ++i) out.emplace_back().read(*this, version);
}

template <typename T>
void reader::read_structs(std::optional<std::vector<T>>& out, bool flexible, bool nullable,
                          int16_t version) {
  const int32_t n = read_array_length(flexible, nullable, 1);
  if (n < 0) {
    out.reset();
    return;
  }
  auto& v = out.emplace();
  v.reserve(std::min<size_t>(n, array_reserve_max));
  for (int32_t i = 0; i < n && ok(); ++i) v.emplace_back().read(*this, version);
}

template <typename T>
void reader::read_struct(std::optional<T>& out, bool nullable, int16_t version) {
  int8_t marker = 0;
  read(marker);
  if (!ok()) return;
  if (marker < 0) {
    if (!nullable) return fail("null struct in a version where it is not nullable");
    out.reset();
    return;
  }
  out.emplace().read(*this, version);
}

template <typename F>
void reader::read_tagged_fields(tagged_fields& unknown, F&& known) {
  read_tagged_fields_impl(
      unknown,
      [](void* context, reader& field, uint32_t tag) {
        return (*static_cast<std::remove_reference_t<F>*>(context))(field, tag);
      },
      &known);
}

template <typename T>
void writer::write_element(const T& v, bool flexible) {
  if constexpr (std::is_same_v<T, std::string>) {
    write(std::string_view(v), flexible);
  } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
    write(std::span<const uint8_t>(v), flexible);
  } else {
    write(v);
  }
}

template <typename T>
void writer::write_array(const std::vector<T>& v, bool flexible) {
  write_array_length(v.size(), false, flexible);
  for (const auto& e : v) write_element(e, flexible);
}

template <typename T>
void writer::write_array(const std::optional<std::vector<T>>& v, bool flexible, bool nullable) {
  if (!v && !nullable) return fail("null array in a version where it is not nullable");
  write_array_length(v ? v->size() : 0, !v, flexible);
  if (v) {
    for (const auto& e : *v) write_element(e, flexible);
  }
}

template <typename T>
void writer::write_structs(const std::vector<T>& v, bool flexible, int16_t version) {
  write_array_length(v.size(), false, flexible);
  for (const auto& e : v) e.write(*this, version);
}

template <typename T>
void writer::write_structs(const std::optional<std::vector<T>>& v, bool flexible, bool nullable,
                           int16_t version) {
  if (!v && !nullable) return fail("null array in a version where it is not nullable");
  write_array_length(v ? v->size() : 0, !v, flexible);
  if (v) {
    for (const auto& e : *v) e.write(*this, version);
  }
}

template <typename T>
void writer::write_struct(const std::optional<T>& v, bool nullable, int16_t version) {
  if (!v && !nullable) return fail("null struct in a version where it is not nullable");
  write(static_cast<int8_t>(v ? 1 : -1));
  if (v) v->write(*this, version);
}

template <typename F>
void tagged_field_writer::field(uint32_t tag, bool present, F&& write_value) {
  unknown_below(tag);
  if (!present) return;
  writer value;
  write_value(value);
  emit(tag, std::move(value));
}

}  // namespace sluice::protocol
