#pragma once

// group_manager: the groups and committed offsets of one __consumer_offsets partition, and the
// classic rebalance protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) as Apache Kafka's
// group coordinator runs it, with KIP-345 static membership and KIP-394 MEMBER_ID_REQUIRED.
//
// Ownership and threading: single-threaded. group_coordinator runs each partition's manager on
// the shard that owns the partition; unit tests run it directly with a fake clock. Time only
// moves through `clock` and tick(): session timeouts, rebalance timeouts, the initial rebalance
// delay and offset retention are checked there, so a test controls every expiry.
//
// Durability: every change Kafka persists (a generation completed, a group emptied or deleted,
// offsets committed, deleted or expired) is handed to `sink` as Kafka-format records
// (records.h) before the state changes and before anyone hears of it. A sink failure leaves the
// state as it was and answers the request with an error.

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "coordinator/group.h"

namespace sluice::coordinator {

struct group_settings {
  int32_t min_session_timeout_ms = 6000;         // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;      // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000;     // group.initial.rebalance.delay.ms
  int32_t max_size = INT32_MAX;                  // group.max.size
  int32_t offset_metadata_max_bytes = 4096;      // offset.metadata.max.bytes
  int64_t offsets_retention_ms = 604800000;      // offsets.retention.minutes
  int64_t retention_check_interval_ms = 600000;  // offsets.retention.check.interval.ms
};

struct record_entry {
  bytes key;
  std::optional<bytes> value;  // nullopt: a tombstone
};
// Appends the records (one batch); false when the append failed.
using record_sink = std::function<bool(std::vector<record_entry>)>;

struct join_request {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<protocol_entry> protocols;
  bool require_known_member_id = false;   // v4+: answer a new member with MEMBER_ID_REQUIRED
  bool supports_skip_assignment = false;  // v9+
};

struct sync_request {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;  // v5+
  std::optional<std::string> protocol_name;  // v5+
  std::vector<std::pair<std::string, bytes>> assignments;
};

struct member_identity {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct leave_result {
  errc error = errc::none;    // for the whole request
  std::vector<errc> members;  // one per requested member
};

struct commit_partition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct commit_request {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<commit_partition> partitions;
  // OffsetCommit v2-4 retention_time_ms: -1 for the broker's retention, else how long these
  // offsets are kept from now (stored as an expire timestamp, value version 1, as Kafka does).
  int64_t retention_time_ms = -1;
};

struct fetched_offset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
};

struct listed_group {
  std::string group_id;
  std::string protocol_type;
  group_state state;
};

struct described_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  bytes metadata;
  bytes assignment;
};

struct described_group {
  std::string group_id;
  bool found = false;
  group_state state = group_state::dead;
  std::string protocol_type;
  std::string protocol;
  std::vector<described_member> members;
};

class group_manager {
 public:
  group_manager(group_settings settings, std::function<int64_t()> clock, record_sink sink,
                uint64_t seed);

  void join(join_request req, join_callback done);
  void sync(sync_request req, sync_callback done);
  errc heartbeat(const std::string& group_id, int32_t generation, const std::string& member_id,
                 const std::optional<std::string>& group_instance_id);
  leave_result leave(const std::string& group_id, const std::vector<member_identity>& members);

  // OffsetCommit: one error for the request (group checks), else one per partition.
  errc validate_commit(const commit_request& req);
  std::vector<errc> commit(const commit_request& req);
  // OffsetFetch: `partitions` nullopt for every committed offset of the group.
  std::vector<fetched_offset> fetch(
      const std::string& group_id,
      const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions) const;
  // OffsetDelete: one error for the group, else one per partition.
  errc validate_offset_delete(const std::string& group_id) const;
  std::vector<errc> delete_offsets(const std::string& group_id,
                                   const std::vector<std::pair<std::string, int32_t>>& partitions);
  errc delete_group(const std::string& group_id);

  std::vector<listed_group> list() const;
  described_group describe(const std::string& group_id) const;

  // Answers every waiting JoinGroup and SyncGroup with `error` (the coordinator stops).
  void abort_waiting(errc error);

  // Expiries: sessions, pending members, join and sync deadlines, offset retention.
  void tick();
  // When tick() next has something to do: the earliest session deadline of a member (or pending
  // member), rebalance deadline or retention check. The coordinator's timer fires then, so that
  // timeouts take effect when they are due, as Kafka's timer wheel makes them, not up to a tick
  // later.
  int64_t next_deadline_ms() const;

  // Loading: applies one record of the partition (tombstone: nullopt value); a record that
  // does not decode is skipped and counted. finish_load() starts the members' sessions.
  void replay(std::span<const uint8_t> key, std::optional<std::span<const uint8_t>> value);
  void finish_load();
  size_t skipped_records() const { return _skipped; }

  const group* find(const std::string& group_id) const;
  size_t group_count() const { return _groups.size(); }
  size_t offset_count() const;

 private:
  // group_join.cc
  void join_new_member(group& g, join_request& req, join_callback& done);
  void join_static_replacement(group& g, join_request& req, join_callback& done);
  void join_known_member(group& g, join_request& req, join_callback& done);
  member& add_member(group& g, const std::string& id, join_request& req, join_callback done);
  void update_member(member& m, join_request& req, join_callback done);
  void prepare_rebalance(group& g);
  void maybe_complete_join(group& g);
  void complete_join(group& g);
  join_result join_answer(const group& g, const member& m, bool with_members) const;
  void remove_member(group& g, const std::string& member_id);
  void after_member_removed(group& g);
  void reset_assignments(group& g, errc error);
  bool persist_group(const group& g);
  void expire(group& g, int64_t now);
  std::optional<std::string> select_protocol(const group& g) const;
  bool protocols_compatible(const group& g, const join_request& req) const;
  std::string new_member_id(const std::string& client_id);
  // group_offsets.cc
  void expire_offsets(group& g, int64_t now);
  void maybe_drop_group(const std::string& group_id);

  group_settings _settings;
  std::function<int64_t()> _clock;
  record_sink _sink;
  std::mt19937_64 _random;
  std::map<std::string, group, std::less<>> _groups;
  int64_t _last_retention_check_ms = 0;
  size_t _skipped = 0;
};

}  // namespace sluice::coordinator
