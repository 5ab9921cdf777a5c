#include "server/endpoint.h"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

std::map<std::string, security_protocol> default_map() {
  return *parse_protocol_map(
      "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL");
}

TEST(endpoint, parses_kafka_listener_forms) {
  auto eps =
      parse_endpoints("PLAINTEXT://127.0.0.1:9092, SSL://:9093,sasl_ssl://[::1]:0", default_map());
  ASSERT_TRUE(eps) << eps.error().message;
  ASSERT_EQ(eps->size(), 3u);
  EXPECT_EQ((*eps)[0].host, "127.0.0.1");
  EXPECT_EQ((*eps)[0].port, 9092);
  EXPECT_EQ((*eps)[1].host, "");
  EXPECT_EQ((*eps)[1].protocol, security_protocol::ssl);
  EXPECT_EQ((*eps)[2].listener_name, "SASL_SSL");
  EXPECT_EQ((*eps)[2].host, "::1");
  EXPECT_EQ((*eps)[2].port, 0);
}

TEST(endpoint, rejects_bad_listeners_with_a_message) {
  for (const char* bad : {"127.0.0.1:9092", "PLAINTEXT://host", "PLAINTEXT://h:70000",
                          "PLAINTEXT://h:x", "FOO://h:1", "PLAINTEXT://a:1,PLAINTEXT://b:2", ""}) {
    auto eps = parse_endpoints(bad, default_map());
    ASSERT_FALSE(eps) << bad;
    EXPECT_FALSE(eps.error().message.empty());
  }
}

TEST(endpoint, custom_listener_names_come_from_the_protocol_map) {
  auto map = parse_protocol_map("CLIENT:PLAINTEXT,INTERNAL:SSL");
  ASSERT_TRUE(map);
  auto eps = parse_endpoints("CLIENT://localhost:1,INTERNAL://localhost:2", *map);
  ASSERT_TRUE(eps) << eps.error().message;
  EXPECT_EQ((*eps)[1].protocol, security_protocol::ssl);
}

}  // namespace
}  // namespace sluice::server
