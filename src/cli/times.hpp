#pragma once
// Times on the command line and in human output. The API speaks RFC 3339 in UTC
// ("2026-11-23T15:20:01.123Z") and takes unix milliseconds in queries.

#include "common/result.hpp"
#include "common/time_text.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::cli {

using rampart::format_rfc3339;  // common/time_text.hpp
using rampart::parse_rfc3339;

// `--since T`: a duration ago ("30s", "10m", "2h", "7d", "1h30m", "500ms"; measured back from
// `now_ms`), an RFC 3339 time, or unix milliseconds (digits only). Answers unix milliseconds,
// never negative.
Result<std::int64_t> parse_since(std::string_view text, std::int64_t now_ms);

// A duration: one or more NUMBER UNIT pairs, units ms, s, m, h, d, w ("30s", "30d", "1h30m")
// -> milliseconds. kInvalidArgument for anything else.
Result<std::int64_t> parse_duration_ms(std::string_view text);

// A duration in milliseconds as kubectl shows an age: "12s", "5m", "3h", "2d" (truncated; a
// negative duration, i.e. clock skew, shows as "0s").
std::string format_age(std::int64_t ms);

// The age of an RFC 3339 time at `now_ms`, or "-" when `rfc3339` does not parse.
std::string age_of(std::string_view rfc3339, std::int64_t now_ms);

// The system clock in unix milliseconds.
std::int64_t now_unix_ms();

}  // namespace rampart::cli
