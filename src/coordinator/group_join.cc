// The join and sync phases of the classic rebalance protocol (group_manager.h).

#include <algorithm>

#include "base/logging.h"
#include "coordinator/group_manager.h"

namespace sluice::coordinator {

group_manager::group_manager(group_settings settings, std::function<int64_t()> clock,
                             record_sink sink, uint64_t seed)
    : _settings(settings), _clock(std::move(clock)), _sink(std::move(sink)), _random(seed) {
  _last_retention_check_ms = _clock();
}

const group* group_manager::find(const std::string& group_id) const {
  auto it = _groups.find(group_id);
  return it == _groups.end() ? nullptr : &it->second;
}

std::string group_manager::new_member_id(const std::string& prefix) {
  // Kafka's form: the client id (or group.instance.id) and a random UUID.
  uint64_t hi = _random(), lo = _random();
  return fmt::format("{}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", prefix, hi >> 32,
                     (hi >> 16) & 0xffff, (hi & 0x0fff) | 0x4000, ((lo >> 48) & 0x3fff) | 0x8000,
                     lo & 0xffffffffffffULL);
}

bool group_manager::protocols_compatible(const group& g, const join_request& req) const {
  if (req.protocol_type.empty() || req.protocols.empty()) return false;
  if (g.members.empty()) return true;
  if (g.protocol_type != req.protocol_type) return false;
  // A protocol every current member supports must be among the new member's.
  for (const auto& p : req.protocols) {
    bool all = std::all_of(g.members.begin(), g.members.end(), [&](const auto& entry) {
      return entry.second.metadata_for(p.name) != nullptr;
    });
    if (all) return true;
  }
  return false;
}

void group_manager::join(join_request req, join_callback done) {
  if (req.group_id.empty()) return done(join_result::failed(errc::invalid_group_id, req.member_id));
  if (req.session_timeout_ms < _settings.min_session_timeout_ms ||
      req.session_timeout_ms > _settings.max_session_timeout_ms)
    return done(join_result::failed(errc::invalid_session_timeout, req.member_id));
  if (req.rebalance_timeout_ms < 0) req.rebalance_timeout_ms = req.session_timeout_ms;  // v0
  auto it = _groups.find(req.group_id);
  if (it == _groups.end()) {
    if (!req.member_id.empty())
      return done(join_result::failed(errc::unknown_member_id, req.member_id));
    group g;
    g.id = req.group_id;
    g.state_timestamp_ms = _clock();
    it = _groups.emplace(req.group_id, std::move(g)).first;
  }
  group& g = it->second;
  if (!protocols_compatible(g, req)) {
    done(join_result::failed(errc::inconsistent_group_protocol, req.member_id));
  } else if (req.member_id.empty()) {
    if (req.group_instance_id && g.static_members.contains(*req.group_instance_id))
      join_static_replacement(g, req, done);
    else
      join_new_member(g, req, done);
  } else {
    join_known_member(g, req, done);
  }
  maybe_drop_group(req.group_id);
}

member& group_manager::add_member(group& g, const std::string& id, join_request& req,
                                  join_callback done) {
  member& m = g.members[id];
  m.id = id;
  m.instance_id = req.group_instance_id;
  if (m.instance_id) g.static_members[*m.instance_id] = id;
  update_member(m, req, std::move(done));
  if (!g.leader) g.leader = id;
  g.protocol_type = req.protocol_type;
  // A member added to an initial join phase extends it, within the rebalance timeout.
  if (g.is(group_state::preparing_rebalance) && g.initial_delay) {
    int64_t limit =
        g.rebalance_started_ms +
        std::max<int64_t>(g.rebalance_timeout_ms(), _settings.initial_rebalance_delay_ms);
    g.rebalance_deadline_ms = std::min(_clock() + _settings.initial_rebalance_delay_ms, limit);
  }
  return m;
}

void group_manager::update_member(member& m, join_request& req, join_callback done) {
  if (m.awaiting_join) {
    // A second JoinGroup while the first waits: the first is answered now.
    auto previous = std::move(m.awaiting_join);
    previous(join_result::failed(errc::rebalance_in_progress, m.id));
  }
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.protocol_type = req.protocol_type;
  m.protocols = req.protocols;
  m.last_heartbeat_ms = _clock();
  m.awaiting_join = std::move(done);
}

void group_manager::join_new_member(group& g, join_request& req, join_callback& done) {
  if (g.members.size() + g.pending_members.size() >= static_cast<size_t>(_settings.max_size))
    return done(join_result::failed(errc::group_max_size_reached));
  std::string id = new_member_id(req.group_instance_id ? *req.group_instance_id : req.client_id);
  if (!req.group_instance_id && req.require_known_member_id) {
    // KIP-394: the member must come back with this id, so an id is only ever given to a
    // member that is really there.
    g.pending_members[id] = _clock() + req.session_timeout_ms;
    return done(join_result::failed(errc::member_id_required, id));
  }
  add_member(g, id, req, std::move(done));
  if (g.is(group_state::preparing_rebalance))
    maybe_complete_join(g);
  else
    prepare_rebalance(g);
}

void group_manager::join_static_replacement(group& g, join_request& req, join_callback& done) {
  const std::string old_id = g.static_members[*req.group_instance_id];
  const std::string new_id = new_member_id(*req.group_instance_id);
  member old = std::move(g.members[old_id]);
  g.members.erase(old_id);
  // The instance's previous incarnation is fenced.
  if (old.awaiting_join) old.awaiting_join(join_result::failed(errc::fenced_instance_id, old_id));
  if (old.awaiting_sync) old.awaiting_sync(sync_result::failed(errc::fenced_instance_id));
  old.awaiting_join = nullptr;
  old.awaiting_sync = nullptr;
  const bool was_leader = g.leader == old_id;
  const bool same_protocols = old.protocols == req.protocols;
  member& m = g.members[new_id];
  m = old;
  m.id = new_id;
  g.static_members[*req.group_instance_id] = new_id;
  if (was_leader) g.leader = new_id;

  if (g.is(group_state::stable) && same_protocols) {
    // KIP-345: a static member that restarts gets its old assignment without a rebalance.
    m.client_id = req.client_id;
    m.client_host = req.client_host;
    m.session_timeout_ms = req.session_timeout_ms;
    m.rebalance_timeout_ms = req.rebalance_timeout_ms;
    m.last_heartbeat_ms = _clock();
    if (!persist_group(g)) {
      g.members.erase(new_id);
      old.id = old_id;
      g.members[old_id] = std::move(old);
      g.static_members[*req.group_instance_id] = old_id;
      if (was_leader) g.leader = old_id;
      return done(join_result::failed(errc::coordinator_not_available));
    }
    join_result r = join_answer(g, m, was_leader);
    r.skip_assignment = was_leader && req.supports_skip_assignment;
    if (was_leader && !req.supports_skip_assignment) r.members.clear();
    return done(std::move(r));
  }
  update_member(m, req, std::move(done));
  if (g.is(group_state::preparing_rebalance))
    maybe_complete_join(g);
  else
    prepare_rebalance(g);
}

void group_manager::join_known_member(group& g, join_request& req, join_callback& done) {
  if (auto p = g.pending_members.find(req.member_id); p != g.pending_members.end()) {
    g.pending_members.erase(p);
    add_member(g, req.member_id, req, std::move(done));
    if (g.is(group_state::preparing_rebalance))
      maybe_complete_join(g);
    else
      prepare_rebalance(g);
    return;
  }
  if (req.group_instance_id) {
    auto s = g.static_members.find(*req.group_instance_id);
    if (s != g.static_members.end() && s->second != req.member_id)
      return done(join_result::failed(errc::fenced_instance_id, req.member_id));
  }
  auto it = g.members.find(req.member_id);
  if (it == g.members.end() || g.is(group_state::empty) || g.is(group_state::dead))
    return done(join_result::failed(errc::unknown_member_id, req.member_id));
  member& m = it->second;
  if (m.instance_id != req.group_instance_id)
    return done(join_result::failed(errc::fenced_instance_id, req.member_id));
  const bool same = m.protocols == req.protocols;
  switch (g.state) {
    case group_state::preparing_rebalance:
      update_member(m, req, std::move(done));
      maybe_complete_join(g);
      return;
    case group_state::completing_rebalance:
      if (same) {
        m.last_heartbeat_ms = _clock();
        return done(join_answer(g, m, g.leader == m.id));
      }
      update_member(m, req, std::move(done));
      prepare_rebalance(g);
      return;
    case group_state::stable:
      if (same && g.leader != m.id) {
        m.last_heartbeat_ms = _clock();
        return done(join_answer(g, m, false));
      }
      update_member(m, req, std::move(done));
      prepare_rebalance(g);
      return;
    default:
      return done(join_result::failed(errc::unknown_member_id, req.member_id));
  }
}

void group_manager::prepare_rebalance(group& g) {
  if (g.is(group_state::completing_rebalance)) reset_assignments(g, errc::rebalance_in_progress);
  const bool was_empty = g.is(group_state::empty);
  const int64_t now = _clock();
  g.state = group_state::preparing_rebalance;
  g.state_timestamp_ms = now;
  g.rebalance_started_ms = now;
  g.initial_delay = was_empty && _settings.initial_rebalance_delay_ms > 0;
  g.rebalance_deadline_ms =
      now + (g.initial_delay ? _settings.initial_rebalance_delay_ms : g.rebalance_timeout_ms());
  maybe_complete_join(g);
}

void group_manager::maybe_complete_join(group& g) {
  if (!g.is(group_state::preparing_rebalance)) return;
  const bool deadline_passed = _clock() >= g.rebalance_deadline_ms;
  if (deadline_passed || (!g.initial_delay && g.all_members_joined())) complete_join(g);
}

void group_manager::complete_join(group& g) {
  const int64_t now = _clock();
  // Dynamic members that did not rejoin in time leave; static ones stay until their session
  // expires (KIP-345).
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members)
    if (!m.awaiting_join && !m.instance_id) gone.push_back(id);
  for (const auto& id : gone) remove_member(g, id);
  if (!g.leader || !g.members.contains(*g.leader)) {
    g.leader.reset();
    for (const auto& [id, m] : g.members)
      if (m.awaiting_join) {
        g.leader = id;
        break;
      }
    if (!g.leader && !g.members.empty()) g.leader = g.members.begin()->first;
  }
  g.generation += 1;
  g.initial_delay = false;
  g.state_timestamp_ms = now;
  if (g.members.empty()) {
    g.state = group_state::empty;
    g.protocol.reset();
    g.leader.reset();
    if (!persist_group(g))
      logger("coordinator")->warn("group {}: could not store generation {}", g.id, g.generation);
    return;
  }
  g.protocol = select_protocol(g);
  g.state = group_state::completing_rebalance;
  g.rebalance_deadline_ms = now + g.rebalance_timeout_ms();
  for (auto& [id, m] : g.members) {
    m.synced = false;
    m.last_heartbeat_ms = now;
  }
  for (auto& [id, m] : g.members) {
    if (!m.awaiting_join) continue;
    auto done = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    done(join_answer(g, m, g.leader == id));
  }
}

std::optional<std::string> group_manager::select_protocol(const group& g) const {
  // Each member votes for its most preferred protocol that every member supports.
  std::map<std::string, int> votes;
  std::vector<std::string> order;
  for (const auto& [id, m] : g.members) {
    for (const auto& p : m.protocols) {
      bool all = std::all_of(g.members.begin(), g.members.end(), [&](const auto& entry) {
        return entry.second.metadata_for(p.name) != nullptr;
      });
      if (!all) continue;
      if (votes[p.name]++ == 0) order.push_back(p.name);
      break;
    }
  }
  std::optional<std::string> best;
  int best_votes = 0;
  for (const auto& name : order) {
    if (votes[name] > best_votes) best = name, best_votes = votes[name];
  }
  return best;
}

join_result group_manager::join_answer(const group& g, const member& m, bool with_members) const {
  join_result r;
  r.generation = g.generation;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol;
  r.leader = g.leader.value_or("");
  r.member_id = m.id;
  if (with_members) {
    for (const auto& [id, other] : g.members) {
      const bytes* metadata = g.protocol ? other.metadata_for(*g.protocol) : nullptr;
      r.members.push_back({id, other.instance_id, metadata ? *metadata : bytes{}});
    }
  }
  return r;
}

void group_manager::remove_member(group& g, const std::string& member_id) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  member m = std::move(it->second);
  g.members.erase(it);
  if (m.instance_id) g.static_members.erase(*m.instance_id);
  if (m.awaiting_join) m.awaiting_join(join_result::failed(errc::unknown_member_id, member_id));
  if (m.awaiting_sync) m.awaiting_sync(sync_result::failed(errc::unknown_member_id));
  if (g.leader == member_id)
    g.leader = g.members.empty() ? std::nullopt : std::optional(g.members.begin()->first);
}

void group_manager::after_member_removed(group& g) {
  if (g.is(group_state::stable) || g.is(group_state::completing_rebalance))
    prepare_rebalance(g);
  else if (g.is(group_state::preparing_rebalance))
    maybe_complete_join(g);
}

void group_manager::reset_assignments(group& g, errc error) {
  for (auto& [id, m] : g.members) {
    m.assignment.clear();
    if (m.awaiting_sync) {
      auto done = std::move(m.awaiting_sync);
      m.awaiting_sync = nullptr;
      done(sync_result::failed(error));
    }
  }
}

void group_manager::sync(sync_request req, sync_callback done) {
  auto it = _groups.find(req.group_id);
  if (req.group_id.empty()) return done(sync_result::failed(errc::invalid_group_id));
  if (it == _groups.end()) return done(sync_result::failed(errc::unknown_member_id));
  group& g = it->second;
  if (req.group_instance_id) {
    auto s = g.static_members.find(*req.group_instance_id);
    if (s != g.static_members.end() && s->second != req.member_id)
      return done(sync_result::failed(errc::fenced_instance_id));
  }
  auto m = g.members.find(req.member_id);
  if (m == g.members.end()) return done(sync_result::failed(errc::unknown_member_id));
  if (req.generation != g.generation) return done(sync_result::failed(errc::illegal_generation));
  if ((req.protocol_type && *req.protocol_type != g.protocol_type) ||
      (req.protocol_name && req.protocol_name != g.protocol))
    return done(sync_result::failed(errc::inconsistent_group_protocol));
  m->second.last_heartbeat_ms = _clock();
  switch (g.state) {
    case group_state::preparing_rebalance:
      return done(sync_result::failed(errc::rebalance_in_progress));
    case group_state::stable: {
      sync_result r{errc::none, g.protocol_type, g.protocol, m->second.assignment};
      return done(std::move(r));
    }
    case group_state::completing_rebalance:
      break;
    default:
      return done(sync_result::failed(errc::unknown_member_id));
  }
  if (m->second.awaiting_sync) {
    auto previous = std::move(m->second.awaiting_sync);
    previous(sync_result::failed(errc::rebalance_in_progress));
  }
  m->second.synced = true;
  m->second.awaiting_sync = std::move(done);
  if (g.leader != req.member_id) return;
  for (auto& [id, member] : g.members) {
    member.assignment.clear();
    for (const auto& [target, assignment] : req.assignments)
      if (target == id) member.assignment = assignment;
  }
  if (!persist_group(g)) {
    reset_assignments(g, errc::coordinator_not_available);
    prepare_rebalance(g);
    return;
  }
  g.state = group_state::stable;
  g.state_timestamp_ms = _clock();
  for (auto& [id, member] : g.members) {
    if (!member.awaiting_sync) continue;
    auto answer = std::move(member.awaiting_sync);
    member.awaiting_sync = nullptr;
    answer(sync_result{errc::none, g.protocol_type, g.protocol, member.assignment});
  }
}

}  // namespace sluice::coordinator
