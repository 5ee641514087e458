#include "rollout/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace rampart::rollout {

Policy default_policy() {
  Policy p;
  p.strategy = *strategy_from_name(p.strategy_name);
  return p;
}

namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr int64_t kDayMs = 86'400'000;

std::string offset_text(int minutes) {
  if (minutes == 0) {
    return "UTC";
  }
  const int m = std::abs(minutes);
  return fmt::format("UTC{}{:02}:{:02}", minutes < 0 ? '-' : '+', m / 60, m % 60);
}

// 0 = Sunday for a local time in ms since the epoch (1970-01-01 was a Thursday).
int weekday(int64_t local_ms) {
  const int64_t days = local_ms >= 0 ? local_ms / kDayMs : (local_ms - kDayMs + 1) / kDayMs;
  return static_cast<int>(((days % 7) + 7 + 4) % 7);
}

bool denied(const DeployWindows& w, int day) {
  return std::find(w.deny_days.begin(), w.deny_days.end(), day) != w.deny_days.end();
}

}  // namespace

std::optional<std::string> deploy_refused(const DeployWindows& windows, int64_t unix_ms) {
  const int64_t local = unix_ms + int64_t{windows.utc_offset_minutes} * 60'000;
  const int today = weekday(local);
  if (!denied(windows, today)) {
    return std::nullopt;
  }
  int next = today;
  int ahead = 0;
  while (denied(windows, next) && ahead < 7) {
    next = (next + 1) % 7;
    ++ahead;
  }
  const std::string zone = offset_text(windows.utc_offset_minutes);
  if (ahead == 7) {
    return fmt::format("deploys are refused on every day ({})", zone);
  }
  return fmt::format("deploys are refused on {} ({}); the next allowed time is {} 00:00 {}",
                     kDays[static_cast<std::size_t>(today)], zone,
                     kDays[static_cast<std::size_t>(next)], zone);
}

}  // namespace rampart::rollout
