// Heartbeat, LeaveGroup and expiry of the classic rebalance protocol (group_manager.h).

#include <algorithm>

#include "base/logging.h"
#include "coordinator/group_manager.h"

namespace sluice::coordinator {

errc group_manager::heartbeat(const std::string& group_id, int32_t generation,
                              const std::string& member_id,
                              const std::optional<std::string>& group_instance_id) {
  if (group_id.empty()) return errc::invalid_group_id;
  auto it = _groups.find(group_id);
  if (it == _groups.end()) return errc::unknown_member_id;
  group& g = it->second;
  if (group_instance_id) {
    auto s = g.static_members.find(*group_instance_id);
    if (s != g.static_members.end() && s->second != member_id) return errc::fenced_instance_id;
  }
  auto m = g.members.find(member_id);
  if (m == g.members.end() || g.is(group_state::empty)) return errc::unknown_member_id;
  if (generation != g.generation) return errc::illegal_generation;
  m->second.last_heartbeat_ms = _clock();
  if (g.is(group_state::preparing_rebalance)) return errc::rebalance_in_progress;
  return errc::none;
}

leave_result group_manager::leave(const std::string& group_id,
                                  const std::vector<member_identity>& members) {
  leave_result out;
  if (group_id.empty()) {
    out.error = errc::invalid_group_id;
    return out;
  }
  auto it = _groups.find(group_id);
  if (it == _groups.end()) {
    out.error = errc::unknown_member_id;
    return out;
  }
  group& g = it->second;
  bool removed = false, pending_removed = false;
  for (const auto& who : members) {
    std::string id = who.member_id;
    if (who.group_instance_id) {
      auto s = g.static_members.find(*who.group_instance_id);
      if (s == g.static_members.end()) {
        out.members.push_back(errc::unknown_member_id);
        continue;
      }
      if (!id.empty() && s->second != id) {
        out.members.push_back(errc::fenced_instance_id);
        continue;
      }
      id = s->second;
    }
    if (g.pending_members.erase(id) > 0) {
      pending_removed = true;
      out.members.push_back(errc::none);
      continue;
    }
    if (!g.members.contains(id)) {
      out.members.push_back(errc::unknown_member_id);
      continue;
    }
    remove_member(g, id);
    removed = true;
    out.members.push_back(errc::none);
  }
  if (removed)
    after_member_removed(g);
  else if (pending_removed)
    maybe_complete_join(g);  // the join phase may have waited only for that id
  return out;
}

void group_manager::abort_waiting(errc error) {
  for (auto& [gid, g] : _groups) {
    for (auto& [id, m] : g.members) {
      if (m.awaiting_join) std::exchange(m.awaiting_join, nullptr)(join_result::failed(error, id));
      if (m.awaiting_sync) std::exchange(m.awaiting_sync, nullptr)(sync_result::failed(error));
    }
  }
}

void group_manager::expire(group& g, int64_t now) {
  bool pending_lapsed = std::erase_if(g.pending_members,
                                      [now](const auto& entry) { return entry.second <= now; }) > 0;
  std::vector<std::string> expired;
  for (const auto& [id, m] : g.members) {
    if (m.awaiting_join || m.awaiting_sync) continue;
    if (now - m.last_heartbeat_ms >= m.session_timeout_ms) expired.push_back(id);
  }
  if (g.is(group_state::completing_rebalance) && now >= g.rebalance_deadline_ms) {
    // Members that never sent SyncGroup within the rebalance timeout are removed.
    for (const auto& [id, m] : g.members)
      if (!m.synced && std::find(expired.begin(), expired.end(), id) == expired.end())
        expired.push_back(id);
  }
  for (const auto& id : expired) {
    logger("coordinator")->info("group {}: member {} expired", g.id, id);
    remove_member(g, id);
  }
  if (!expired.empty())
    after_member_removed(g);
  else if (pending_lapsed || g.is(group_state::preparing_rebalance))
    maybe_complete_join(g);
}

}  // namespace sluice::coordinator
