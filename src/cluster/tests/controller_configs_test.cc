#include <gtest/gtest.h>

#include "cluster/config_resolver.h"
#include "cluster/tests/test_util.h"
#include "config/topic_config_catalogue.h"

namespace sluice::cluster {
namespace {

using namespace testing;

config_resource topic_resource(std::string name) {
  return {config_resource_type::topic, std::move(name)};
}
config_resource broker_resource(std::string name) {
  return {config_resource_type::broker, std::move(name)};
}

class controller_configs : public ::testing::Test {
 protected:
  void SetUp() override { create_ok(ctl, topic("t", 1, {{"retention.ms", "1000"}})); }
  const config_map& overrides() { return h.image_now()->find_topic("t")->configs; }
  cresult<void> alter_one(std::vector<config_alteration> alterations, bool validate_only = false) {
    auto results = ctl.incremental_alter_configs(
        {config_change{topic_resource("t"), std::move(alterations)}}, validate_only);
    return std::move(results.at(0));
  }

  memory_metadata_log log;
  harness h{log};
  controller& ctl = h.ctl;
};

TEST(topic_config_catalogue, defaults_are_valid_and_lookup_works) {
  for (const auto& tdef : config::topic_config_defs()) {
    ASSERT_TRUE(tdef.def.default_value) << tdef.def.name;
    auto parsed = config::validate_topic_config(tdef, *tdef.def.default_value);
    EXPECT_TRUE(parsed) << tdef.def.name;
    EXPECT_EQ(config::find_topic_config(tdef.def.name), &tdef);
  }
  EXPECT_EQ(config::find_topic_config("log.retention.ms"), nullptr);
  EXPECT_EQ(config::find_topic_config("retention.ms")->synonyms.size(), 3u);
}

TEST(topic_config_catalogue, value_rules) {
  config::config_error e;
  EXPECT_TRUE(config::validate_topic_overrides({{"cleanup.policy", "compact,delete"}}));
  EXPECT_FALSE(config::validate_topic_overrides({{"cleanup.policy", "compact,shred"}}));
  EXPECT_FALSE(config::validate_topic_overrides({{"compression.gzip.level", "0"}}));
  EXPECT_TRUE(config::validate_topic_overrides({{"compression.gzip.level", "-1"}}));
  EXPECT_FALSE(config::validate_topic_overrides({{"segment.bytes", "1000"}}));
  EXPECT_FALSE(config::validate_topic_overrides({{"min.cleanable.dirty.ratio", "1.5"}}));
  EXPECT_FALSE(config::validate_topic_overrides({{"retention.ms", "-2"}}));
  EXPECT_FALSE(config::validate_topic_overrides(
      {{"min.compaction.lag.ms", "10"}, {"max.compaction.lag.ms", "5"}}));
  EXPECT_EQ(config::convert_synonym_value({"h", config::synonym_unit::hours_to_ms}, "2"),
            "7200000");
  EXPECT_EQ(config::convert_synonym_value({"h", config::synonym_unit::hours_to_ms}, "-1"), "-1");
}

TEST_F(controller_configs, alter_configs_replaces_the_whole_set) {
  auto results = ctl.alter_configs(
      {config_replacement{topic_resource("t"), {{"segment.ms", "60000"}}}}, false);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(overrides(), (config_map{{"segment.ms", "60000"}}));
}

TEST_F(controller_configs, alter_configs_errors) {
  // One resource per request: a resource named twice in one request is an error of its own.
  auto alter = [&](config_resource resource, std::vector<config_entry> entries) {
    return std::move(
        ctl.alter_configs({config_replacement{std::move(resource), entries}}, false).at(0));
  };
  EXPECT_EQ(error_of(alter(topic_resource("missing"), {})), errc::unknown_topic);
  EXPECT_EQ(error_of(alter(topic_resource(""), {})), errc::invalid_request);
  EXPECT_EQ(error_of(alter(topic_resource("t"), {{"retention.ms", "x"}})), errc::invalid_config);
  EXPECT_EQ(error_of(alter(topic_resource("t"), {{"retention.ms", std::nullopt}})),
            errc::invalid_config);
  EXPECT_EQ(error_of(alter(topic_resource("t"), {{"segment.ms", "1"}, {"segment.ms", "2"}})),
            errc::invalid_request);
  EXPECT_EQ(error_of(alter(broker_resource("abc"), {})), errc::invalid_request);
  EXPECT_EQ(error_of(alter(broker_resource("1"), {{"listeners", "PLAINTEXT://:1"}})),
            errc::invalid_config);
  EXPECT_EQ(error_of(alter(broker_resource("1"), {{"no.such.key", "1"}})), errc::invalid_config);
  auto dup = ctl.alter_configs(
      {config_replacement{topic_resource("t"), {}}, config_replacement{topic_resource("t"), {}}},
      false);
  EXPECT_EQ(error_of(dup[0]), errc::invalid_request);
  EXPECT_EQ(error_of(dup[1]), errc::invalid_request);
  EXPECT_EQ(overrides(), (config_map{{"retention.ms", "1000"}}));
}

TEST_F(controller_configs, incremental_set_and_delete) {
  ASSERT_TRUE(alter_one({{"segment.ms", config_op::set, "60000"},
                         {"retention.ms", config_op::remove, std::nullopt},
                         {"not.set.anywhere", config_op::remove, std::nullopt}}));
  EXPECT_EQ(overrides(), (config_map{{"segment.ms", "60000"}}));
  ASSERT_TRUE(alter_one({{"segment.ms", config_op::set, "1"}}, /*validate_only=*/true));
  EXPECT_EQ(overrides(), (config_map{{"segment.ms", "60000"}}));
}

TEST_F(controller_configs, incremental_append_and_subtract_on_lists) {
  // No override yet: APPEND starts from the default, "delete".
  ASSERT_TRUE(alter_one({{"cleanup.policy", config_op::append, "compact"}}));
  EXPECT_EQ(overrides().at("cleanup.policy"), "delete,compact");
  ASSERT_TRUE(alter_one({{"cleanup.policy", config_op::append, "compact"}}));
  EXPECT_EQ(overrides().at("cleanup.policy"), "delete,compact") << "APPEND keeps items unique";
  ASSERT_TRUE(alter_one({{"cleanup.policy", config_op::subtract, "delete"}}));
  EXPECT_EQ(overrides().at("cleanup.policy"), "compact");
  EXPECT_EQ(error_of(alter_one({{"cleanup.policy", config_op::append, "shred"}})),
            errc::invalid_config);
  EXPECT_EQ(error_of(alter_one({{"retention.ms", config_op::append, "5"}})), errc::invalid_config);
  EXPECT_EQ(error_of(alter_one({{"retention.ms", config_op::subtract, "5"}})),
            errc::invalid_config);
  EXPECT_EQ(error_of(alter_one({{"cleanup.policy", config_op::append, std::nullopt}})),
            errc::invalid_config);
  EXPECT_EQ(overrides().at("cleanup.policy"), "compact");
}

TEST_F(controller_configs, incremental_errors) {
  EXPECT_EQ(error_of(alter_one({{"segment.ms", config_op::set, std::nullopt}})),
            errc::invalid_config);
  EXPECT_EQ(error_of(alter_one({{"segment.ms", config_op::set, "1"},
                                {"segment.ms", config_op::remove, std::nullopt}})),
            errc::invalid_request);
  EXPECT_EQ(error_of(alter_one({{"bogus.key", config_op::set, "1"}})), errc::invalid_config);
  EXPECT_EQ(error_of(alter_one({{"min.insync.replicas", config_op::set, "0"}})),
            errc::invalid_config);
  std::string huge(config_value_bytes_max + 1, 'x');
  EXPECT_EQ(error_of(alter_one({{"compression.type", config_op::set, huge}})),
            errc::invalid_config);
  EXPECT_EQ(error_of(ctl.create_topics({topic("big", 1, {{"compression.type", huge}})}, false)[0]),
            errc::invalid_config);
}

TEST_F(controller_configs, unchanged_values_write_nothing) {
  auto before = log.next_offset();
  ASSERT_TRUE(alter_one({{"retention.ms", config_op::set, "1000"}}));
  EXPECT_EQ(log.next_offset(), before);
}

TEST_F(controller_configs, broker_dynamic_configs) {
  auto results = ctl.incremental_alter_configs(
      {config_change{broker_resource(""), {{"log.retention.ms", config_op::set, "3600000"}}},
       config_change{broker_resource("1"), {{"log.cleanup.policy", config_op::append, "compact"}}}},
      false);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  ASSERT_TRUE(results[1]) << results[1].error().message;
  EXPECT_EQ(h.image_now()->broker_configs("").at("log.retention.ms"), "3600000");
  EXPECT_EQ(h.image_now()->broker_configs("1").at("log.cleanup.policy"), "delete,compact");

  // A broker value must also be a valid value of the topic key it provides.
  for (auto [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"log.cleanup.policy", "shred"},
                                                        {"log.segment.bytes", "1000"},
                                                        {"log.retention.ms", "-5"},
                                                        {"log.retention.hours", "x"}}) {
    auto r = ctl.incremental_alter_configs(
        {config_change{broker_resource(""), {{key, config_op::set, value}}}}, false);
    EXPECT_EQ(error_of(r.at(0)), errc::invalid_config) << key << "=" << value;
  }
}

TEST(config_resolver, sources_and_synonyms_follow_kafka_precedence) {
  memory_metadata_log log;
  harness h(log, {{"log.retention.hours", "2"}});
  create_ok(h.ctl, topic("t"));
  std::vector<std::string> key = {"retention.ms"};
  auto describe = [&](const config_map& overrides) {
    config_resolver resolver(*h.image_now(), h.config);
    auto d = resolver.describe_topic(overrides, {key, true});
    EXPECT_EQ(d.size(), 1u);
    return d.at(0);
  };

  auto d = describe({});
  EXPECT_EQ(d.value, "7200000");
  EXPECT_EQ(d.source, config_source::static_broker);
  ASSERT_EQ(d.synonyms.size(), 2u);
  EXPECT_EQ(d.synonyms[0].name, "log.retention.hours");
  EXPECT_EQ(d.synonyms[0].value, "2");
  EXPECT_EQ(d.synonyms[1].source, config_source::default_value);
  EXPECT_EQ(d.synonyms[1].value, "168");

  ASSERT_TRUE(h.ctl.incremental_alter_configs(
      {config_change{broker_resource(""), {{"log.retention.minutes", config_op::set, "3"}}}},
      false)[0]);
  d = describe({});
  EXPECT_EQ(d.value, "180000");
  EXPECT_EQ(d.source, config_source::dynamic_default_broker);

  ASSERT_TRUE(h.ctl.incremental_alter_configs(
      {config_change{broker_resource("1"), {{"log.retention.ms", config_op::set, "99"}}}},
      false)[0]);
  d = describe({});
  EXPECT_EQ(d.value, "99");
  EXPECT_EQ(d.source, config_source::dynamic_broker);

  d = describe({{"retention.ms", "5"}});
  EXPECT_EQ(d.value, "5");
  EXPECT_EQ(d.source, config_source::topic_override);
  std::vector<config_source> order;
  for (const auto& s : d.synonyms) order.push_back(s.source);
  EXPECT_EQ(order, (std::vector<config_source>{
                       config_source::topic_override, config_source::dynamic_broker,
                       config_source::dynamic_default_broker, config_source::static_broker,
                       config_source::default_value}));
}

TEST(config_resolver, defaults_describe_and_effective_values) {
  memory_metadata_log log;
  harness h(log);
  config_resolver resolver(*h.image_now(), h.config);
  auto all = resolver.describe_topic({}, {});
  EXPECT_EQ(all.size(), config::topic_config_defs().size());
  for (const auto& d : all) {
    EXPECT_EQ(d.source, config_source::default_value) << d.name;
    EXPECT_TRUE(d.synonyms.empty());
  }
  auto effective = resolver.effective_topic_configs({{"segment.bytes", "2097152"}});
  EXPECT_EQ(effective.at("segment.bytes"), "2097152");
  EXPECT_EQ(effective.at("retention.ms"), "604800000");
  EXPECT_EQ(effective.at("cleanup.policy"), "delete");
  EXPECT_EQ(effective.at("message.timestamp.after.max.ms"), "3600000");
}

TEST(config_resolver, configs_of_a_created_topic) {
  memory_metadata_log log;
  harness h(log);
  auto created = create_ok(h.ctl, topic("t", 1, {{"cleanup.policy", "compact"}}));
  config_resolver resolver(*h.image_now(), h.config);
  for (const auto& d : resolver.describe_topic(created.configs, {})) {
    if (d.name == "cleanup.policy") {
      EXPECT_EQ(d.value, "compact");
      EXPECT_EQ(d.source, config_source::topic_override);
    } else {
      EXPECT_EQ(d.source, config_source::default_value) << d.name;
    }
  }
}

TEST(config_resolver, broker_resource) {
  memory_metadata_log log;
  harness h(log, {{"num.partitions", "3"}});
  ASSERT_TRUE(h.ctl.incremental_alter_configs(
      {config_change{broker_resource(""), {{"log.segment.bytes", config_op::set, "2097152"}}}},
      false)[0]);
  config_resolver resolver(*h.image_now(), h.config);
  auto mine = resolver.describe_broker("1", {});
  ASSERT_TRUE(mine);
  for (const auto& d : *mine) {
    if (d.name == "num.partitions") {
      EXPECT_EQ(d.value, "3");
      EXPECT_EQ(d.source, config_source::static_broker);
      EXPECT_TRUE(d.read_only);
    }
    if (d.name == "log.segment.bytes") {
      EXPECT_EQ(d.value, "2097152");
      EXPECT_EQ(d.source, config_source::dynamic_default_broker);
      EXPECT_FALSE(d.read_only);
    }
  }
  auto defaults = resolver.describe_broker("", {});
  ASSERT_TRUE(defaults);
  ASSERT_EQ(defaults->size(), 1u);
  EXPECT_EQ(defaults->at(0).name, "log.segment.bytes");
  EXPECT_EQ(error_of(resolver.describe_broker("7", {})), errc::invalid_request);
}

}  // namespace
}  // namespace sluice::cluster
