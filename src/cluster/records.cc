#include "cluster/records.h"

#include <fmt/format.h>

#include "protocol/batch_builder.h"
#include "protocol/big_endian.h"
#include "protocol/record_batch.h"
#include "protocol/varint.h"

namespace sluice::cluster {

namespace {

// The value encoding (docs/format/metadata-log.md, "Values"): counts and lengths are unsigned
// varints, int32 fields zigzag varints, uuids 16 raw bytes, the resource type one byte.
class value_writer {
 public:
  void u32(uint32_t v) { protocol::append_unsigned_varint(_out, v); }
  void i32(int32_t v) { protocol::append_varint(_out, v); }
  void i64(int64_t v) { protocol::append_varlong(_out, v); }
  void i8(int8_t v) { _out.push_back(static_cast<uint8_t>(v)); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    _out.insert(_out.end(), s.begin(), s.end());
  }
  void id(const model::uuid& u) { _out.insert(_out.end(), u.bytes.begin(), u.bytes.end()); }
  void nodes(const std::vector<model::node_id>& ids) {
    u32(static_cast<uint32_t>(ids.size()));
    for (auto n : ids) i32(n.value());
  }
  void partitions(const std::vector<partition_record>& parts) {
    u32(static_cast<uint32_t>(parts.size()));
    for (const auto& p : parts) {
      i32(p.partition.value());
      nodes(p.replicas);
      nodes(p.isr);
      i32(p.leader.value());
      i32(p.leader_epoch.value());
    }
  }
  std::vector<uint8_t> take() { return std::move(_out); }

 private:
  std::vector<uint8_t> _out;
};

// Reads the encoding back. Every count is checked against the bytes that remain before anything
// is allocated (each element takes at least one byte), so a damaged count cannot allocate much.
class value_reader {
 public:
  explicit value_reader(std::span<const uint8_t> in) : _in(in) {}

  bool failed() const { return _failed; }
  bool at_end() const { return _in.empty(); }

  uint32_t u32() {
    auto r = protocol::read_unsigned_varint(_in);
    if (!r) return fail<uint32_t>();
    _in = _in.subspan(r->size_bytes);
    return r->value;
  }
  int32_t i32() {
    auto r = protocol::read_varint(_in);
    if (!r) return fail<int32_t>();
    _in = _in.subspan(r->size_bytes);
    return r->value;
  }
  int64_t i64() {
    auto r = protocol::read_varlong(_in);
    if (!r) return fail<int64_t>();
    _in = _in.subspan(r->size_bytes);
    return r->value;
  }
  int8_t i8() {
    if (_in.empty()) return fail<int8_t>();
    auto v = static_cast<int8_t>(_in[0]);
    _in = _in.subspan(1);
    return v;
  }
  std::string str() {
    uint32_t n = u32();
    if (_failed || n > _in.size()) return fail<std::string>();
    std::string s(reinterpret_cast<const char*>(_in.data()), n);
    _in = _in.subspan(n);
    return s;
  }
  model::uuid id() {
    model::uuid u;
    if (_in.size() < u.bytes.size()) return fail<model::uuid>();
    std::copy_n(_in.begin(), u.bytes.size(), u.bytes.begin());
    _in = _in.subspan(u.bytes.size());
    return u;
  }
  std::vector<model::node_id> nodes() {
    std::vector<model::node_id> out;
    uint32_t n = count();
    for (uint32_t i = 0; i < n && !_failed; ++i) out.emplace_back(i32());
    return out;
  }
  std::vector<partition_record> partitions() {
    std::vector<partition_record> out;
    uint32_t n = count();
    for (uint32_t i = 0; i < n && !_failed; ++i) {
      partition_record p;
      p.partition = model::partition_id(i32());
      p.replicas = nodes();
      p.isr = nodes();
      p.leader = model::node_id(i32());
      p.leader_epoch = model::leader_epoch(i32());
      out.push_back(std::move(p));
    }
    return out;
  }

 private:
  uint32_t count() {
    uint32_t n = u32();
    if (n > _in.size()) return fail<uint32_t>();
    return n;
  }
  template <typename T>
  T fail() {
    _failed = true;
    _in = {};
    return T{};
  }

  std::span<const uint8_t> _in;
  bool _failed = false;
};

struct value_encoder {
  value_writer& w;
  void operator()(const topic_record& r) const {
    w.str(r.name);
    w.id(r.topic_id);
    w.partitions(r.partitions);
  }
  void operator()(const partitions_added_record& r) const {
    w.id(r.topic_id);
    w.partitions(r.partitions);
  }
  void operator()(const topic_deleted_record& r) const {
    w.id(r.topic_id);
    w.str(r.name);
  }
  void operator()(const config_set_record& r) const {
    w.i8(static_cast<int8_t>(r.resource_type));
    w.str(r.resource_name);
    w.str(r.key);
    w.str(r.value);
  }
  void operator()(const config_removed_record& r) const {
    w.i8(static_cast<int8_t>(r.resource_type));
    w.str(r.resource_name);
    w.str(r.key);
  }
  void operator()(const producer_ids_record& r) const {
    w.i32(r.node.value());
    w.i64(r.next_producer_id);
  }
};

cresult<config_resource_type> resource_type_of(int8_t raw) {
  if (raw == static_cast<int8_t>(config_resource_type::topic)) return config_resource_type::topic;
  if (raw == static_cast<int8_t>(config_resource_type::broker)) return config_resource_type::broker;
  return make_failure(errc::log_corrupt, fmt::format("unknown config resource type {}", raw));
}

cresult<metadata_record> decode_value(record_type type, value_reader& r) {
  switch (type) {
    case record_type::topic: {
      topic_record t;
      t.name = r.str();
      t.topic_id = r.id();
      t.partitions = r.partitions();
      return metadata_record(std::move(t));
    }
    case record_type::partitions_added: {
      partitions_added_record p;
      p.topic_id = r.id();
      p.partitions = r.partitions();
      return metadata_record(std::move(p));
    }
    case record_type::topic_deleted: {
      topic_deleted_record d;
      d.topic_id = r.id();
      d.name = r.str();
      return metadata_record(std::move(d));
    }
    case record_type::producer_ids: {
      producer_ids_record p;
      p.node = model::node_id(r.i32());
      p.next_producer_id = r.i64();
      return metadata_record(p);
    }
    case record_type::config_set:
    case record_type::config_removed:
      break;
  }
  auto resource = resource_type_of(r.i8());
  if (!resource) return failure(resource.error());
  std::string name = r.str();
  std::string key = r.str();
  if (type == record_type::config_set) {
    std::string value = r.str();
    return metadata_record(
        config_set_record{*resource, std::move(name), std::move(key), std::move(value)});
  }
  return metadata_record(config_removed_record{*resource, std::move(name), std::move(key)});
}

}  // namespace

record_type type_of(const metadata_record& record) {
  static_assert(std::variant_size_v<metadata_record> == 6, "add the new record type here");
  constexpr record_type types[] = {record_type::topic,          record_type::partitions_added,
                                   record_type::topic_deleted,  record_type::config_set,
                                   record_type::config_removed, record_type::producer_ids};
  return types[record.index()];
}

std::vector<uint8_t> encode_key(const metadata_record& record) {
  std::vector<uint8_t> key(4);
  protocol::store_big_endian<int16_t>(key.data(), static_cast<int16_t>(type_of(record)));
  protocol::store_big_endian<int16_t>(key.data() + 2, record_version_current);
  return key;
}

std::vector<uint8_t> encode_value(const metadata_record& record) {
  value_writer w;
  std::visit(value_encoder{w}, record);
  return w.take();
}

cresult<metadata_record> decode_record(std::span<const uint8_t> key,
                                       std::span<const uint8_t> value) {
  if (key.size() != 4) {
    return make_failure(errc::log_corrupt,
                        fmt::format("metadata record key of {} bytes, expected 4", key.size()));
  }
  auto raw_type = protocol::load_big_endian<int16_t>(key.data());
  auto version = protocol::load_big_endian<int16_t>(key.data() + 2);
  if (raw_type < static_cast<int16_t>(record_type::topic) ||
      raw_type > static_cast<int16_t>(record_type::producer_ids)) {
    return make_failure(errc::log_corrupt,
                        fmt::format("unknown metadata record type {}", raw_type));
  }
  if (version < 0 || version > record_version_current) {
    return make_failure(errc::log_corrupt,
                        fmt::format("metadata record type {} has version {}; this build reads "
                                    "up to {} (was the log written by a newer Sluice?)",
                                    raw_type, version, record_version_current));
  }
  value_reader r(value);
  auto decoded = decode_value(static_cast<record_type>(raw_type), r);
  if (!decoded) return decoded;
  if (r.failed() || !r.at_end()) {
    return make_failure(errc::log_corrupt,
                        fmt::format("metadata record type {}: value of {} bytes does not decode",
                                    raw_type, value.size()));
  }
  return decoded;
}

std::vector<uint8_t> encode_batch(model::offset base, std::span<const metadata_record> records,
                                  int64_t timestamp_ms) {
  SLUICE_ASSERT(!records.empty(), "a metadata batch needs at least one record");
  protocol::batch_builder builder;
  builder.base_offset(base.value());
  // Epoch 0, as the storage log stamps on append: on a single node there is one leader for good,
  // and recovery rejects a batch whose epoch goes back.
  builder.partition_leader_epoch(0);
  for (const auto& record : records) {
    auto key = encode_key(record);
    auto value = encode_value(record);
    builder.add(timestamp_ms, std::span<const uint8_t>(key), std::span<const uint8_t>(value));
  }
  auto batch = builder.build();
  SLUICE_ASSERT(batch.size() <= metadata_batch_bytes_max,
                "metadata batch of {} bytes exceeds the bound {}", batch.size(),
                metadata_batch_bytes_max);
  return batch;
}

cresult<std::vector<logged_record>> decode_batch(std::span<const uint8_t> batch) {
  auto parsed = protocol::read_records(batch, metadata_batch_bytes_max);
  if (!parsed) {
    return make_failure(errc::log_corrupt,
                        fmt::format("metadata batch does not parse: {}", parsed.error().message));
  }
  std::vector<logged_record> out;
  out.reserve(parsed->records.size());  // bounded: the records were parsed already
  for (const auto& rec : parsed->records) {
    if (!rec.key || !rec.value)
      return make_failure(errc::log_corrupt, "metadata record with a null key or value");
    auto decoded = decode_record(*rec.key, *rec.value);
    if (!decoded) return failure(decoded.error());
    out.push_back(logged_record{model::offset(parsed->header.base_offset + rec.offset_delta),
                                std::move(*decoded)});
  }
  return out;
}

}  // namespace sluice::cluster
