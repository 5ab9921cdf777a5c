#include "config/broker_config.h"

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

TEST(broker_config, defaults_need_no_file) {
  auto cfg = broker_config::from_properties({});
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->get_int("num.partitions"), 1);
  EXPECT_TRUE(cfg->get_bool("auto.create.topics.enable"));
  EXPECT_EQ(cfg->get_int("socket.request.max.bytes"), 104857600);
  EXPECT_EQ(cfg->get_string("listeners"), "PLAINTEXT://127.0.0.1:9092");
  EXPECT_EQ(cfg->log_dirs(), std::vector<std::string>{"/tmp/kafka-logs"});
  EXPECT_EQ(cfg->log_retention_ms(), 168LL * 3600 * 1000);
  EXPECT_EQ(cfg->node_id(), 1);
}

TEST(broker_config, unknown_key_is_an_error_that_names_it) {
  auto cfg = broker_config::from_properties({{"num.partitons", "3"}});
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("num.partitons"), std::string::npos);
}

TEST(broker_config, bad_values_are_errors_that_name_key_and_value) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"num.partitions", "zero"},
           {"num.partitions", "0"},
           {"auto.create.topics.enable", "yes"},
           {"socket.request.max.bytes", "99999999999"},
           {"log.message.timestamp.type", "WallClock"}}) {
    auto cfg = broker_config::from_properties({{key, value}});
    ASSERT_FALSE(cfg) << key << "=" << value;
    EXPECT_NE(cfg.error().message.find(key), std::string::npos);
    EXPECT_NE(cfg.error().message.find(value), std::string::npos);
  }
}

TEST(broker_config, synonyms_follow_kafka_precedence) {
  auto cfg = broker_config::from_properties({{"broker.id", "7"},
                                             {"log.dirs", "/a, /b"},
                                             {"log.retention.minutes", "5"},
                                             {"log.retention.hours", "1"}});
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->node_id(), 7);
  EXPECT_EQ(cfg->log_dirs(), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(cfg->log_retention_ms(), 5 * 60 * 1000);
}

TEST(broker_config, kraft_keys_are_accepted_and_reported_unused) {
  auto cfg = broker_config::from_properties(
      {{"process.roles", "broker,controller"}, {"controller.quorum.voters", "1@localhost:9093"}});
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->accepted_but_unused(),
            (std::vector<std::string>{"controller.quorum.voters", "process.roles"}));
}

}  // namespace
}  // namespace sluice::config
