#pragma once
// What a rollout measures, and what it measures it against: the metrics the gateway records
// per version, the checks a policy sets on them, and a version's traffic over one analysis
// window (counts and a latency histogram, not rates, so that a statistical judge can use the
// same input as the threshold judge).

#include "metrics/latency_histogram.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::rollout {

enum class Metric {
  kErrorRate,    // 5xx answers (the gateway's own 502/503/504 among them) / requests
  kSuccessRate,  // 1 - error rate
  kP50Ms,        // latency quantiles in milliseconds, from the request header to the last byte
  kP95Ms,
  kP99Ms,
  kRps,  // requests per second over the window
};

// "error_rate", "success_rate", "p50_ms", "p95_ms", "p99_ms", "rps".
std::string_view to_string(Metric metric);
std::optional<Metric> parse_metric(std::string_view name);
// Whether a larger value is worse (error rate, latency) or better (success rate, rps): it
// decides whether `max` or `min` bounds the metric.
bool higher_is_worse(Metric metric);

// One check of the analysis. For a metric where higher is worse, `max` is the bound a window
// fails over and `critical` the one that rolls back at once; where higher is better they are
// lower bounds (`min`, `critical`). `max_ratio_to_stable` compares the canary with the stable
// version in the same window (canary / stable; for success rate and rps, stable / canary).
struct Check {
  Metric metric = Metric::kErrorRate;
  std::optional<double> max;       // with higher_is_worse()
  std::optional<double> min;       // without
  std::optional<double> critical;  // either way: past it, roll back at once
  std::optional<double> max_ratio_to_stable;

  friend bool operator==(const Check&, const Check&) = default;
};

// What an undecided step does. `inconclusive` (a window or step that cannot decide: too few
// requests) extends it or pauses it at once; `on_inconclusive` (a step still undecided
// max_step_duration after its pause) pauses it or rolls it back, reported as inconclusive and
// never as a regression. kRollback is only for on_inconclusive, kExtend only for inconclusive.
enum class Inconclusive { kExtend, kPause, kRollback };
std::string_view to_string(Inconclusive inconclusive);  // "extend", "pause", "rollback"
std::optional<Inconclusive> parse_inconclusive(std::string_view text);

inline constexpr std::chrono::milliseconds kDefaultMaxStepDuration{30 * 60 * 1000};

// Which judge decides: the sequential judge (rollout/sequential_judge.hpp), anytime-valid,
// looking at every tick; or the threshold judge (rollout/judge.hpp), once per window.
enum class JudgeKind { kSequential, kThreshold };
std::string_view to_string(JudgeKind kind);

struct AnalysisPolicy {
  JudgeKind judge = JudgeKind::kSequential;
  double alpha = 0.01;          // sequential: the bound on a false rollback of a good canary
  uint64_t min_requests = 200;  // threshold: per version and window, below it a window decides
                                // nothing; sequential: the canary requests a step needs
                                // before it may move on
  uint32_t failure_limit = 2;   // threshold: failed windows in a step before the rollback
  Inconclusive inconclusive = Inconclusive::kExtend;
  // sequential: a step moves on only on evidence that the canary is within every check's
  // bound (each upper confidence bound under it, at alpha / K), not only on none against it.
  bool require_evidence = false;
  // How long a step may stay undecided once its pause is over (a judge that keeps it going:
  // too few requests, not enough evidence), then on_inconclusive; 0 = no limit. Steps that
  // wait until promoted by hand have none.
  std::chrono::milliseconds max_step_duration{kDefaultMaxStepDuration};
  Inconclusive on_inconclusive = Inconclusive::kPause;  // kPause or kRollback
  std::vector<Check> checks;

  friend bool operator==(const AnalysisPolicy&, const AnalysisPolicy&) = default;
};

// The checks a service gets when its policy sets none, after seed 004's table (healthy /
// warning / critical): error rate under 0.1% (critical over 1%), p95 under 500 ms (critical
// over 750 ms), p99 under 1000 ms (critical over 1500 ms).
std::vector<Check> default_checks();

// One version's traffic over one analysis window: deltas of the gateway's own counters.
struct VersionWindow {
  uint64_t requests = 0;
  uint64_t errors = 0;  // 5xx answers, the gateway's own 502/503/504 among them
  // The errors with at most metrics::kMaxErrorsPerKey per sticky key and step counted (equal
  // to errors without sticky routing): what the sequential judge's relative tests count on a
  // sticky service.
  uint64_t capped_errors = 0;
  metrics::LatencyHistogram latency;

  // The metric's value over `seconds`; nullopt without requests (no value to speak of).
  std::optional<double> value(Metric metric, double seconds) const;
};

// What the judge looks at: the canary and the stable version in the same window.
struct Window {
  double seconds = 0;  // the window's length
  VersionWindow canary;
  VersionWindow stable;
  // Whether the service's confirm-promotion hooks let the step move on (true without any):
  // a window that would move to the next step holds it instead, and says why.
  bool promotion_confirmed = true;
  std::string promotion_held;  // "confirm-promotion https://... answered 503"
};

}  // namespace rampart::rollout
