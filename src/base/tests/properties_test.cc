#include "base/properties.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(properties, parses_kafka_server_properties_forms) {
  auto parsed = parse_properties(
      "# comment\n"
      "! also a comment\n"
      "node.id=1\n"
      "listeners = PLAINTEXT://127.0.0.1:9092\n"
      "log.dirs: /tmp/a\n"
      "num.partitions 3\n"
      "long.value=a,\\\n"
      "    b\n"
      "escaped=tab\\there\n"
      "empty=\n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& p = *parsed;
  EXPECT_EQ(p.at("node.id"), "1");
  EXPECT_EQ(p.at("listeners"), "PLAINTEXT://127.0.0.1:9092");
  EXPECT_EQ(p.at("log.dirs"), "/tmp/a");
  EXPECT_EQ(p.at("num.partitions"), "3");
  EXPECT_EQ(p.at("long.value"), "a,b");
  EXPECT_EQ(p.at("escaped"), "tab\there");
  EXPECT_EQ(p.at("empty"), "");
  EXPECT_EQ(p.size(), 7u);
}

TEST(properties, later_keys_win_and_crlf_is_accepted) {
  auto parsed = parse_properties("a=1\r\na=2\r\n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->at("a"), "2");
}

TEST(properties, reports_bad_unicode_escape_with_line) {
  auto parsed = parse_properties("ok=1\nbad=\\uZZZZ\n");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().line, 2);
}

TEST(properties, missing_file_is_an_error) {
  auto parsed = read_properties_file("/nonexistent/server.properties");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("/nonexistent"), std::string::npos);
}

}  // namespace
}  // namespace sluice
