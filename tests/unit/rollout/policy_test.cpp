// Deploy windows: the day a deploy falls on, in the windows' UTC offset.

#include "rollout/policy.hpp"

#include <gtest/gtest.h>

namespace rampart::rollout {
namespace {

// 2023-11-14T22:13:20Z, a Tuesday in UTC and already Wednesday at UTC+02:00.
constexpr int64_t kTuesdayNight = 1'700'000'000'000;

TEST(DeployWindows, TheDayIsTheWindowsOwn) {
  EXPECT_FALSE(deploy_refused(DeployWindows{}, kTuesdayNight));
  EXPECT_EQ(deploy_refused(DeployWindows{{2}, 0}, kTuesdayNight),
            "deploys are refused on Tue (UTC); the next allowed time is Wed 00:00 UTC");
  EXPECT_FALSE(deploy_refused(DeployWindows{{2}, 120}, kTuesdayNight));  // Wednesday there
  EXPECT_EQ(deploy_refused(DeployWindows{{3, 4}, 120}, kTuesdayNight),
            "deploys are refused on Wed (UTC+02:00); the next allowed time is Fri 00:00 "
            "UTC+02:00");
  EXPECT_EQ(deploy_refused(DeployWindows{{1}, -5 * 60 - 30}, kTuesdayNight - 12 * 3'600'000),
            std::nullopt);  // Tuesday 04:43 at UTC-05:30
  EXPECT_EQ(deploy_refused(DeployWindows{{0, 1, 2, 3, 4, 5, 6}, 0}, kTuesdayNight),
            "deploys are refused on every day (UTC)");
  // Before 1970 the days still come round right: 1969-12-31 was a Wednesday.
  EXPECT_TRUE(deploy_refused(DeployWindows{{3}, 0}, -1000));
}

}  // namespace
}  // namespace rampart::rollout
