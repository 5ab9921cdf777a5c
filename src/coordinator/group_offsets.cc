// Committed offsets, group deletion, listing, loading and retention (group_manager.h).

#include <algorithm>

#include "base/logging.h"
#include "coordinator/group_manager.h"
#include "protocol/wire.h"

namespace sluice::coordinator {

namespace {

constexpr std::string_view consumer_protocol_type = "consumer";

// The topics of a ConsumerProtocolSubscription (every version starts with int16 version and
// an array of int16-length strings); nullopt when the bytes are not one.
std::optional<std::set<std::string>> subscribed_topics(const bytes& metadata) {
  std::set<std::string> topics;
  protocol::reader r(metadata);
  int16_t version = 0;
  r.read(version);
  int32_t count = r.read_array_length(false, false, 2);
  for (int32_t i = 0; i < count && r.ok(); ++i) {
    std::string topic;
    r.read(topic, false);
    if (r.ok()) topics.insert(std::move(topic));
  }
  if (!r.ok()) return std::nullopt;
  return topics;
}

// The topics the members of a consumer group subscribe to; nullopt when they are not known
// (not a consumer group, no protocol chosen, or a subscription that does not decode), as
// Kafka's GroupMetadata.subscribedTopics.
std::optional<std::set<std::string>> group_subscriptions(const group& g) {
  if (g.protocol_type != consumer_protocol_type || !g.protocol) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& [id, m] : g.members) {
    const bytes* metadata = m.metadata_for(*g.protocol);
    if (!metadata) return std::nullopt;
    auto member_topics = subscribed_topics(*metadata);
    if (!member_topics) return std::nullopt;
    topics.merge(*member_topics);
  }
  return topics;
}

record_entry offset_record(const std::string& group_id, const std::string& topic, int32_t partition,
                           const offset_value* value) {
  record_entry r;
  r.key = encode_key(offset_key{group_id, topic, partition});
  if (value) r.value = encode_value(*value);
  return r;
}

}  // namespace

bool group_manager::persist_group(const group& g) {
  group_value v;
  v.protocol_type = g.protocol_type;
  v.generation = g.generation;
  v.protocol = g.protocol;
  v.leader = g.leader;
  v.current_state_timestamp_ms = g.state_timestamp_ms;
  for (const auto& [id, m] : g.members) {
    member_value mv;
    mv.member_id = id;
    mv.group_instance_id = m.instance_id;
    mv.client_id = m.client_id;
    mv.client_host = m.client_host;
    mv.rebalance_timeout_ms = m.rebalance_timeout_ms;
    mv.session_timeout_ms = m.session_timeout_ms;
    if (const bytes* metadata = g.protocol ? m.metadata_for(*g.protocol) : nullptr)
      mv.subscription = *metadata;
    mv.assignment = m.assignment;
    v.members.push_back(std::move(mv));
  }
  std::vector<record_entry> records;
  records.push_back({encode_key(group_key{g.id}), encode_value(v)});
  return _sink(std::move(records));
}

errc group_manager::validate_commit(const commit_request& req) {
  if (req.group_id.empty()) return errc::invalid_group_id;
  auto it = _groups.find(req.group_id);
  // Without a generation the commit comes from a consumer that assigns partitions itself (or
  // an admin client): allowed while no member is in the group.
  if (it == _groups.end()) return req.generation < 0 ? errc::none : errc::illegal_generation;
  const group& g = it->second;
  if (req.generation < 0 && g.is(group_state::empty)) return errc::none;
  if (req.group_instance_id) {
    auto s = g.static_members.find(*req.group_instance_id);
    if (s != g.static_members.end() && s->second != req.member_id) return errc::fenced_instance_id;
  }
  auto m = g.members.find(req.member_id);
  if (m == g.members.end() || g.is(group_state::empty)) return errc::unknown_member_id;
  if (req.generation != g.generation) return errc::illegal_generation;
  if (g.is(group_state::completing_rebalance)) return errc::rebalance_in_progress;
  return errc::none;
}

std::vector<errc> group_manager::commit(const commit_request& req) {
  const int64_t now = _clock();
  std::vector<errc> results;
  std::vector<record_entry> records;
  std::vector<std::pair<size_t, offset_value>> accepted;
  for (size_t i = 0; i < req.partitions.size(); ++i) {
    const auto& p = req.partitions[i];
    std::string metadata = p.metadata.value_or("");
    if (metadata.size() > static_cast<size_t>(_settings.offset_metadata_max_bytes)) {
      results.push_back(errc::offset_metadata_too_large);
      continue;
    }
    const int64_t expire = req.retention_time_ms >= 0 ? now + req.retention_time_ms : -1;
    offset_value v{p.offset, p.leader_epoch, std::move(metadata), now, expire};
    records.push_back(offset_record(req.group_id, p.topic, p.partition, &v));
    accepted.emplace_back(i, std::move(v));
    results.push_back(errc::none);
  }
  if (records.empty()) return results;
  if (!_sink(std::move(records))) {
    for (auto& [i, v] : accepted) results[i] = errc::coordinator_not_available;
    return results;
  }
  auto it = _groups.find(req.group_id);
  if (it == _groups.end()) {
    group g;
    g.id = req.group_id;
    g.state_timestamp_ms = now;
    it = _groups.emplace(req.group_id, std::move(g)).first;
  }
  group& g = it->second;
  for (auto& [i, v] : accepted) {
    const auto& p = req.partitions[i];
    g.offsets[{p.topic, p.partition}] = std::move(v);
  }
  if (auto m = g.members.find(req.member_id); m != g.members.end())
    m->second.last_heartbeat_ms = now;
  return results;
}

std::vector<fetched_offset> group_manager::fetch(
    const std::string& group_id,
    const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions) const {
  std::vector<fetched_offset> out;
  const group* g = find(group_id);
  if (!partitions) {
    if (!g) return out;
    for (const auto& [tp, v] : g->offsets)
      out.push_back({tp.first, tp.second, v.offset, v.leader_epoch, v.metadata});
    return out;
  }
  for (const auto& [topic, partition] : *partitions) {
    fetched_offset f{topic, partition, -1, -1, ""};
    if (g) {
      if (auto it = g->offsets.find({topic, partition}); it != g->offsets.end()) {
        f.offset = it->second.offset;
        f.leader_epoch = it->second.leader_epoch;
        f.metadata = it->second.metadata;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

errc group_manager::validate_offset_delete(const std::string& group_id) const {
  if (group_id.empty()) return errc::invalid_group_id;
  const group* g = find(group_id);
  if (!g) return errc::group_id_not_found;
  if (!g->is(group_state::empty) && g->protocol_type != consumer_protocol_type)
    return errc::non_empty_group;
  return errc::none;
}

std::vector<errc> group_manager::delete_offsets(
    const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& partitions) {
  std::vector<errc> results;
  auto it = _groups.find(group_id);
  if (it == _groups.end()) return std::vector<errc>(partitions.size(), errc::group_id_not_found);
  group& g = it->second;
  // As Kafka: a topic counts as subscribed only when the subscriptions are known.
  const auto subscribed = g.is(group_state::empty)
                              ? std::set<std::string>{}
                              : group_subscriptions(g).value_or(std::set<std::string>{});
  std::vector<record_entry> records;
  std::vector<std::pair<std::string, int32_t>> deleted;
  for (const auto& tp : partitions) {
    if (subscribed.contains(tp.first)) {
      results.push_back(errc::group_subscribed_to_topic);
      continue;
    }
    results.push_back(errc::none);
    if (g.offsets.contains(tp)) {
      records.push_back(offset_record(group_id, tp.first, tp.second, nullptr));
      deleted.push_back(tp);
    }
  }
  if (records.empty()) return results;
  if (!_sink(std::move(records))) {
    for (auto& r : results)
      if (r == errc::none) r = errc::coordinator_not_available;
    return results;
  }
  for (const auto& tp : deleted) g.offsets.erase(tp);
  return results;
}

errc group_manager::delete_group(const std::string& group_id) {
  if (group_id.empty()) return errc::invalid_group_id;
  auto it = _groups.find(group_id);
  if (it == _groups.end()) return errc::group_id_not_found;
  group& g = it->second;
  if (!g.is(group_state::empty) || !g.pending_members.empty()) return errc::non_empty_group;
  std::vector<record_entry> records;
  for (const auto& [tp, v] : g.offsets)
    records.push_back(offset_record(group_id, tp.first, tp.second, nullptr));
  records.push_back({encode_key(group_key{group_id}), std::nullopt});
  if (!_sink(std::move(records))) return errc::coordinator_not_available;
  _groups.erase(it);
  return errc::none;
}

std::vector<listed_group> group_manager::list() const {
  std::vector<listed_group> out;
  for (const auto& [id, g] : _groups) out.push_back({id, g.protocol_type, g.state});
  return out;
}

described_group group_manager::describe(const std::string& group_id) const {
  described_group d;
  d.group_id = group_id;
  const group* g = find(group_id);
  if (!g) return d;
  d.found = true;
  d.state = g->state;
  d.protocol_type = g->protocol_type;
  // As Kafka: the protocol and the members' metadata and assignments only once Stable.
  const bool stable = g->is(group_state::stable);
  if (stable && g->protocol) d.protocol = *g->protocol;
  for (const auto& [id, m] : g->members) {
    described_member out{id, m.instance_id, m.client_id, m.client_host, {}, {}};
    if (stable) {
      if (const bytes* metadata = g->protocol ? m.metadata_for(*g->protocol) : nullptr)
        out.metadata = *metadata;
      out.assignment = m.assignment;
    }
    d.members.push_back(std::move(out));
  }
  return d;
}

void group_manager::maybe_drop_group(const std::string& group_id) {
  auto it = _groups.find(group_id);
  if (it == _groups.end()) return;
  const group& g = it->second;
  // A group that never completed a generation and holds nothing is not kept.
  if (g.members.empty() && g.pending_members.empty() && g.offsets.empty() && g.generation == 0)
    _groups.erase(it);
}

void group_manager::tick() {
  const int64_t now = _clock();
  std::vector<std::string> ids;
  for (const auto& [id, g] : _groups) ids.push_back(id);
  for (const auto& id : ids) {
    auto it = _groups.find(id);
    if (it != _groups.end()) expire(it->second, now);
    maybe_drop_group(id);
  }
  if (now - _last_retention_check_ms < _settings.retention_check_interval_ms) return;
  _last_retention_check_ms = now;
  for (const auto& id : ids) {
    auto it = _groups.find(id);
    if (it != _groups.end()) expire_offsets(it->second, now);
  }
}

int64_t group_manager::next_deadline_ms() const {
  int64_t next = _last_retention_check_ms + _settings.retention_check_interval_ms;
  for (const auto& [id, g] : _groups) {
    for (const auto& [member_id, deadline] : g.pending_members) next = std::min(next, deadline);
    for (const auto& [member_id, m] : g.members)
      if (!m.awaiting_join && !m.awaiting_sync)
        next = std::min(next, m.last_heartbeat_ms + m.session_timeout_ms);
    if (g.is(group_state::preparing_rebalance) || g.is(group_state::completing_rebalance))
      next = std::min(next, g.rebalance_deadline_ms);
  }
  return next;
}

void group_manager::expire_offsets(group& g, int64_t now) {
  const int64_t retention = _settings.offsets_retention_ms;
  std::vector<std::pair<std::string, int32_t>> expired;
  auto older = [&](int64_t base) { return base >= 0 && base + retention <= now; };
  const auto subscribed = group_subscriptions(g);
  for (const auto& [tp, v] : g.offsets) {
    // As Kafka (KIP-211): which offsets may expire, and from when, depends on the group. A
    // simple consumer's (no protocol type) from their commit; an empty group's from when it
    // became empty; a stable consumer group's (with known subscriptions) only for topics no
    // member subscribes to, from their commit; none while a rebalance is under way. An expire
    // timestamp (OffsetCommit v2-4 retention_time_ms) replaces the retention for the offsets that
    // may expire.
    std::optional<int64_t> base;
    if (g.protocol_type.empty()) {
      base = v.commit_timestamp_ms;
    } else if (g.is(group_state::empty)) {
      base = g.state_timestamp_ms >= 0 ? g.state_timestamp_ms : v.commit_timestamp_ms;
    } else if (g.is(group_state::stable) && subscribed && !subscribed->contains(tp.first)) {
      base = v.commit_timestamp_ms;
    }
    if (!base) continue;
    const bool expire = v.expire_timestamp_ms >= 0 ? v.expire_timestamp_ms <= now : older(*base);
    if (expire) expired.push_back(tp);
  }
  const bool drop_group =
      g.is(group_state::empty) && g.pending_members.empty() && expired.size() == g.offsets.size();
  if (expired.empty() && !(drop_group && g.generation > 0)) {
    if (drop_group && g.offsets.empty() && g.generation == 0) _groups.erase(g.id);
    return;
  }
  std::vector<record_entry> records;
  for (const auto& tp : expired)
    records.push_back(offset_record(g.id, tp.first, tp.second, nullptr));
  if (drop_group && g.generation > 0)
    records.push_back({encode_key(group_key{g.id}), std::nullopt});
  if (!_sink(std::move(records))) {
    logger("coordinator")->warn("group {}: could not expire offsets", g.id);
    return;
  }
  logger("coordinator")->info("group {}: {} committed offsets expired", g.id, expired.size());
  for (const auto& tp : expired) g.offsets.erase(tp);
  if (drop_group) _groups.erase(g.id);
}

void group_manager::replay(std::span<const uint8_t> key_bytes,
                           std::optional<std::span<const uint8_t>> value_bytes) {
  auto key = decode_key(key_bytes);
  if (!key) {
    ++_skipped;
    return;
  }
  if (auto* k = std::get_if<offset_key>(&*key)) {
    auto it = _groups.find(k->group);
    if (!value_bytes) {
      if (it != _groups.end()) it->second.offsets.erase({k->topic, k->partition});
      return;
    }
    auto v = decode_offset_value(*value_bytes);
    if (!v) {
      ++_skipped;
      return;
    }
    if (it == _groups.end()) {
      group g;
      g.id = k->group;
      it = _groups.emplace(k->group, std::move(g)).first;
    }
    it->second.offsets[{k->topic, k->partition}] = std::move(*v);
  } else if (auto* gk = std::get_if<group_key>(&*key)) {
    auto it = _groups.find(gk->group);
    if (!value_bytes) {
      if (it != _groups.end()) _groups.erase(it);
      return;
    }
    auto v = decode_group_value(*value_bytes);
    if (!v) {
      ++_skipped;
      return;
    }
    if (it == _groups.end()) it = _groups.emplace(gk->group, group{}).first;
    group& g = it->second;
    g.id = gk->group;
    g.protocol_type = v->protocol_type;
    g.generation = v->generation;
    g.protocol = v->protocol;
    g.leader = v->leader;
    g.state_timestamp_ms = v->current_state_timestamp_ms;
    g.members.clear();
    g.static_members.clear();
    for (auto& mv : v->members) {
      member m;
      m.id = mv.member_id;
      m.instance_id = mv.group_instance_id;
      m.client_id = mv.client_id;
      m.client_host = mv.client_host;
      m.session_timeout_ms = mv.session_timeout_ms;
      m.rebalance_timeout_ms = mv.rebalance_timeout_ms;
      m.protocol_type = g.protocol_type;
      if (g.protocol) m.protocols.push_back({*g.protocol, std::move(mv.subscription)});
      m.assignment = std::move(mv.assignment);
      m.synced = true;
      if (m.instance_id) g.static_members[*m.instance_id] = m.id;
      g.members.emplace(m.id, std::move(m));
    }
    g.state = g.members.empty() ? group_state::empty : group_state::stable;
  }
}

size_t group_manager::offset_count() const {
  size_t n = 0;
  for (const auto& [id, g] : _groups) n += g.offsets.size();
  return n;
}

void group_manager::finish_load() {
  const int64_t now = _clock();
  // As Kafka's load: a group known only from offsets that were all deleted is not there.
  std::erase_if(_groups, [](const auto& entry) {
    const group& g = entry.second;
    return g.members.empty() && g.offsets.empty() && g.generation == 0;
  });
  for (auto& [id, g] : _groups)
    for (auto& [mid, m] : g.members) m.last_heartbeat_ms = now;
  _last_retention_check_ms = now;
}

}  // namespace sluice::coordinator
