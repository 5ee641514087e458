#include "common/result.hpp"

#include <gtest/gtest.h>

namespace rampart {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error(Errc::kInvalidArgument, "must be positive");
  return v;
}

TEST(Result, CarriesValueOrError) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);

  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "must be positive");
  EXPECT_THROW(bad.value(), std::runtime_error);
}

TEST(Result, ErrcNames) {
  EXPECT_EQ(to_string(Errc::kNotFound), "not_found");
  EXPECT_EQ(to_string(Errc::kConflict), "conflict");
}

}  // namespace
}  // namespace rampart
