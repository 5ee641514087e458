#include "cli/split_arg.hpp"

#include <gtest/gtest.h>

namespace rampart::cli {
namespace {

struct ShareCase {
  const char* arg;
  const char* version;  // nullptr: refused
  std::uint32_t basis_points;
};

TEST(SplitArg, Cases) {
  const ShareCase cases[] = {
      {"v1=90", "v1", 9000},
      {"v1@90", "v1", 9000},
      {"v1@12.5", "v1", 1250},
      {"v2=33.33", "v2", 3333},
      {"v2=0.01", "v2", 1},
      {"v2=0", "v2", 0},
      {"v2=100", "v2", 10000},
      {"v2=100.0", "v2", 10000},
      {"v2=100.00", "v2", 10000},
      {"v2=90%", "v2", 9000},
      {"canary-2.1_b=5", "canary-2.1_b", 500},
      {"v1=abc", nullptr, 0},
      {"v1=", nullptr, 0},
      {"=90", nullptr, 0},
      {"v1", nullptr, 0},
      {"90", nullptr, 0},
      {"v1=12.345", nullptr, 0},
      {"v1=12.", nullptr, 0},
      {"v1=.5", nullptr, 0},
      {"v1=-5", nullptr, 0},
      {"v1=+5", nullptr, 0},
      {"v1=100.01", nullptr, 0},
      {"v1=101", nullptr, 0},
      {"v1=1000", nullptr, 0},
      {"v1=1e2", nullptr, 0},
      {"v1= 90", nullptr, 0},
      {"v1=90%%", nullptr, 0},
      {"v 1=90", nullptr, 0},
      {"-v1=90", nullptr, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.arg);
    auto share = parse_split_arg(c.arg);
    if (c.version == nullptr) {
      ASSERT_FALSE(share);
      EXPECT_EQ(share.error().code, Errc::kInvalidArgument);
      EXPECT_EQ(share.error().message.rfind(
                    std::string("split: \"") + c.arg + "\" is not VERSION=PERCENT", 0),
                0u)
          << share.error().message;
      EXPECT_EQ(share.error().message.find('\n'), std::string::npos);
      continue;
    }
    ASSERT_TRUE(share) << share.error().message;
    EXPECT_EQ(share->version, c.version);
    EXPECT_EQ(share->basis_points, c.basis_points);
  }
}

TEST(SplitArg, ListKeepsOrderAndRefusesRepeats) {
  auto shares = parse_split_args({"v2=10", "v1@90"});
  ASSERT_TRUE(shares);
  ASSERT_EQ(shares->size(), 2u);
  EXPECT_EQ((*shares)[0].version, "v2");
  EXPECT_EQ((*shares)[1].basis_points, 9000u);

  auto twice = parse_split_args({"v1=50", "v1=50"});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, "split: version \"v1\" is named twice");

  auto bad = parse_split_args({"v1=50", "v2=x"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"v2=x\""), std::string::npos);

  EXPECT_FALSE(parse_split_args({}));
}

TEST(SplitArg, FormatPercent) {
  EXPECT_EQ(format_percent(9000), "90");
  EXPECT_EQ(format_percent(1250), "12.5");
  EXPECT_EQ(format_percent(3333), "33.33");
  EXPECT_EQ(format_percent(5), "0.05");
  EXPECT_EQ(format_percent(0), "0");
  EXPECT_EQ(format_percent(10000), "100");
}

}  // namespace
}  // namespace rampart::cli
