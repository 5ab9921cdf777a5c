#include <gtest/gtest.h>

#include "cluster/tests/test_util.h"

namespace sluice::cluster {
namespace {

using namespace testing;

TEST(topic_name, kafka_rules) {
  EXPECT_TRUE(validate_topic_name("orders"));
  EXPECT_TRUE(validate_topic_name("a.b_c-D9"));
  EXPECT_TRUE(validate_topic_name("..."));
  EXPECT_TRUE(validate_topic_name(std::string(249, 'x')));
  for (std::string bad : {std::string(), std::string("."), std::string(".."), std::string(250, 'x'),
                          std::string("with space"), std::string("a/b"), std::string("caf\xc3\xa9"),
                          std::string("tab\t"), std::string("a:b")}) {
    auto r = validate_topic_name(bad);
    ASSERT_FALSE(r) << "'" << bad << "' accepted";
    EXPECT_EQ(r.error().code, errc::invalid_topic_name);
  }
}

TEST(topic_name, invalid_names_are_rejected_by_create) {
  memory_metadata_log log;
  harness h(log);
  auto results = h.ctl.create_topics({topic(""), topic(".."), topic("a b")}, false);
  for (const auto& r : results) EXPECT_EQ(error_of(r), errc::invalid_topic_name);
  EXPECT_TRUE(h.image_now()->topics().empty());
}

TEST(topic_name, dot_and_underscore_collide) {
  memory_metadata_log log;
  harness h(log);
  create_ok(h.ctl, topic("metrics.cpu"));
  auto results = h.ctl.create_topics(
      {topic("metrics_cpu"), topic("metrics.cpu"), topic("metrics-cpu")}, false);
  EXPECT_EQ(error_of(results[0]), errc::invalid_topic_name);
  EXPECT_NE(results[0].error().message.find("metrics.cpu"), std::string::npos);
  EXPECT_EQ(error_of(results[1]), errc::topic_already_exists);
  EXPECT_TRUE(results[2]) << "'-' is not part of the collision rule";
}

TEST(topic_name, collision_within_one_request) {
  memory_metadata_log log;
  harness h(log);
  auto results = h.ctl.create_topics({topic("a_b"), topic("a.b")}, false);
  EXPECT_TRUE(results[0]);
  EXPECT_EQ(error_of(results[1]), errc::invalid_topic_name);
}

TEST(topic_name, deleting_a_topic_frees_its_colliding_names) {
  memory_metadata_log log;
  harness h(log);
  create_ok(h.ctl, topic("x.y"));
  ASSERT_TRUE(h.ctl.delete_topics({topic_ref{"x.y", {}}})[0]);
  create_ok(h.ctl, topic("x_y"));
}

}  // namespace
}  // namespace sluice::cluster
