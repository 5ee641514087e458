#include "rollout/analysis.hpp"

#include <array>
#include <utility>

namespace rampart::rollout {

namespace {

constexpr std::array<std::pair<Metric, std::string_view>, 6> kNames = {{
    {Metric::kErrorRate, "error_rate"},
    {Metric::kSuccessRate, "success_rate"},
    {Metric::kP50Ms, "p50_ms"},
    {Metric::kP95Ms, "p95_ms"},
    {Metric::kP99Ms, "p99_ms"},
    {Metric::kRps, "rps"},
}};

double quantile_ms(const metrics::LatencyHistogram& h, double q) {
  return static_cast<double>(h.quantile(q)) / 1e6;
}

}  // namespace

std::string_view to_string(Inconclusive inconclusive) {
  switch (inconclusive) {
    case Inconclusive::kExtend:
      return "extend";
    case Inconclusive::kPause:
      return "pause";
    case Inconclusive::kRollback:
      return "rollback";
  }
  return "unknown";
}

std::optional<Inconclusive> parse_inconclusive(std::string_view text) {
  for (auto i : {Inconclusive::kExtend, Inconclusive::kPause, Inconclusive::kRollback}) {
    if (to_string(i) == text) {
      return i;
    }
  }
  return std::nullopt;
}

std::string_view to_string(JudgeKind kind) {
  return kind == JudgeKind::kSequential ? "sequential" : "threshold";
}

std::string_view to_string(Metric metric) {
  for (const auto& [m, name] : kNames) {
    if (m == metric) {
      return name;
    }
  }
  return "unknown";
}

std::optional<Metric> parse_metric(std::string_view name) {
  for (const auto& [m, n] : kNames) {
    if (n == name) {
      return m;
    }
  }
  return std::nullopt;
}

bool higher_is_worse(Metric metric) {
  return metric != Metric::kSuccessRate && metric != Metric::kRps;
}

std::vector<Check> default_checks() {
  return {
      Check{.metric = Metric::kErrorRate,
            .max = 0.001,
            .min = std::nullopt,
            .critical = 0.01,
            .max_ratio_to_stable = std::nullopt},
      Check{.metric = Metric::kP95Ms,
            .max = 500,
            .min = std::nullopt,
            .critical = 750,
            .max_ratio_to_stable = std::nullopt},
      Check{.metric = Metric::kP99Ms,
            .max = 1000,
            .min = std::nullopt,
            .critical = 1500,
            .max_ratio_to_stable = std::nullopt},
  };
}

std::optional<double> VersionWindow::value(Metric metric, double seconds) const {
  if (requests == 0) {
    return std::nullopt;
  }
  const double error_rate = static_cast<double>(errors) / static_cast<double>(requests);
  switch (metric) {
    case Metric::kErrorRate:
      return error_rate;
    case Metric::kSuccessRate:
      return 1.0 - error_rate;
    case Metric::kP50Ms:
      return latency.count() == 0 ? std::nullopt : std::optional(quantile_ms(latency, 0.50));
    case Metric::kP95Ms:
      return latency.count() == 0 ? std::nullopt : std::optional(quantile_ms(latency, 0.95));
    case Metric::kP99Ms:
      return latency.count() == 0 ? std::nullopt : std::optional(quantile_ms(latency, 0.99));
    case Metric::kRps:
      return seconds > 0 ? std::optional(static_cast<double>(requests) / seconds) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace rampart::rollout
