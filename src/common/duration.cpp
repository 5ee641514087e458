#include "common/duration.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <span>

namespace rampart {

namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};

// Longest names first, so "ms" is not read as "m" followed by "s".
constexpr std::array<Unit, 6> kUnits = {{{"ms", 1},
                                         {"s", 1000},
                                         {"m", 60'000},
                                         {"h", 3'600'000},
                                         {"d", 86'400'000},
                                         {"w", 604'800'000}}};
// What format_duration writes: up to days, so that a week reads "7d" as it always has in the
// API's answers and the audit log.
constexpr std::span<const Unit> kFormatUnits = std::span(kUnits).first(5);

Error not_a_duration(std::string_view text, std::string_view why = "") {
  return make_error(Errc::kInvalidArgument,
                    fmt::format("\"{}\" is not a duration{}: write a number and a unit (ms, s, m, "
                                "h, d, w), e.g. 500ms, 30s, 5m, 24h",
                                text, why.empty() ? "" : fmt::format(" ({})", why)));
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                 std::chrono::milliseconds max) {
  auto too_long = [&] { return not_a_duration(text, "longer than " + format_duration(max)); };
  if (text.empty()) {
    return not_a_duration(text, "it is empty");
  }
  int64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t digits = 0;
    int64_t value = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      const int digit = rest[digits] - '0';
      // value * 10 + digit > max, written so that it cannot overflow.
      if (value > (max.count() - digit) / 10) {
        return too_long();
      }
      value = value * 10 + digit;
      ++digits;
    }
    if (digits == 0) {
      return not_a_duration(text);
    }
    rest.remove_prefix(digits);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (rest.starts_with(u.name)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return not_a_duration(text, digits == text.size() ? "it has no unit" : "");
    }
    rest.remove_prefix(unit->name.size());
    if (value > (max.count() - total) / unit->ms) {
      return too_long();
    }
    total += value * unit->ms;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  int64_t left = d.count();
  if (left <= 0) {
    return "0s";
  }
  std::string out;
  for (auto it = kFormatUnits.rbegin(); it != kFormatUnits.rend(); ++it) {
    if (left >= it->ms) {
      out += fmt::format("{}{}", left / it->ms, it->name);
      left %= it->ms;
    }
  }
  return out;
}

}  // namespace rampart
