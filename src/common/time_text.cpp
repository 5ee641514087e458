#include "common/time_text.hpp"

#include <fmt/format.h>

#include <ctime>

namespace rampart {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `text[at]`; -1 when they are not all digits.
int digits(std::string_view text, std::size_t at, std::size_t n) {
  if (at + n > text.size()) {
    return -1;
  }
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!is_digit(text[i])) {
      return -1;
    }
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

Error not_a_time(std::string_view text) {
  return make_error(
      Errc::kInvalidArgument,
      fmt::format("\"{}\" is not an RFC 3339 time (e.g. 2026-11-23T15:20:01Z)", text));
}

}  // namespace

Result<std::int64_t> parse_rfc3339(std::string_view text) {
  int year = digits(text, 0, 4);
  int month = digits(text, 5, 2);
  int day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || text[4] != '-' || text[7] != '-' ||
      day > days_in_month(year, month)) {
    return not_a_time(text);
  }
  std::int64_t ms =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400000;
  if (text.size() == 10) {
    return ms;
  }
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')) {
    return not_a_time(text);
  }
  int hour = digits(text, 11, 2);
  int minute = digits(text, 14, 2);
  int second = digits(text, 17, 2);
  // 60: a leap second, counted as the next second's start.
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60 ||
      text[13] != ':' || text[16] != ':') {
    return not_a_time(text);
  }
  ms += (hour * 3600 + minute * 60 + second) * std::int64_t{1000};
  std::size_t i = 19;
  if (text[i] == '.') {
    ++i;
    std::size_t first = i;
    int frac_ms = 0;
    while (i < text.size() && is_digit(text[i])) {
      if (i - first < 3) {
        frac_ms = frac_ms * 10 + (text[i] - '0');
      }
      ++i;
    }
    if (i == first) {
      return not_a_time(text);
    }
    for (std::size_t n = i - first; n < 3; ++n) {
      frac_ms *= 10;
    }
    ms += frac_ms;
  }
  std::string_view zone = text.substr(i);
  if (zone == "Z" || zone == "z") {
    return ms;
  }
  int zh = digits(zone, 1, 2);
  int zm = digits(zone, 4, 2);
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || zh < 0 ||
      zh > 23 || zm < 0 || zm > 59) {
    return not_a_time(text);
  }
  std::int64_t offset = (zh * 60 + zm) * std::int64_t{60000};
  return zone[0] == '+' ? ms - offset : ms + offset;
}

std::string format_rfc3339(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(unix_ms % 1000));
}

}  // namespace rampart
