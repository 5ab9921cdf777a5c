#pragma once

// A classic consumer group as the coordinator keeps it: members, generation, chosen protocol,
// committed offsets. Plain data; the rules live in group_manager.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coordinator/error.h"
#include "coordinator/records.h"

namespace sluice::coordinator {

// Kafka's classic group states (ListGroups and DescribeGroups use these names).
enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };
std::string_view to_string(group_state state);

struct protocol_entry {
  std::string name;
  bytes metadata;
  bool operator==(const protocol_entry&) const = default;
};

struct join_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  bytes metadata;
};

struct join_result {
  errc error = errc::none;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<join_member> members;  // the leader's response only

  static join_result failed(errc error, std::string member_id = {}) {
    join_result r;
    r.error = error;
    r.member_id = std::move(member_id);
    return r;
  }
};

struct sync_result {
  errc error = errc::none;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  bytes assignment;

  static sync_result failed(errc error) {
    sync_result r;
    r.error = error;
    return r;
  }
};

using join_callback = std::function<void(join_result)>;
using sync_callback = std::function<void(sync_result)>;

struct member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<protocol_entry> protocols;  // in the member's order of preference
  bytes assignment;
  int64_t last_heartbeat_ms = 0;
  join_callback awaiting_join;  // set while its JoinGroup waits for the rebalance
  sync_callback awaiting_sync;  // set while its SyncGroup waits for the leader
  bool synced = false;          // sent SyncGroup in this generation

  const bytes* metadata_for(std::string_view protocol) const;
};

struct group {
  std::string id;
  group_state state = group_state::empty;
  int64_t state_timestamp_ms = -1;
  std::string protocol_type;  // empty: no member ever joined (offsets only)
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int32_t generation = 0;
  std::map<std::string, member> members;
  std::map<std::string, std::string> static_members;  // group.instance.id -> member id
  // Member ids handed out with MEMBER_ID_REQUIRED, and when they lapse unless used.
  std::map<std::string, int64_t> pending_members;
  std::map<std::pair<std::string, int32_t>, offset_value> offsets;  // (topic, partition)
  // PreparingRebalance: when the join phase ends whoever has rejoined; CompletingRebalance:
  // when members that have not sent SyncGroup are removed.
  int64_t rebalance_deadline_ms = 0;
  bool initial_delay = false;  // the join phase of a group that was empty (initial delay)
  int64_t rebalance_started_ms = 0;

  bool is(group_state s) const { return state == s; }
  int32_t rebalance_timeout_ms() const;
  bool all_members_joined() const;
};

}  // namespace sluice::coordinator
