#include "protocol/errors.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string_view>

namespace sluice::protocol {
namespace {

TEST(errors, known_codes_have_kafkas_values) {
  EXPECT_EQ(static_cast<int16_t>(error_code::unknown_server_error), -1);
  EXPECT_EQ(static_cast<int16_t>(error_code::none), 0);
  EXPECT_EQ(static_cast<int16_t>(error_code::offset_out_of_range), 1);
  EXPECT_EQ(static_cast<int16_t>(error_code::unknown_topic_or_partition), 3);
  EXPECT_EQ(static_cast<int16_t>(error_code::not_leader_or_follower), 6);
  EXPECT_EQ(static_cast<int16_t>(error_code::not_coordinator), 16);
  EXPECT_EQ(static_cast<int16_t>(error_code::unsupported_version), 35);
  EXPECT_EQ(static_cast<int16_t>(error_code::invalid_request), 42);
  EXPECT_EQ(static_cast<int16_t>(error_code::member_id_required), 79);
  EXPECT_EQ(static_cast<int16_t>(error_code::unknown_topic_id), 100);
  EXPECT_EQ(static_cast<int16_t>(error_code::stale_member_epoch), 113);
  EXPECT_EQ(static_cast<int16_t>(error_code::share_session_limit_reached), 133);
  EXPECT_EQ(max_error_code, 133);
}

TEST(errors, names_are_kafkas) {
  EXPECT_EQ(error_name(error_code::unknown_server_error), "UNKNOWN_SERVER_ERROR");
  EXPECT_EQ(error_name(error_code::none), "NONE");
  EXPECT_EQ(error_name(error_code::unknown_topic_or_partition), "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_EQ(error_name(error_code::invalid_topic_exception), "INVALID_TOPIC_EXCEPTION");
  EXPECT_EQ(error_name(error_code::sasl_authentication_failed), "SASL_AUTHENTICATION_FAILED");
  EXPECT_EQ(error_name(error_code::rebootstrap_required), "REBOOTSTRAP_REQUIRED");
  EXPECT_EQ(error_name(static_cast<error_code>(-2)), "UNKNOWN_ERROR_CODE");
  EXPECT_EQ(error_name(static_cast<error_code>(max_error_code + 1)), "UNKNOWN_ERROR_CODE");
}

TEST(errors, retriable_as_in_kafka) {
  EXPECT_TRUE(is_retriable(error_code::corrupt_message));
  EXPECT_TRUE(is_retriable(error_code::unknown_topic_or_partition));
  EXPECT_TRUE(is_retriable(error_code::not_leader_or_follower));
  EXPECT_TRUE(is_retriable(error_code::request_timed_out));
  EXPECT_TRUE(is_retriable(error_code::coordinator_load_in_progress));
  EXPECT_TRUE(is_retriable(error_code::not_enough_replicas));
  EXPECT_TRUE(is_retriable(error_code::concurrent_transactions));
  EXPECT_TRUE(is_retriable(error_code::unstable_offset_commit));
  EXPECT_FALSE(is_retriable(error_code::none));
  EXPECT_FALSE(is_retriable(error_code::unknown_server_error));
  EXPECT_FALSE(is_retriable(error_code::offset_out_of_range));
  EXPECT_FALSE(is_retriable(error_code::message_too_large));
  EXPECT_FALSE(is_retriable(error_code::rebalance_in_progress));
  EXPECT_FALSE(is_retriable(error_code::topic_authorization_failed));
  EXPECT_FALSE(is_retriable(static_cast<error_code>(max_error_code + 1)));
}

TEST(errors, table_is_complete_and_unique) {
  auto errors = all_errors();
  ASSERT_EQ(errors.size(), static_cast<size_t>(max_error_code) + 2);
  std::set<int16_t> codes;
  std::set<std::string_view> names;
  for (const error_info& e : errors) {
    auto code = static_cast<int16_t>(e.code);
    EXPECT_TRUE(is_known_error_code(code)) << code;
    EXPECT_TRUE(codes.insert(code).second) << "code " << code << " twice";
    EXPECT_TRUE(names.insert(e.name).second) << "name " << e.name << " twice";
    EXPECT_EQ(error_name(e.code), e.name);
    EXPECT_EQ(is_retriable(e.code), e.retriable) << e.name;
    // Kafka's names are UPPER_SNAKE_CASE.
    EXPECT_FALSE(e.name.empty());
    for (char c : e.name) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') << e.name;
    }
  }
  EXPECT_FALSE(is_known_error_code(-2));
  EXPECT_FALSE(is_known_error_code(max_error_code + 1));
}

}  // namespace
}  // namespace sluice::protocol
