#include "coordinator/group.h"

#include <algorithm>

namespace sluice::coordinator {

std::string_view to_string(group_state state) {
  switch (state) {
    case group_state::empty:
      return "Empty";
    case group_state::preparing_rebalance:
      return "PreparingRebalance";
    case group_state::completing_rebalance:
      return "CompletingRebalance";
    case group_state::stable:
      return "Stable";
    case group_state::dead:
      return "Dead";
  }
  return "Unknown";
}

std::string_view to_string(errc code) {
  switch (code) {
    case errc::none:
      return "none";
    case errc::coordinator_not_available:
      return "coordinator not available";
    case errc::not_coordinator:
      return "not coordinator";
    case errc::load_in_progress:
      return "load in progress";
    case errc::invalid_group_id:
      return "invalid group id";
    case errc::unknown_member_id:
      return "unknown member id";
    case errc::member_id_required:
      return "member id required";
    case errc::illegal_generation:
      return "illegal generation";
    case errc::rebalance_in_progress:
      return "rebalance in progress";
    case errc::inconsistent_group_protocol:
      return "inconsistent group protocol";
    case errc::invalid_session_timeout:
      return "invalid session timeout";
    case errc::group_max_size_reached:
      return "group max size reached";
    case errc::fenced_instance_id:
      return "fenced instance id";
    case errc::offset_metadata_too_large:
      return "offset metadata too large";
    case errc::group_id_not_found:
      return "group id not found";
    case errc::non_empty_group:
      return "non-empty group";
    case errc::group_subscribed_to_topic:
      return "group subscribed to topic";
    case errc::unknown_topic_or_partition:
      return "unknown topic or partition";
    case errc::unknown_server_error:
      return "unknown server error";
  }
  return "unknown";
}

const bytes* member::metadata_for(std::string_view protocol) const {
  for (const auto& p : protocols)
    if (p.name == protocol) return &p.metadata;
  return nullptr;
}

int32_t group::rebalance_timeout_ms() const {
  int32_t t = 0;
  for (const auto& [id, m] : members) t = std::max(t, m.rebalance_timeout_ms);
  return t;
}

bool group::all_members_joined() const {
  if (!pending_members.empty()) return false;
  return std::all_of(members.begin(), members.end(),
                     [](const auto& entry) { return bool(entry.second.awaiting_join); });
}

}  // namespace sluice::coordinator
