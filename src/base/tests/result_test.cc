#include "base/result.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

enum class test_errc { bad };

result<int, test_errc> half(int v) {
  if (v % 2 != 0) return failure(test_errc::bad);
  return v / 2;
}

TEST(result, carries_value_or_error) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), test_errc::bad);
}

TEST(result, void_result_reports_failure) {
  result<void, std::string> ok;
  EXPECT_TRUE(ok);
  result<void, std::string> bad = failure(std::string("no"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "no");
}

TEST(result_death, value_of_failure_aborts) {
  auto bad = half(3);
  EXPECT_DEATH((void)bad.value(), "value\\(\\) of a failed result");
}

}  // namespace
}  // namespace sluice
