#include "cli/progress_view.hpp"

#include "cli/rollout_text.hpp"
#include "cli/times.hpp"
#include "common/duration.hpp"
#include "common/json_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

namespace rampart::cli {
namespace json = boost::json;
using namespace rollout_text;  // NOLINT(google-build-using-namespace): the readers
namespace {

constexpr int kMinBar = 10;
constexpr int kMaxBar = 30;

// Code points, for UTF-8 text: the bar's blocks and the check marks are one column each.
std::size_t columns(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// `s` cut to `width` columns (the last one "…" when cut).
std::string fit(std::string s, std::size_t width) {
  if (columns(s) <= width) {
    return s;
  }
  std::size_t kept = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80 && kept++ == width - 1) {
      break;
    }
  }
  s.resize(i);
  return s + "…";
}

std::optional<double> number_of(const json::value& v) {
  double d = 0;
  return number(v, d) ? std::optional(d) : std::nullopt;
}

double counter(const json::value& version_metrics, std::string_view key) {
  return number_of(member(version_metrics, key)).value_or(0);
}

json::value or_null(std::optional<double> v) { return v ? json::value(*v) : json::value(nullptr); }

std::string bar(double percent, int width) {
  const int cells = std::clamp(width - 40, kMinBar, kMaxBar);
  const int full = static_cast<int>(std::lround(std::clamp(percent, 0.0, 100.0) * cells / 100));
  std::string out = "[";
  for (int i = 0; i < cells; ++i) {
    out += i < full ? "█" : "░";
  }
  return out + "]";
}

// A whole number of seconds as "4m10s" (rounded up, so "0s" only when it is over).
std::string seconds_text(std::int64_t ms) {
  return format_duration(
      std::chrono::milliseconds(std::max<std::int64_t>(0, (ms + 999) / 1000) * 1000));
}

// Where the rollout stands in its step: the time left in the pause, or why it waits.
std::string where_text(const json::value& r, std::int64_t now_ms) {
  const std::string phase = text(r, "phase");
  if (phase == "pending") {
    return "waiting for the checks before traffic";
  }
  if (phase == "paused") {
    return fmt::format("paused: {}; `rampart resume {}` goes on", text(r, "reason"),
                       text(r, "service"));
  }
  if (phase != "progressing") {
    return phase == "promoted" ? "promoted" : "rolled back: " + text(r, "reason");
  }
  const auto step = number_of(member(r, "step")).value_or(1);
  const auto& steps = array_of(r, "steps");
  const auto index = static_cast<std::size_t>(std::max(1.0, step)) - 1;
  const std::string pause = index < steps.size() ? text(steps[index], "pause") : "-";
  if (pause == "until-promoted") {
    return "until promoted (`rampart promote " + text(r, "service") + "`)";
  }
  auto pause_ms = parse_duration(pause);
  auto started = parse_rfc3339(text(r, "step_started_at"));
  if (!pause_ms || !started) {
    return text(r, "reason");
  }
  const std::int64_t left = *started + pause_ms->count() - now_ms;
  if (left > 0) {
    return seconds_text(left) + " left in the pause";
  }
  return "held: " + text(r, "reason");
}

std::string rate_text(const json::value& v, std::string_view format, double scale) {
  auto d = number_of(v);
  return d ? fmt::format(fmt::runtime(format), *d * scale) : std::string("-");
}

// The last event with an analysis window's judgement, or null.
const json::value* last_window(const json::array& events) {
  const json::value* last = nullptr;
  for (const auto& e : events) {
    if (member(e, "judgement").is_object()) {
      last = &e;
    }
  }
  return last;
}

// A latency quantile of one version: the last analysis window's, when a check measured it
// there (what the judge saw), else the gateway's since it started.
json::value latency_of(const json::value* window, std::string_view metric, std::string_view role,
                       const json::value& since_start) {
  if (window != nullptr) {
    for (const auto& c : array_of(member(*window, "judgement"), "checks")) {
      if (text(c, "metric") == metric && !member(c, role).is_null()) {
        return member(c, role);
      }
    }
  }
  return since_start;
}

std::vector<std::string> metric_lines(const json::value& r, const json::value& metrics,
                                      const json::array& events) {
  const json::value* window = last_window(events);
  const auto* m = metrics.if_object();
  if (m == nullptr || m->empty()) {
    return {"no traffic measured yet"};
  }
  std::vector<std::string> out{
      fmt::format("{:<16}{:>8}{:>9}{:>9}{:>9}", "version", "req/s", "errors", "p95", "p99")};
  for (auto [key, role] : {std::pair{"version", "canary"}, {"stable", "stable"}}) {
    const std::string name = text(r, key);
    const auto& vm = member(metrics, name);
    if (vm.is_null()) {
      continue;
    }
    out.push_back(fmt::format(
        "{:<16}{:>8}{:>9}{:>9}{:>9}", fmt::format("{} ({})", name, role),
        rate_text(member(vm, "rps"), "{:.1f}", 1),
        rate_text(member(vm, "error_rate"), "{:.2f}%", 100),
        rate_text(latency_of(window, "p95_ms", role, member(vm, "p95_ms")), "{:.0f}ms", 1),
        rate_text(latency_of(window, "p99_ms", role, member(vm, "p99_ms")), "{:.0f}ms", 1)));
  }
  return out;
}

std::string verdict_mark(std::string_view verdict) {
  if (verdict == "pass") {
    return "✓";
  }
  return verdict == "fail" || verdict == "critical" ? "✗" : "?";
}

// "15:21:30" of an RFC 3339 time.
std::string clock_of(const json::value& at) {
  const std::string t = text(at);
  return t.size() >= 19 ? t.substr(11, 8) : t;
}

std::vector<std::string> check_lines(const json::value& r, const json::array& events) {
  const json::value* last = last_window(events);
  std::vector<std::string> out;
  if (last == nullptr) {
    out.emplace_back("checks (no analysis window yet)");
    for (const auto& c : array_of(member(r, "analysis"), "checks")) {
      out.push_back(fmt::format("  · {:<12} {}", text(c, "metric"), thresholds(c)));
    }
    return out;
  }
  out.push_back(fmt::format("checks (window at {})", clock_of(member(*last, "at"))));
  for (const auto& c : array_of(member(*last, "judgement"), "checks")) {
    const std::string metric = text(c, "metric");
    out.push_back(fmt::format("  {} {:<12} {} (stable {})  {}  {}",
                              verdict_mark(text(c, "verdict")), metric,
                              value_text(member(c, "canary")), value_text(member(c, "stable")),
                              thresholds_of(r, metric), text(c, "verdict")));
  }
  return out;
}

std::vector<std::string> decision_lines(const json::array& events) {
  std::vector<std::string> out{"decisions"};
  const std::size_t from = events.size() > kViewDecisions ? events.size() - kViewDecisions : 0;
  for (std::size_t i = from; i < events.size(); ++i) {
    const auto& e = events[i];
    out.push_back(fmt::format("  {}  {:<11}  step {}  {:>4}  {}", clock_of(member(e, "at")),
                              text(e, "event"), text(e, "step"), percent_text(member(e, "weight")),
                              text(e, "reason")));
  }
  return out;
}

}  // namespace

json::object live_metrics(const json::value& before, const json::value& now,
                          std::int64_t elapsed_ms) {
  json::object out;
  const auto* versions = now.if_object();
  if (versions == nullptr) {
    return out;
  }
  for (const auto& [name, vm] : *versions) {
    const auto& old = member(before, name);
    const double requests = counter(vm, "requests") - counter(old, "requests");
    const double errors = counter(vm, "5xx") - counter(old, "5xx");
    std::optional<double> rps;
    if (!before.is_null() && elapsed_ms > 0) {
      rps = std::max(0.0, requests) * 1000.0 / static_cast<double>(elapsed_ms);
    }
    out[name] =
        json::object{{"rps", or_null(rps)},
                     {"error_rate", requests > 0 ? json::value(std::max(0.0, errors) / requests)
                                                 : json::value(nullptr)},
                     {"p95_ms", member(vm, "p95_ms")},
                     {"p99_ms", member(vm, "p99_ms")}};
  }
  return out;
}

std::string progress_view(const json::value& r, const json::value& events,
                          const json::value& metrics, std::int64_t now_ms, int width) {
  width = std::max(width, kMinViewWidth);
  const auto& list = events.is_array() ? events.as_array() : json::array{};
  std::vector<std::string> lines{
      fmt::format("{}  rollout {}  {} from {}  {}: {}", text(r, "service"), text(r, "id"),
                  text(r, "version"), text(r, "stable"), text(r, "strategy"), text(r, "plan"))};
  const double weight = number_of(member(r, "weight")).value_or(0);
  lines.push_back(fmt::format("{}  {}  {} {}", text(r, "phase"), step_of_total(r),
                              bar(weight, width), percent_text(member(r, "weight"))));
  lines.push_back(where_text(r, now_ms));
  for (auto& more : {metric_lines(r, metrics, list), check_lines(r, list), decision_lines(list)}) {
    lines.insert(lines.end(), more.begin(), more.end());
  }
  std::string out;
  for (auto& line : lines) {
    out += fit(std::move(line), static_cast<std::size_t>(width)) + "\n";
  }
  return out;
}

}  // namespace rampart::cli
