// The classic group state machine with a fake clock and an in-memory record sink.

#include "coordinator/group_manager.h"

#include <gtest/gtest.h>

#include "coordinator/placement.h"

namespace sluice::coordinator {
namespace {

struct fixture {
  int64_t now = 1000;
  std::vector<record_entry> log;
  bool fail_appends = false;
  group_settings settings;
  std::unique_ptr<group_manager> manager;

  explicit fixture(int32_t initial_delay_ms = 0) {
    settings.initial_rebalance_delay_ms = initial_delay_ms;
    settings.min_session_timeout_ms = 1000;
    settings.offsets_retention_ms = 60000;
    settings.retention_check_interval_ms = 1000;
    manager = make();
  }
  std::unique_ptr<group_manager> make() {
    return std::make_unique<group_manager>(
        settings, [this] { return now; },
        [this](std::vector<record_entry> records) {
          if (fail_appends) return false;
          for (auto& r : records) log.push_back(std::move(r));
          return true;
        },
        42);
  }
  join_request join_req(std::string member_id, std::optional<std::string> instance = {},
                        std::string protocol = "range") {
    join_request r;
    r.group_id = "g";
    r.member_id = std::move(member_id);
    r.group_instance_id = std::move(instance);
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 6000;
    r.rebalance_timeout_ms = 10000;
    r.protocol_type = "consumer";
    r.protocols = {{protocol, {1, 2, 3}}};
    r.require_known_member_id = true;
    return r;
  }
  // Joins and returns where the answer lands.
  std::shared_ptr<std::optional<join_result>> join(join_request r) {
    auto out = std::make_shared<std::optional<join_result>>();
    manager->join(std::move(r), [out](join_result j) { *out = std::move(j); });
    return out;
  }
  std::shared_ptr<std::optional<sync_result>> sync(
      const std::string& member, int32_t generation,
      std::vector<std::pair<std::string, bytes>> a = {}) {
    auto out = std::make_shared<std::optional<sync_result>>();
    sync_request r;
    r.group_id = "g";
    r.member_id = member;
    r.generation = generation;
    r.assignments = std::move(a);
    manager->sync(std::move(r), [out](sync_result s) { *out = std::move(s); });
    return out;
  }
  // A dynamic member through MEMBER_ID_REQUIRED; returns its id and the pending join.
  std::pair<std::string, std::shared_ptr<std::optional<join_result>>> join_dynamic() {
    auto first = join(join_req(""));
    EXPECT_TRUE(*first);
    EXPECT_EQ((*first)->error, errc::member_id_required);
    std::string id = (*first)->member_id;
    return {id, join(join_req(id))};
  }
};

TEST(placement, java_string_hash_matches_java) {
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("a"), 97);
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  EXPECT_EQ(java_string_hash("my-group"), -1906497762);  // "my-group".hashCode()
  EXPECT_EQ(partition_for_group("my-group", 50), 1906497762 % 50);
  // U+00E9 is one UTF-16 unit; U+1F600 is a surrogate pair.
  EXPECT_EQ(java_string_hash("\xC3\xA9"), 0xE9);
  EXPECT_EQ(java_string_hash("\xF0\x9F\x98\x80"), 0xD83D * 31 + 0xDE00);
  // "polygenelubricants".hashCode() is Integer.MIN_VALUE: Utils.abs makes it 0.
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(partition_for_group("polygenelubricants", 50), 0);
  EXPECT_EQ(partition_for_group("hello", 50), 99162322 % 50);
}

TEST(records, round_trip) {
  offset_value v{42, 3, "meta", 1000, -1};
  auto decoded = decode_offset_value(encode_value(v));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, v);
  group_value g;
  g.protocol_type = "consumer";
  g.generation = 7;
  g.protocol = "range";
  g.leader = "m1";
  g.current_state_timestamp_ms = 5;
  g.members.push_back({"m1", "i1", "c", "/h", 100, 200, {1}, {2, 3}});
  auto gd = decode_group_value(encode_value(g));
  ASSERT_TRUE(gd);
  EXPECT_EQ(*gd, g);
  auto key = decode_key(encode_key(offset_key{"g", "t", 3}));
  ASSERT_TRUE(key);
  EXPECT_EQ(std::get<offset_key>(*key), (offset_key{"g", "t", 3}));
  // Kafka's layout: int16 version 1, then int16-length strings and the partition.
  auto bytes_ = encode_key(offset_key{"g", "t", 3});
  EXPECT_EQ(bytes_, (bytes{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 3}));
}

TEST(group_manager, member_id_required_then_join_completes_as_leader) {
  fixture f;
  auto [id, joined] = f.join_dynamic();
  ASSERT_TRUE(*joined);
  EXPECT_EQ((*joined)->error, errc::none);
  EXPECT_EQ((*joined)->generation, 1);
  EXPECT_EQ((*joined)->leader, id);
  EXPECT_EQ((*joined)->protocol_name, "range");
  ASSERT_EQ((*joined)->members.size(), 1u);
  auto synced = f.sync(id, 1, {{id, {9}}});
  ASSERT_TRUE(*synced);
  EXPECT_EQ((*synced)->error, errc::none);
  EXPECT_EQ((*synced)->assignment, bytes{9});
  EXPECT_EQ(f.manager->find("g")->state, group_state::stable);
  EXPECT_EQ(f.manager->heartbeat("g", 1, id, {}), errc::none);
  EXPECT_EQ(f.manager->heartbeat("g", 0, id, {}), errc::illegal_generation);
  EXPECT_EQ(f.manager->heartbeat("g", 1, "nobody", {}), errc::unknown_member_id);
}

TEST(group_manager, second_member_triggers_rebalance_and_waits_for_everyone) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  f.sync(a, 1, {{a, {1}}});
  auto first = f.join(f.join_req(""));
  std::string b = (*first)->member_id;
  auto jb = f.join(f.join_req(b));
  EXPECT_FALSE(*jb);  // waits for a to rejoin
  EXPECT_EQ(f.manager->heartbeat("g", 1, a, {}), errc::rebalance_in_progress);
  auto ja2 = f.join(f.join_req(a));
  ASSERT_TRUE(*ja2);
  ASSERT_TRUE(*jb);
  EXPECT_EQ((*ja2)->generation, 2);
  EXPECT_EQ((*jb)->generation, 2);
  EXPECT_EQ((*ja2)->members.size(), 2u);  // a stays leader
  EXPECT_TRUE((*jb)->members.empty());
  auto sb = f.sync(b, 2);
  EXPECT_FALSE(*sb);  // waits for the leader's assignment
  auto sa = f.sync(a, 2, {{a, {1}}, {b, {2}}});
  ASSERT_TRUE(*sb);
  EXPECT_EQ((*sb)->assignment, bytes{2});
  EXPECT_EQ((*sa)->assignment, bytes{1});
}

TEST(group_manager, session_timeout_removes_member_and_rebalances) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  f.sync(a, 1, {{a, {1}}});
  auto first = f.join(f.join_req(""));
  std::string b = (*first)->member_id;
  auto jb = f.join(f.join_req(b));
  f.join(f.join_req(a));
  f.sync(a, 2, {{a, {1}}, {b, {2}}});
  f.sync(b, 2);
  // b stops heartbeating; a keeps going.
  for (int i = 0; i < 7; ++i) {
    f.now += 1000;
    EXPECT_NE(f.manager->heartbeat("g", 2, a, {}), errc::unknown_member_id);
    f.manager->tick();
  }
  EXPECT_EQ(f.manager->find("g")->members.count(b), 0u);
  EXPECT_EQ(f.manager->heartbeat("g", 2, a, {}), errc::rebalance_in_progress);
  auto ja3 = f.join(f.join_req(a));
  ASSERT_TRUE(*ja3);
  EXPECT_EQ((*ja3)->generation, 3);
  EXPECT_EQ(f.manager->heartbeat("g", 3, b, {}), errc::unknown_member_id);
}

TEST(group_manager, next_deadline_follows_sessions_and_rebalances) {
  fixture f;
  f.settings.retention_check_interval_ms = 600000;
  f.manager = f.make();
  f.manager->tick();
  EXPECT_EQ(f.manager->next_deadline_ms(), 601000);  // only the retention check
  auto [a, ja] = f.join_dynamic();
  ASSERT_TRUE(*ja);
  // Before its SyncGroup the member's session (6 s from the join) comes before the rebalance
  // timeout (10 s); after it, the session alone.
  EXPECT_EQ(f.manager->next_deadline_ms(), 7000);
  f.sync(a, 1, {{a, {1}}});
  EXPECT_EQ(f.manager->next_deadline_ms(), 7000);
  f.now = 3000;
  EXPECT_EQ(f.manager->heartbeat("g", 1, a, {}), errc::none);
  EXPECT_EQ(f.manager->next_deadline_ms(), 9000);
  f.now = 8999;
  f.manager->tick();
  EXPECT_EQ(f.manager->find("g")->members.count(a), 1u);
  f.now = 9000;  // due exactly now: gone at this tick
  f.manager->tick();
  EXPECT_EQ(f.manager->find("g")->members.count(a), 0u);
}

TEST(group_manager, rebalance_timeout_drops_members_that_do_not_rejoin) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  f.sync(a, 1, {{a, {1}}});
  auto first = f.join(f.join_req(""));
  auto jb = f.join(f.join_req((*first)->member_id));
  EXPECT_FALSE(*jb);
  f.now += 10000;  // the rebalance timeout; a heartbeats but never rejoins
  EXPECT_EQ(f.manager->heartbeat("g", 1, a, {}), errc::rebalance_in_progress);
  f.manager->tick();
  ASSERT_TRUE(*jb);
  EXPECT_EQ((*jb)->generation, 2);
  EXPECT_EQ((*jb)->leader, (*first)->member_id);
  EXPECT_EQ(f.manager->find("g")->members.size(), 1u);
}

TEST(group_manager, initial_rebalance_delay_collects_members) {
  fixture f(3000);
  auto [a, ja] = f.join_dynamic();
  EXPECT_FALSE(*ja);
  f.now += 1000;
  auto [b, jb] = f.join_dynamic();
  f.now += 2500;
  f.manager->tick();
  EXPECT_FALSE(*ja);  // b's arrival extended the delay
  f.now += 1000;
  f.manager->tick();
  ASSERT_TRUE(*ja);
  ASSERT_TRUE(*jb);
  EXPECT_EQ((*ja)->generation, 1);
  EXPECT_EQ((*ja)->members.size() + (*jb)->members.size(), 2u);
}

TEST(group_manager, leave_empties_group_and_persists_generation) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  f.sync(a, 1, {{a, {1}}});
  auto left = f.manager->leave("g", {{a, std::nullopt}, {"ghost", std::nullopt}});
  ASSERT_EQ(left.members.size(), 2u);
  EXPECT_EQ(left.members[0], errc::none);
  EXPECT_EQ(left.members[1], errc::unknown_member_id);
  const group* g = f.manager->find("g");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->state, group_state::empty);
  EXPECT_EQ(g->generation, 2);
  auto last = decode_group_value(*f.log.back().value);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->generation, 2);
  EXPECT_TRUE(last->members.empty());
}

TEST(group_manager, leave_of_a_pending_member_completes_the_join_phase_at_once) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  f.sync(a, 1, {{a, {1}}});
  auto [b, jb] = f.join_dynamic();  // a rebalance: a must rejoin
  auto first = f.join(f.join_req(""));
  std::string pending = (*first)->member_id;
  EXPECT_EQ((*first)->error, errc::member_id_required);
  auto ja2 = f.join(f.join_req(a));
  EXPECT_FALSE(*ja2);  // everyone has joined but the pending id
  auto left = f.manager->leave("g", {{pending, std::nullopt}});
  ASSERT_EQ(left.members.size(), 1u);
  EXPECT_EQ(left.members[0], errc::none);
  ASSERT_TRUE(*ja2);  // without waiting for a tick
  ASSERT_TRUE(*jb);
  EXPECT_EQ((*ja2)->generation, 2);
  EXPECT_EQ(f.manager->find("g")->pending_members.size(), 0u);
}

TEST(group_manager, static_member_rejoins_without_rebalance_and_fences_old_id) {
  fixture f;
  auto j = f.join(f.join_req("", "instance-1"));
  ASSERT_TRUE(*j);
  std::string old_id = (*j)->member_id;
  f.sync(old_id, 1, {{old_id, {7}}});
  auto again = f.join(f.join_req("", "instance-1"));
  ASSERT_TRUE(*again);
  EXPECT_EQ((*again)->error, errc::none);
  EXPECT_EQ((*again)->generation, 1);  // no rebalance
  EXPECT_NE((*again)->member_id, old_id);
  EXPECT_EQ(f.manager->find("g")->state, group_state::stable);
  EXPECT_EQ(f.manager->heartbeat("g", 1, old_id, std::string("instance-1")),
            errc::fenced_instance_id);
  auto s = f.sync((*again)->member_id, 1);
  EXPECT_EQ((*s)->assignment, bytes{7});
}

TEST(group_manager, inconsistent_protocol_and_bad_session_timeout) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  auto other = f.join(f.join_req("", {}, "roundrobin"));
  EXPECT_EQ((*other)->error, errc::inconsistent_group_protocol);
  auto r = f.join_req("");
  r.session_timeout_ms = 10;
  auto bad = f.join(r);
  EXPECT_EQ((*bad)->error, errc::invalid_session_timeout);
  auto unknown = f.join(f.join_req("not-a-member"));
  EXPECT_EQ((*unknown)->error, errc::unknown_member_id);
}

TEST(group_manager, max_size) {
  fixture f;
  f.settings.max_size = 1;
  f.manager = f.make();
  f.join_dynamic();
  auto second = f.join(f.join_req(""));
  EXPECT_EQ((*second)->error, errc::group_max_size_reached);
}

TEST(group_manager, commits_are_checked_against_the_generation) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  commit_request c{"g", 1, a, std::nullopt, {{"t", 0, 10, -1, "m"}}};
  EXPECT_EQ(f.manager->validate_commit(c), errc::rebalance_in_progress);  // CompletingRebalance
  f.sync(a, 1, {{a, {1}}});
  EXPECT_EQ(f.manager->validate_commit(c), errc::none);
  EXPECT_EQ(f.manager->commit(c), std::vector<errc>{errc::none});
  c.generation = 0;
  EXPECT_EQ(f.manager->validate_commit(c), errc::illegal_generation);
  c.generation = 1;
  c.member_id = "x";
  EXPECT_EQ(f.manager->validate_commit(c), errc::unknown_member_id);
  c.member_id = "";
  c.generation = -1;
  EXPECT_EQ(f.manager->validate_commit(c), errc::unknown_member_id);  // the group has members
  auto fetched =
      f.manager->fetch("g", std::vector<std::pair<std::string, int32_t>>{{"t", 0}, {"t", 1}});
  ASSERT_EQ(fetched.size(), 2u);
  EXPECT_EQ(fetched[0].offset, 10);
  EXPECT_EQ(fetched[0].metadata, "m");
  EXPECT_EQ(fetched[1].offset, -1);
}

TEST(group_manager, simple_commit_metadata_limit_and_reload) {
  fixture f;
  f.settings.offset_metadata_max_bytes = 4;
  f.manager = f.make();
  commit_request c{
      "simple", -1, "", std::nullopt, {{"t", 0, 5, 2, "ok"}, {"t", 1, 6, -1, "too long"}}};
  EXPECT_EQ(f.manager->validate_commit(c), errc::none);
  auto results = f.manager->commit(c);
  EXPECT_EQ(results, (std::vector<errc>{errc::none, errc::offset_metadata_too_large}));
  // A fresh manager replaying the records sees the same offsets.
  auto reloaded = f.make();
  for (const auto& r : f.log) {
    std::optional<std::span<const uint8_t>> v;
    if (r.value) v = std::span<const uint8_t>(*r.value);
    reloaded->replay(r.key, v);
  }
  reloaded->finish_load();
  auto fetched = reloaded->fetch("simple", std::nullopt);
  ASSERT_EQ(fetched.size(), 1u);
  EXPECT_EQ(fetched[0].offset, 5);
  EXPECT_EQ(fetched[0].leader_epoch, 2);
  // Retention: the simple consumer's offsets expire after offsets.retention.ms.
  f.now += 61000;
  f.manager->tick();
  EXPECT_TRUE(f.manager->fetch("simple", std::nullopt).empty());
  EXPECT_EQ(f.manager->find("simple"), nullptr);
  // Reloaded with the tombstone, the group is not there at all.
  auto again = f.make();
  for (const auto& r : f.log) {
    std::optional<std::span<const uint8_t>> v;
    if (r.value) v = std::span<const uint8_t>(*r.value);
    again->replay(r.key, v);
  }
  again->finish_load();
  EXPECT_EQ(again->find("simple"), nullptr);
  EXPECT_TRUE(again->list().empty());
}

TEST(group_manager, commit_with_retention_time_expires_at_its_own_time) {
  fixture f;
  commit_request c{"s", -1, "", std::nullopt, {{"t", 0, 5, 7, "m"}}};
  c.retention_time_ms = 5000;
  EXPECT_EQ(f.manager->commit(c), std::vector<errc>{errc::none});
  auto stored = decode_offset_value(*f.log.back().value);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->expire_timestamp_ms, f.now + 5000);
  EXPECT_EQ(stored->leader_epoch, -1);  // version 1 has no leader epoch
  EXPECT_EQ(f.log.back().value->at(1), 1);
  f.now += 4000;
  f.manager->tick();
  EXPECT_EQ(f.manager->fetch("s", std::nullopt).size(), 1u);
  f.now += 1500;
  f.manager->tick();
  EXPECT_TRUE(f.manager->fetch("s", std::nullopt).empty());
}

// A ConsumerProtocolSubscription v0 of one topic (no user data).
// Moves the clock by `ms` a second at a time, the member heartbeating, the manager ticking.
void live_through(fixture& f, const std::string& member, int64_t ms) {
  for (int64_t t = 0; t < ms; t += 1000) {
    f.now += 1000;
    EXPECT_EQ(f.manager->heartbeat("g", 1, member, std::nullopt), errc::none);
    f.manager->tick();
  }
}

bytes subscription(const std::string& topic) {
  bytes b = {0, 0, 0, 0, 0, 1, 0, static_cast<uint8_t>(topic.size())};
  b.insert(b.end(), topic.begin(), topic.end());
  b.insert(b.end(), {0xff, 0xff, 0xff, 0xff});
  return b;
}

TEST(group_manager, retention_follows_the_group_state) {
  fixture f;
  auto first = f.join([&] {
    auto r = f.join_req("");
    r.protocols = {{"range", subscription("t")}};
    return r;
  }());
  ASSERT_TRUE(*first);
  const std::string a = (*first)->member_id;
  auto r = f.join_req(a);
  r.protocols = {{"range", subscription("t")}};
  auto ja = f.join(std::move(r));
  ASSERT_TRUE(*ja);
  f.sync(a, 1, {{a, {1}}});
  // Stable, subscribed to t: t's offset stays however old; u's expires from its commit.
  commit_request c{"g", 1, a, std::nullopt, {{"t", 0, 5, -1, ""}, {"u", 0, 6, -1, ""}}};
  ASSERT_EQ(f.manager->validate_commit(c), errc::none);
  f.manager->commit(c);
  live_through(f, a, 61000);
  auto left = f.manager->fetch("g", std::nullopt);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].topic, "t");
  // Empty from now: t's offset expires a retention later, not a retention after its commit.
  EXPECT_EQ(f.manager->leave("g", {{a, std::nullopt}}).members, std::vector<errc>{errc::none});
  f.now += 59000;
  f.manager->tick();
  EXPECT_EQ(f.manager->fetch("g", std::nullopt).size(), 1u);
  f.now += 2000;
  f.manager->tick();
  EXPECT_TRUE(f.manager->fetch("g", std::nullopt).empty());
  EXPECT_EQ(f.manager->find("g"), nullptr);
  // Tombstones: the offset, then the group.
  ASSERT_GE(f.log.size(), 2u);
  EXPECT_FALSE(f.log[f.log.size() - 2].value);
  EXPECT_FALSE(f.log.back().value);
}

TEST(group_manager, stable_group_with_unknown_subscriptions_keeps_its_offsets) {
  fixture f;
  auto [a, ja] = f.join_dynamic();  // metadata {1,2,3}: not a subscription
  f.sync(a, 1, {{a, {1}}});
  commit_request c{"g", 1, a, std::nullopt, {{"u", 0, 6, -1, ""}}};
  c.retention_time_ms = 1000;  // an expire timestamp does not apply either
  f.manager->commit(c);
  live_through(f, a, 120000);
  EXPECT_EQ(f.manager->fetch("g", std::nullopt).size(), 1u);
}

TEST(group_manager, generation_survives_reload) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  f.sync(a, 1, {{a, {1}}});
  auto reloaded = f.make();
  for (const auto& r : f.log) {
    std::optional<std::span<const uint8_t>> v;
    if (r.value) v = std::span<const uint8_t>(*r.value);
    reloaded->replay(r.key, v);
  }
  reloaded->finish_load();
  f.manager = std::move(reloaded);
  EXPECT_EQ(f.manager->heartbeat("g", 1, a, {}), errc::none);
  auto s = f.sync(a, 1);
  EXPECT_EQ((*s)->assignment, bytes{1});
}

TEST(group_manager, delete_group_and_offsets) {
  fixture f;
  auto [a, ja] = f.join_dynamic();
  f.sync(a, 1, {{a, {1}}});
  EXPECT_EQ(f.manager->delete_group("g"), errc::non_empty_group);
  EXPECT_EQ(f.manager->delete_group("nope"), errc::group_id_not_found);
  f.manager->leave("g", {{a, std::nullopt}});
  f.manager->commit({"g", -1, "", std::nullopt, {{"t", 0, 1, -1, ""}}});
  EXPECT_EQ(f.manager->validate_offset_delete("g"), errc::none);
  EXPECT_EQ(f.manager->delete_offsets("g", {{"t", 0}}), std::vector<errc>{errc::none});
  EXPECT_TRUE(f.manager->fetch("g", std::nullopt).empty());
  EXPECT_EQ(f.manager->delete_group("g"), errc::none);
  EXPECT_EQ(f.manager->find("g"), nullptr);
  EXPECT_FALSE(f.log.back().value);  // the group's tombstone
}

TEST(group_manager, failed_append_keeps_state) {
  fixture f;
  f.fail_appends = true;
  auto results = f.manager->commit({"s", -1, "", std::nullopt, {{"t", 0, 1, -1, ""}}});
  EXPECT_EQ(results, std::vector<errc>{errc::coordinator_not_available});
  EXPECT_TRUE(f.manager->fetch("s", std::nullopt).empty());
}

}  // namespace
}  // namespace sluice::coordinator
