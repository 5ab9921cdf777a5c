#include <gtest/gtest.h>

#include "cluster/replay.h"
#include "cluster/tests/test_util.h"

namespace sluice::cluster {
namespace {

using namespace testing;

class controller_topics : public ::testing::Test {
 protected:
  memory_metadata_log log;
  harness h{log};
  controller& ctl = h.ctl;
};

TEST_F(controller_topics, create_assigns_id_partitions_and_publishes) {
  auto created = create_ok(ctl, topic("orders", 3, {{"retention.ms", "1000"}}));
  EXPECT_FALSE(created.topic_id.is_zero());
  EXPECT_EQ(created.num_partitions, 3);
  EXPECT_EQ(created.replication_factor, 1);
  auto img = h.image_now();
  auto t = img->find_topic("orders");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(img->find_topic(created.topic_id), t);
  ASSERT_EQ(t->partition_count(), 3);
  for (int32_t p = 0; p < 3; ++p) {
    EXPECT_EQ(t->partitions[p].partition, model::partition_id(p));
    EXPECT_EQ(t->partitions[p].leader, model::node_id(1));
    EXPECT_EQ(t->partitions[p].leader_epoch, model::leader_epoch(0));
    EXPECT_EQ(t->partitions[p].replicas, std::vector<model::node_id>{model::node_id(1)});
  }
  EXPECT_EQ(t->configs, (config_map{{"retention.ms", "1000"}}));
  EXPECT_EQ(img->offset(), model::offset(1));  // topic record + one config record
  EXPECT_EQ(img->partition_count(), 3u);
}

TEST_F(controller_topics, defaults_come_from_num_partitions) {
  memory_metadata_log other;
  harness h2(other, {{"num.partitions", "4"}});
  new_topic t;
  t.name = "dflt";
  auto created = create_ok(h2.ctl, t);
  EXPECT_EQ(created.num_partitions, 4);
  EXPECT_EQ(created.replication_factor, 1);
}

TEST_F(controller_topics, validate_only_writes_nothing) {
  auto results = ctl.create_topics({topic("dry", 2)}, /*validate_only=*/true);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(results[0]->num_partitions, 2);
  EXPECT_EQ(h.image_now()->find_topic("dry"), nullptr);
  EXPECT_EQ(log.next_offset(), model::offset(0));
}

TEST_F(controller_topics, create_errors) {
  create_ok(ctl, topic("exists"));
  new_topic bad_rf = topic("rf3");
  bad_rf.replication_factor = 3;
  new_topic zero_rf = topic("rf0");
  zero_rf.replication_factor = 0;
  new_topic too_many = topic("huge", partitions_per_topic_max + 1);
  new_topic bad_config = topic("cfg", 1, {{"retention.ms", "soon"}});
  new_topic unknown_config = topic("cfg2", 1, {{"retention.parsecs", "1"}});
  new_topic null_config = topic("cfg3", 1, {{"retention.ms", std::nullopt}});
  auto results = ctl.create_topics(
      {topic("exists"), topic("zero", 0), topic("neg", -2), bad_rf, zero_rf, too_many, bad_config,
       unknown_config, null_config, topic("__cluster_metadata")},
      false);
  ASSERT_EQ(results.size(), 10u);
  EXPECT_EQ(error_of(results[0]), errc::topic_already_exists);
  EXPECT_EQ(error_of(results[1]), errc::invalid_partitions);
  EXPECT_EQ(error_of(results[2]), errc::invalid_partitions);
  EXPECT_EQ(error_of(results[3]), errc::invalid_replication_factor);
  EXPECT_EQ(error_of(results[4]), errc::invalid_replication_factor);
  EXPECT_EQ(error_of(results[5]), errc::invalid_partitions);
  EXPECT_EQ(error_of(results[6]), errc::invalid_config);
  EXPECT_EQ(error_of(results[7]), errc::invalid_config);
  EXPECT_EQ(error_of(results[8]), errc::invalid_config);
  EXPECT_EQ(error_of(results[9]), errc::invalid_request);
  EXPECT_EQ(h.image_now()->topics().size(), 1u);
}

TEST_F(controller_topics, default_replication_factor_above_one_is_rejected) {
  memory_metadata_log other;
  harness h2(other, {{"default.replication.factor", "3"}});
  new_topic t;
  t.name = "x";
  EXPECT_EQ(error_of(h2.ctl.create_topics({t}, false)[0]), errc::invalid_replication_factor);
}

TEST_F(controller_topics, only_the_successful_items_are_written) {
  auto results = ctl.create_topics({topic("a"), topic("b", 0), topic("c", 2)}, false);
  EXPECT_TRUE(results[0]);
  EXPECT_FALSE(results[1]);
  EXPECT_TRUE(results[2]);
  std::vector<std::string> written;
  auto read = log.read(model::offset(0), [&](const logged_record& r) -> cresult<void> {
    if (auto* t = std::get_if<topic_record>(&r.record)) written.push_back(t->name);
    return {};
  });
  ASSERT_TRUE(read);
  EXPECT_EQ(written, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(log.batches().size(), 1u);  // one request, one durable append
}

TEST_F(controller_topics, duplicate_names_in_one_request_fail_every_copy) {
  auto results = ctl.create_topics({topic("dup"), topic("dup"), topic("solo")}, false);
  EXPECT_EQ(error_of(results[0]), errc::invalid_request);
  EXPECT_EQ(error_of(results[1]), errc::invalid_request);
  EXPECT_TRUE(results[2]);
}

TEST_F(controller_topics, manual_assignment_rules) {
  auto with = [](std::string name, std::vector<replica_assignment> a, int32_t n = -1) {
    new_topic t;
    t.name = std::move(name);
    t.num_partitions = n;
    t.assignments = std::move(a);
    return t;
  };
  auto results = ctl.create_topics(
      {with("ok", {{1, {1}}, {0, {1}}}), with("gap", {{0, {1}}, {2, {1}}}),
       with("empty", {{0, {}}}), with("twice", {{0, {1, 1}}}), with("other_broker", {{0, {7}}}),
       with("uneven", {{0, {1}}, {1, {1, 7}}}), with("both_given", {{0, {1}}}, 1)},
      false);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(results[0]->num_partitions, 2);
  EXPECT_EQ(error_of(results[1]), errc::invalid_replica_assignment);
  EXPECT_EQ(error_of(results[2]), errc::invalid_replica_assignment);
  EXPECT_EQ(error_of(results[3]), errc::invalid_replica_assignment);
  EXPECT_EQ(error_of(results[4]), errc::invalid_replica_assignment);
  EXPECT_EQ(error_of(results[5]), errc::invalid_replica_assignment);
  EXPECT_EQ(error_of(results[6]), errc::invalid_request);
}

TEST_F(controller_topics, delete_by_name_and_by_id) {
  auto a = create_ok(ctl, topic("a", 2, {{"cleanup.policy", "compact"}}));
  auto b = create_ok(ctl, topic("b"));
  auto results = ctl.delete_topics({topic_ref{"a", {}}, topic_ref{std::nullopt, b.topic_id}});
  ASSERT_TRUE(results[0]) << results[0].error().message;
  ASSERT_TRUE(results[1]) << results[1].error().message;
  EXPECT_EQ(results[0]->topic_id, a.topic_id);
  EXPECT_EQ(results[1]->name, "b");
  EXPECT_TRUE(h.image_now()->topics().empty());
  EXPECT_EQ(h.image_now()->partition_count(), 0u);

  auto deleted = ctl.take_deleted_topics();
  ASSERT_EQ(deleted.size(), 2u);
  EXPECT_EQ(deleted[0].id, a.topic_id);
  EXPECT_EQ(deleted[0].partition_count, 2);
  EXPECT_TRUE(ctl.take_deleted_topics().empty());

  // The name is free again, with a new id and none of the old overrides.
  auto again = create_ok(ctl, topic("a"));
  EXPECT_NE(again.topic_id, a.topic_id);
  EXPECT_TRUE(h.image_now()->find_topic("a")->configs.empty());
}

TEST_F(controller_topics, delete_errors) {
  create_ok(ctl, topic("x"));
  model::uuid unknown_id;
  unknown_id.bytes[3] = 9;
  auto x_id = h.image_now()->find_topic("x")->id;
  auto results = ctl.delete_topics({topic_ref{"nope", {}}, topic_ref{std::nullopt, unknown_id},
                                    topic_ref{"x", x_id}, topic_ref{std::nullopt, {}}});
  EXPECT_EQ(error_of(results[0]), errc::unknown_topic);
  EXPECT_EQ(error_of(results[1]), errc::unknown_topic_id);
  EXPECT_EQ(error_of(results[2]), errc::invalid_request);  // both name and id
  EXPECT_EQ(error_of(results[3]), errc::invalid_request);  // neither
  auto dup = ctl.delete_topics({topic_ref{"x", {}}, topic_ref{"x", {}}});
  EXPECT_EQ(error_of(dup[0]), errc::invalid_request);
  EXPECT_NE(h.image_now()->find_topic("x"), nullptr);
}

TEST_F(controller_topics, delete_disabled_by_config) {
  memory_metadata_log other;
  harness h2(other, {{"delete.topic.enable", "false"}});
  create_ok(h2.ctl, topic("keep"));
  EXPECT_EQ(error_of(h2.ctl.delete_topics({topic_ref{"keep", {}}})[0]),
            errc::topic_deletion_disabled);
}

TEST_F(controller_topics, create_partitions_only_increases) {
  auto created = create_ok(ctl, topic("p", 2));
  auto results =
      ctl.create_partitions({{"p", 5, std::nullopt}, {"missing", 3, std::nullopt}}, false);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(error_of(results[1]), errc::unknown_topic);
  auto t = h.image_now()->find_topic("p");
  ASSERT_EQ(t->partition_count(), 5);
  EXPECT_EQ(t->partitions[4].partition, model::partition_id(4));
  EXPECT_EQ(t->id, created.topic_id);

  EXPECT_EQ(error_of(ctl.create_partitions({{"p", 5, std::nullopt}}, false)[0]),
            errc::invalid_partitions);
  EXPECT_EQ(error_of(ctl.create_partitions({{"p", 3, std::nullopt}}, false)[0]),
            errc::invalid_partitions);
  EXPECT_EQ(error_of(ctl.create_partitions({{"p", partitions_per_topic_max + 1, std::nullopt}},
                                           false)[0]),
            errc::invalid_partitions);
  using lists = std::vector<std::vector<int32_t>>;
  EXPECT_EQ(error_of(ctl.create_partitions({{"p", 7, lists{{1}}}}, false)[0]),
            errc::invalid_replica_assignment);
  EXPECT_EQ(error_of(ctl.create_partitions({{"p", 6, lists{{2}}}}, false)[0]),
            errc::invalid_replica_assignment);
  EXPECT_TRUE(ctl.create_partitions({{"p", 6, lists{{1}}}}, /*validate_only=*/true)[0]);
  EXPECT_EQ(h.image_now()->find_topic("p")->partition_count(), 5);
  EXPECT_TRUE(ctl.create_partitions({{"p", 6, lists{{1}}}}, false)[0]);
  EXPECT_EQ(h.image_now()->find_topic("p")->partition_count(), 6);
}

TEST_F(controller_topics, failed_append_fails_the_items_and_publishes_nothing) {
  create_ok(ctl, topic("before"));
  auto before = h.image_now();
  log.fail_appends(true);
  auto results = ctl.create_topics({topic("lost"), topic("bad", 0)}, false);
  EXPECT_EQ(error_of(results[0]), errc::log_io);
  EXPECT_EQ(error_of(results[1]), errc::invalid_partitions);
  EXPECT_EQ(h.image_now(), before);
  log.fail_appends(false);
  create_ok(ctl, topic("lost"));  // the controller still works once the log does
}

TEST_F(controller_topics, replay_equals_live_state) {
  create_ok(ctl, topic("a", 3, {{"retention.ms", "5000"}, {"cleanup.policy", "compact"}}));
  create_ok(ctl, topic("b", 1));
  create_ok(ctl, topic("c", 2));
  ASSERT_TRUE(ctl.create_partitions({{"a", 4, std::nullopt}}, false)[0]);
  ASSERT_TRUE(ctl.delete_topics({topic_ref{"b", {}}})[0]);
  ASSERT_TRUE(ctl.incremental_alter_configs(
      {{{config_resource_type::topic, "a"},
        {{"retention.ms", config_op::remove, std::nullopt},
         {"segment.bytes", config_op::set, "2097152"}}},
       {{config_resource_type::broker, ""}, {{"log.retention.ms", config_op::set, "1234"}}}},
      false)[0]);
  auto live = h.image_now();

  auto replayed = replay(log);
  ASSERT_TRUE(replayed) << replayed.error().message;
  const image& r = *replayed->replayed;
  EXPECT_EQ(r.offset(), live->offset());
  ASSERT_EQ(r.topics().size(), live->topics().size());
  for (const auto& [name, t] : live->topics()) {
    auto other = r.find_topic(name);
    ASSERT_NE(other, nullptr) << name;
    EXPECT_EQ(other->id, t->id);
    EXPECT_EQ(other->partitions, t->partitions);
    EXPECT_EQ(other->configs, t->configs);
  }
  EXPECT_EQ(r.all_broker_configs(), live->all_broker_configs());
  EXPECT_EQ(r.partition_count(), live->partition_count());
  ASSERT_EQ(replayed->deleted.size(), 1u);
  EXPECT_EQ(replayed->deleted[0].name, "b");
}

TEST_F(controller_topics, producer_ids_come_in_durable_blocks_and_never_repeat) {
  std::vector<int64_t> ids;
  for (int i = 0; i < controller::producer_id_block_size + 2; ++i) {
    auto id = ctl.next_producer_id();
    ASSERT_TRUE(id) << id.error().message;
    ids.push_back(*id);
  }
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1);
  EXPECT_EQ(h.image_now()->next_producer_id(), 2 * controller::producer_id_block_size);
  // After a restart the new controller starts past every block taken before.
  harness again(log);
  auto next = again.ctl.next_producer_id();
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2 * controller::producer_id_block_size);
}

}  // namespace
}  // namespace sluice::cluster
