#include "common/duration.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rampart {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ParsesEveryUnitAndCombinations) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"0s", 0},
      {"500ms", 500},
      {"30s", 30'000},
      {"5m", 300'000},
      {"24h", 86'400'000},
      {"7d", 604'800'000},
      {"1h30m", 5'400'000},
      {"1m500ms", 60'500},
      {"365d", 31'536'000'000},
      {"1w", 604'800'000},
      {"2w3d", 1'468'800'000},
      {"52w", 31'449'600'000},
  };
  for (const auto& [text, ms] : cases) {
    auto d = parse_duration(text);
    ASSERT_TRUE(d) << text << ": " << d.error().message;
    EXPECT_EQ(d->count(), ms) << text;
  }
}

TEST(Duration, RefusesWhatIsNotADurationAndShowsTheForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "(it is empty)"},
      {"30", "(it has no unit)"},
      {"5 min", ""},
      {"5min", ""},
      {"-5s", ""},
      {"1.5h", ""},
      {"s", ""},
      {"366d", "(longer than 365d)"},
      {"99999999999999999999d", "(longer than 365d)"},
      {"53w", "(longer than 365d)"},
      {"1ww", ""},
  };
  for (const auto& [text, why] : cases) {
    auto d = parse_duration(text);
    ASSERT_FALSE(d) << text;
    EXPECT_EQ(d.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(d.error().message.starts_with("\"" + text + "\" is not a duration"))
        << d.error().message;
    EXPECT_NE(d.error().message.find(why), std::string::npos) << d.error().message;
    EXPECT_NE(d.error().message.find("e.g. 500ms, 30s, 5m, 24h"), std::string::npos);
  }
}

TEST(Duration, ALargerBoundIsHonouredWithoutOverflow) {
  auto far = parse_duration("400d", milliseconds(500LL * 86'400'000));
  ASSERT_TRUE(far) << far.error().message;
  EXPECT_EQ(far->count(), 400LL * 86'400'000);
  auto over = parse_duration("2w", milliseconds(86'400'000));
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("(longer than 1d)"), std::string::npos);
  for (const char* text : {"99999999999999999999ms", "9223372036854775807ms1ms", "99999999999w"}) {
    auto huge = parse_duration(text, milliseconds::max());
    ASSERT_FALSE(huge) << text;
    EXPECT_NE(huge.error().message.find("longer than"), std::string::npos) << text;
  }
  EXPECT_EQ(parse_duration("9223372036854775807ms", milliseconds::max())->count(),
            milliseconds::max().count());
}

TEST(Duration, FormatsTheShortestTextThatReadsBack) {
  for (int64_t ms : {0LL, 1LL, 500LL, 1000LL, 61'000LL, 300'000LL, 5'400'000LL, 90'061'001LL}) {
    const std::string text = format_duration(milliseconds(ms));
    auto back = parse_duration(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(back->count(), ms) << text;
  }
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(format_duration(milliseconds(604'800'000)), "7d");
}

}  // namespace
}  // namespace rampart
