#pragma once
// Durations as people write them in config files and on the command line: a number and a unit,
// "500ms", "30s", "5m", "24h", "7d", or several of them ("1h30m"). One parser serves the config
// file, the API and the CLI, so a duration means the same everywhere.

#include "common/result.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace rampart {

// The longest duration accepted: 365 days (a pause longer than that is a mistake).
inline constexpr std::chrono::milliseconds kMaxDuration{365LL * 24 * 3600 * 1000};

// Parses `text` (units ms, s, m, h, d, w); kInvalidArgument with a message that shows the form
// ("\"5 min\" is not a duration: write a number and a unit (ms, s, m, h, d, w), e.g. 500ms,
// 30s, 5m, 24h") when it is not one, or when it is over `max` ("longer than 365d"). "0s" is a
// duration (zero). The CLI, whose --since and --expires may reach further back or ahead than a
// pause, passes a larger `max`.
Result<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                 std::chrono::milliseconds max = kMaxDuration);

// The shortest text parse_duration() reads back as `d`: "500ms", "30s", "5m", "1h30m", "7d",
// "0s" (days, never weeks).
std::string format_duration(std::chrono::milliseconds d);

}  // namespace rampart
