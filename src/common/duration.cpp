#include "common/duration.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace rampart {

namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};

// Longest names first, so "ms" is not read as "m" followed by "s".
constexpr std::array<Unit, 5> kUnits = {
    {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};

Error not_a_duration(std::string_view text, std::string_view why = "") {
  return make_error(Errc::kInvalidArgument,
                    fmt::format("\"{}\" is not a duration{}: write a number and a unit (ms, s, m, "
                                "h, d), e.g. 500ms, 30s, 5m, 24h",
                                text, why.empty() ? "" : fmt::format(" ({})", why)));
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) {
    return not_a_duration(text, "it is empty");
  }
  int64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t digits = 0;
    int64_t value = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      value = value * 10 + (rest[digits] - '0');
      if (value > kMaxDuration.count()) {
        return not_a_duration(text, "longer than 365d");
      }
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
    total += value * unit->ms;
    if (total > kMaxDuration.count()) {
      return not_a_duration(text, "longer than 365d");
    }
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  int64_t left = d.count();
  if (left <= 0) {
    return "0s";
  }
  std::string out;
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    if (left >= it->ms) {
      out += fmt::format("{}{}", left / it->ms, it->name);
      left %= it->ms;
    }
  }
  return out;
}

}  // namespace rampart
