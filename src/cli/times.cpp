#include "cli/times.hpp"

#include "common/duration.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <limits>

namespace rampart::cli {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<std::int64_t> parse_duration_ms(std::string_view text) {
  // Further than a pause may be: --since reaches back to 1970 and --expires years ahead. Nine
  // digits of weeks, as the CLI always took; now + this cannot overflow.
  constexpr std::chrono::milliseconds kMax = std::chrono::weeks(999'999'999);
  auto d = parse_duration(text, kMax);
  if (!d) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("\"{}\" is not a duration; write a number and a unit (ms, s, m, "
                                  "h, d, w), e.g. 30s, 10m, 2h, 30d or 1h30m",
                                  text));
  }
  return d->count();
}

Result<std::int64_t> parse_since(std::string_view text, std::int64_t now_ms) {
  auto bad = [&] {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--since: \"{}\" is not a duration (30s, 10m, 2h, 7d), an RFC "
                                  "3339 time (2026-11-23T15:20:01Z) or unix milliseconds",
                                  text));
  };
  if (text.empty()) {
    return bad();
  }
  // Unix milliseconds: digits only.
  bool all_digits = true;
  for (char c : text) {
    all_digits = all_digits && is_digit(c);
  }
  if (all_digits) {
    if (text.size() > 15) {
      return bad();
    }
    std::int64_t v = 0;
    for (char c : text) {
      v = v * 10 + (c - '0');
    }
    return v;
  }
  // A duration: one or more NUMBER UNIT pairs.
  if (is_digit(text[0]) && text.find('-') == std::string_view::npos) {
    auto total = parse_duration_ms(text);
    if (!total) {
      return bad();
    }
    return *total >= now_ms ? 0 : now_ms - *total;
  }
  auto t = parse_rfc3339(text);
  if (!t) {
    return bad();
  }
  return *t < 0 ? 0 : *t;
}

std::string format_age(std::int64_t ms) {
  if (ms < 0) {
    ms = 0;
  }
  std::int64_t s = ms / 1000;
  if (s < 60) {
    return fmt::format("{}s", s);
  }
  if (s < 3600) {
    return fmt::format("{}m", s / 60);
  }
  if (s < 86400) {
    return fmt::format("{}h", s / 3600);
  }
  return fmt::format("{}d", s / 86400);
}

std::string age_of(std::string_view rfc3339, std::int64_t now_ms) {
  auto t = parse_rfc3339(rfc3339);
  return t ? format_age(now_ms - *t) : "-";
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace rampart::cli
