#pragma once
// The sequential judge: every check of a policy turned into anytime-valid tests over the
// counts since the rollout (absolute checks) or the step (relative checks) began, looked at on
// every tick and still holding their error bound. It answers the same Judgement as the
// threshold judge (judge.hpp), with the evidence of each check (its e-value and threshold, or
// its confidence interval, and the events and requests of each version). A check's `canary`
// and `stable` values are the rates of the events it counts (errors, or requests slower than
// its threshold), not the metric itself.
//
// How each check becomes a test (alpha is split evenly over the K tests, Bonferroni):
//   error_rate / success_rate with max, min or critical: the beta-binomial confidence sequence
//     for the canary's error rate; past the bound once its lower end is past it (critical:
//     past critical), passing once its upper end is under it.
//   p50/p95/p99_ms with max or critical: the same for the rate of requests slower than the
//     bound, against 50% / 5% / 1% ("p95 under 500 ms" is "at most 5% slower than 500 ms").
//   max_ratio_to_stable: a RatioEProcess on which version each event came from, against the
//     canary's share of requests: errors for error_rate and success_rate; for a latency check,
//     requests slower than the stable version's quantile at the step's start. It rolls back
//     once the e-value reaches K/alpha.
//   rps: not a per-request rate; it is not judged sequentially.
// A sample-ratio-mismatch guard on the step's requests (configured weight against the
// observed split) pauses the rollout when the split cannot be trusted.
//
// With require_evidence, a step whose dwell is over moves on only on evidence for the canary,
// each at the test's level alpha / K (so a canary worse than a bound is promoted past it with
// probability at most alpha / K per test and step): an absolute check's interval all under its
// bound; a relative check's upper bound on the canary/stable rate ratio (ratio_upper, over the
// step's events) under max_ratio_to_stable; with no event of either version in the step, the
// canary's upper bound on its rate under max_ratio_to_stable × the stable version's rate over
// the rollout, or, when stable had none either, under the check's own absolute bound (max /
// min), else it holds. At 100% (no stable traffic to compare with) relative checks are
// waived. Until then it continues, with Judgement::needs saying how much more canary traffic
// it expects to need at the rates seen.
//
// Not thread-safe; one per rollout, fed by one controller.

#include "rollout/analysis.hpp"
#include "rollout/judge.hpp"
#include "rollout/sequential.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rampart::rollout {

struct SequentialOptions {
  double alpha = 0.01;       // the bound on a false rollback, over the whole rollout
  double alpha_srm = 0.001;  // the bound on a false sample-ratio-mismatch pause, per step
  // Whether requests are routed one by one with the weight, so that their split can be checked
  // against it (not with sticky routing: the split follows the keys').
  bool check_split = true;
  bool require_evidence = false;  // AnalysisPolicy::require_evidence
  // Sticky routing: relative error tests count VersionWindow::capped_errors (at most a few
  // errors per sticky key and step), so that one user's many errors weigh as a few. Absolute
  // checks count every error: a canary failing for a few heavy users is still over its bound.
  bool capped_errors = false;
  // The rate ratios relative tests mix over (the simulation compares grids; static storage).
  std::span<const double> ratios = seq::default_ratios();
};

class SequentialJudge {
 public:
  // `checks` empty: default_checks().
  SequentialJudge(const std::vector<Check>& checks, SequentialOptions options = {});

  // A step begins: the canary's configured share (basis points), and the stable version's
  // recent latency, from which relative latency checks fix their thresholds for the step.
  void start_step(uint32_t weight_bp, const metrics::LatencyHistogram& stable_recent);

  // One tick's traffic (deltas). `dwell_over`: the step's pause has run its time.
  Judgement observe(const Window& tick, bool dwell_over);

  // The number of tests alpha is split over.
  std::size_t tests() const { return tests_.size(); }
  // The level of each test's bound: alpha / K.
  double level() const { return options_.alpha / static_cast<double>(tests_.size()); }

 private:
  enum class Kind { kAbsoluteRate, kAbsoluteLatency, kRelative };

  struct Test {
    Check check;
    Kind kind = Kind::kAbsoluteRate;
    double bound = 0;                    // absolute: the rate bound (max, or the latency's tail)
    double critical = 0;                 // absolute: the critical rate bound, or 0
    uint64_t latency_ns = 0;             // latency tests: the threshold
    uint64_t canary_events = 0;          // absolute: since the rollout began; relative: the step
    uint64_t canary_requests = 0;        // absolute: since the rollout began; relative: the step's
    uint64_t stable_events = 0;          // relative, the step
    uint64_t stable_requests = 0;        // relative: the step's, in the ticks it compared
    uint64_t rollout_stable_events = 0;  // relative: since the rollout began
    uint64_t rollout_stable_requests = 0;
    seq::RatioEProcess e;  // relative
  };

  // What one test lacks for require_evidence: why, and the canary requests (in all, of those
  // it counts) it expects to need; nullopt need: not at the rates seen.
  struct Shortfall {
    std::string reason;
    std::optional<uint64_t> needed;
    uint64_t seen = 0;
  };

  static Test test_of(const Check& c, Kind kind);
  // `ratios`: what each relative test's e-process mixes over.
  static std::vector<Test> make_tests(const std::vector<Check>& checks,
                                      std::span<const double> ratios);
  CheckResult judge_absolute(Test& t, const Window& tick) const;
  CheckResult judge_relative(Test& t, const Window& tick) const;
  std::optional<std::string> srm_refusal() const;
  std::optional<Shortfall> absolute_shortfall(const Test& t) const;
  std::optional<Shortfall> relative_shortfall(const Test& t) const;
  // With require_evidence: the step held for evidence (kContinue, with needs), or nullopt.
  std::optional<Judgement> held_for_evidence(Judgement j) const;

  SequentialOptions options_;
  std::vector<Test> tests_;
  uint32_t weight_bp_ = 0;
  uint64_t step_canary_requests_ = 0;
  uint64_t step_stable_requests_ = 0;
  double step_seconds_ = 0;
};

// The latency a relative check of `metric` compares against: the stable version's quantile
// (p50, p95, p99); 0 for other metrics or an empty histogram.
uint64_t relative_latency_threshold(Metric metric, const metrics::LatencyHistogram& stable);

}  // namespace rampart::rollout
