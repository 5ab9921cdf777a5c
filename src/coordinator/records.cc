#include "coordinator/records.h"

#include "protocol/wire.h"

namespace sluice::coordinator {

namespace {

bytes finish(protocol::writer& w) {
  return w.bytes();  // no external chunks: plain fields only
}

}  // namespace

bytes encode_key(const offset_key& key) {
  protocol::writer w;
  w.write(offset_key_version);
  w.write(std::string_view(key.group), false);
  w.write(std::string_view(key.topic), false);
  w.write(key.partition);
  return finish(w);
}

bytes encode_key(const group_key& key) {
  protocol::writer w;
  w.write(group_key_version);
  w.write(std::string_view(key.group), false);
  return finish(w);
}

bytes encode_value(const offset_value& value) {
  protocol::writer w;
  if (value.expire_timestamp_ms >= 0) {
    // Version 1 is the only one with an expire timestamp (and without a leader epoch).
    w.write(int16_t{1});
    w.write(value.offset);
    w.write(std::string_view(value.metadata), false);
    w.write(value.commit_timestamp_ms);
    w.write(value.expire_timestamp_ms);
    return finish(w);
  }
  w.write(offset_value_version);
  w.write(value.offset);
  w.write(value.leader_epoch);
  w.write(std::string_view(value.metadata), false);
  w.write(value.commit_timestamp_ms);
  return finish(w);
}

bytes encode_value(const group_value& value) {
  protocol::writer w;
  w.write(group_value_version);
  w.write(std::string_view(value.protocol_type), false);
  w.write(value.generation);
  w.write(value.protocol, false, true);
  w.write(value.leader, false, true);
  w.write(value.current_state_timestamp_ms);
  w.write_array_length(value.members.size(), false, false);
  for (const auto& m : value.members) {
    w.write(std::string_view(m.member_id), false);
    w.write(m.group_instance_id, false, true);
    w.write(std::string_view(m.client_id), false);
    w.write(std::string_view(m.client_host), false);
    w.write(m.rebalance_timeout_ms);
    w.write(m.session_timeout_ms);
    w.write(std::span<const uint8_t>(m.subscription), false);
    w.write(std::span<const uint8_t>(m.assignment), false);
  }
  return finish(w);
}

std::optional<any_key> decode_key(std::span<const uint8_t> data) {
  protocol::reader r(data);
  int16_t version = 0;
  r.read(version);
  if (!r.ok()) return std::nullopt;
  if (version == 0 || version == 1) {
    offset_key key;
    r.read(key.group, false);
    r.read(key.topic, false);
    r.read(key.partition);
    if (!r.ok() || r.remaining() != 0) return std::nullopt;
    return any_key(std::move(key));
  }
  if (version == 2) {
    group_key key;
    r.read(key.group, false);
    if (!r.ok() || r.remaining() != 0) return std::nullopt;
    return any_key(std::move(key));
  }
  return any_key(std::monostate{});
}

std::optional<offset_value> decode_offset_value(std::span<const uint8_t> data) {
  protocol::reader r(data);
  int16_t version = 0;
  r.read(version);
  if (!r.ok() || version < 0 || version > 4) return std::nullopt;
  const bool flexible = version >= 4;
  offset_value v;
  r.read(v.offset);
  if (version >= 3) r.read(v.leader_epoch);
  r.read(v.metadata, flexible);
  r.read(v.commit_timestamp_ms);
  if (version == 1) r.read(v.expire_timestamp_ms);
  if (flexible) {
    protocol::tagged_fields ignored;
    r.read_tagged_fields(ignored);
  }
  if (!r.ok()) return std::nullopt;
  return v;
}

std::optional<group_value> decode_group_value(std::span<const uint8_t> data) {
  protocol::reader r(data);
  int16_t version = 0;
  r.read(version);
  if (!r.ok() || version < 0 || version > 4) return std::nullopt;
  const bool flexible = version >= 4;
  group_value v;
  r.read(v.protocol_type, flexible);
  r.read(v.generation);
  r.read(v.protocol, flexible, true);
  r.read(v.leader, flexible, true);
  if (version >= 2) r.read(v.current_state_timestamp_ms);
  // Smallest member: two int16/varint-prefixed empty strings, two more, timeouts, two bytes.
  int32_t count = r.read_array_length(flexible, false, 12);
  for (int32_t i = 0; i < count && r.ok(); ++i) {
    member_value m;
    r.read(m.member_id, flexible);
    if (version >= 3) r.read(m.group_instance_id, flexible, true);
    r.read(m.client_id, flexible);
    r.read(m.client_host, flexible);
    if (version >= 1) r.read(m.rebalance_timeout_ms);
    r.read(m.session_timeout_ms);
    r.read(m.subscription, flexible);
    r.read(m.assignment, flexible);
    if (flexible) {
      protocol::tagged_fields ignored;
      r.read_tagged_fields(ignored);
    }
    if (version < 1) m.rebalance_timeout_ms = m.session_timeout_ms;
    v.members.push_back(std::move(m));
  }
  if (flexible) {
    protocol::tagged_fields ignored;
    r.read_tagged_fields(ignored);
  }
  if (!r.ok()) return std::nullopt;
  return v;
}

}  // namespace sluice::coordinator
