#include "cli/times.hpp"

#include <gtest/gtest.h>

namespace rampart::cli {
namespace {

// 2026-11-23T15:20:01.123Z
constexpr std::int64_t kNow = 1795447201123;

struct TimeCase {
  const char* text;
  std::int64_t ms;  // -1: refused
};

TEST(Times, Rfc3339) {
  const TimeCase cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"1970-01-01T00:00:00.001Z", 1},
      {"2026-11-23T15:20:01.123Z", kNow},
      {"2026-11-23t15:20:01.123z", kNow},
      {"2026-11-23 15:20:01.123Z", kNow},
      {"2026-11-23T15:20:01.1234567Z", kNow},
      {"2026-11-23T15:20:01.1Z", kNow - 23},
      {"2026-11-23T15:20:01Z", kNow - 123},
      {"2026-11-23T17:20:01.123+02:00", kNow},
      {"2026-11-23T13:50:01.123-01:30", kNow},
      {"2026-11-23", kNow - (15 * 3600 + 20 * 60 + 1) * 1000 - 123},
      {"2024-02-29T00:00:00Z", 1709164800000},
      {"2000-03-01T00:00:00Z", 951868800000},
      {"2026-02-29T00:00:00Z", -1},
      {"2026-13-01T00:00:00Z", -1},
      {"2026-11-31", -1},
      {"2026-11-23T24:00:00Z", -1},
      {"2026-11-23T15:60:00Z", -1},
      {"2026-11-23T15:20:01", -1},
      {"2026-11-23T15:20:01.Z", -1},
      {"2026-11-23T15:20:01+0200", -1},
      {"2026-11-23X15:20:01Z", -1},
      {"2026/11/23", -1},
      {"", -1},
      {"yesterday", -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto t = parse_rfc3339(c.text);
    if (c.ms < 0) {
      EXPECT_FALSE(t) << *t;
      continue;
    }
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(*t, c.ms);
  }
}

TEST(Times, Since) {
  const TimeCase cases[] = {
      {"30s", kNow - 30000},
      {"10m", kNow - 600000},
      {"2h", kNow - 7200000},
      {"7d", kNow - 7 * 86400000LL},
      {"1w", kNow - 7 * 86400000LL},
      {"1h30m", kNow - 5400000},
      {"500ms", kNow - 500},
      {"0s", kNow},
      {"100000d", 0},  // before 1970: from the beginning
      {"1795447201123", kNow},
      {"0", 0},
      {"2026-11-23T15:20:01.123Z", kNow},
      {"2026-11-23T15:20:01Z", kNow - 123},
      {"", -1},
      {"10", 10},
      {"10x", -1},
      {"m", -1},
      {"10m5", -1},
      {"-10m", -1},
      {"1.5h", -1},
      {"9999999999999999", -1},
      {"soon", -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto t = parse_since(c.text, kNow);
    if (c.ms < 0) {
      ASSERT_FALSE(t) << *t;
      EXPECT_NE(t.error().message.find("--since"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(*t, c.ms);
  }
}

TEST(Times, DurationsAreCommonDurationsWithTheCliBound) {
  EXPECT_EQ(parse_duration_ms("1w").value(), 7 * 86400000LL);
  EXPECT_EQ(parse_duration_ms("400d").value(), 400 * 86400000LL);  // more than a pause may be
  EXPECT_EQ(parse_duration_ms("1h30m").value(), 5400000);
  for (const char* text : {"", "10", "1.5h", "5 min", "9999999999w"}) {
    auto d = parse_duration_ms(text);
    ASSERT_FALSE(d) << text;
    EXPECT_EQ(d.error().message,
              "\"" + std::string(text) +
                  "\" is not a duration; write a number and a unit (ms, s, m, h, d, w), e.g. 30s, "
                  "10m, 2h, 30d or 1h30m");
  }
}

TEST(Times, Age) {
  EXPECT_EQ(format_age(-5000), "0s");
  EXPECT_EQ(format_age(0), "0s");
  EXPECT_EQ(format_age(12999), "12s");
  EXPECT_EQ(format_age(60000), "1m");
  EXPECT_EQ(format_age(5 * 60000 + 59000), "5m");
  EXPECT_EQ(format_age(3 * 3600000 + 1), "3h");
  EXPECT_EQ(format_age(2 * 86400000LL + 5), "2d");
  EXPECT_EQ(age_of("2026-11-23T15:19:49.123Z", kNow), "12s");
  EXPECT_EQ(age_of("garbage", kNow), "-");
}

}  // namespace
}  // namespace rampart::cli
