#include "rollout/judge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace rampart::rollout {

namespace {

std::string num(double v) { return fmt::format("{:.4g}", v); }

// Whether `value` is past `bound` in the metric's bad direction.
bool past(Metric metric, double value, double bound) {
  return higher_is_worse(metric) ? value > bound : value < bound;
}

// canary / stable where higher is worse, stable / canary where higher is better: above 1, the
// canary is worse. A zero on the worse-is-smaller side answers 1 when both are zero, else
// infinity.
double ratio(Metric metric, double canary, double stable) {
  const double worse = higher_is_worse(metric) ? canary : stable;
  const double better = higher_is_worse(metric) ? stable : canary;
  if (better == 0) {
    return worse == 0 ? 1.0 : std::numeric_limits<double>::infinity();
  }
  return worse / better;
}

void raise(CheckResult& r, Verdict v, std::string bound, std::string reason) {
  if (v > r.verdict) {
    r.verdict = v;
    r.bound = std::move(bound);
    r.reason = std::move(reason);
  }
}

// The absolute bounds: critical first, then max (or min).
void judge_absolute(const Check& c, double value, CheckResult& r) {
  const std::string_view name = to_string(c.metric);
  const std::string_view side = higher_is_worse(c.metric) ? "over" : "under";
  const std::string evidence = fmt::format("(canary, {} requests)", r.canary_requests);
  if (c.critical && past(c.metric, value, *c.critical)) {
    raise(r, Verdict::kCritical, "critical " + num(*c.critical),
          fmt::format("{} {} is {} critical {} {}", name, num(value), side, num(*c.critical),
                      evidence));
    return;
  }
  const auto& bound = higher_is_worse(c.metric) ? c.max : c.min;
  if (bound && past(c.metric, value, *bound)) {
    raise(r, Verdict::kFail,
          fmt::format("{} {}", higher_is_worse(c.metric) ? "max" : "min", num(*bound)),
          fmt::format("{} {} is {} {} {} {}", name, num(value), side,
                      higher_is_worse(c.metric) ? "max" : "min", num(*bound), evidence));
  }
}

bool has_absolute(const Check& c) {
  return c.critical || (higher_is_worse(c.metric) ? c.max : c.min);
}

// Returns false when the stable version had too little traffic to compare with.
bool judge_relative(const Check& c, const Window& w, uint64_t min_requests, CheckResult& r) {
  const std::string_view name = to_string(c.metric);
  if (w.stable.requests < min_requests || !r.stable) {
    if (!has_absolute(c)) {
      raise(r, Verdict::kInconclusive, "ratio " + num(*c.max_ratio_to_stable),
            fmt::format("stable answered {} requests, fewer than min_requests {}: nothing to "
                        "compare {} with",
                        w.stable.requests, min_requests, name));
    }
    return false;
  }
  const double q = ratio(c.metric, *r.canary, *r.stable);
  if (q > *c.max_ratio_to_stable) {
    raise(r, Verdict::kFail, "ratio " + num(*c.max_ratio_to_stable),
          fmt::format("{} canary {} vs stable {}: ratio {} is over max_ratio_to_stable {} "
                      "({} and {} requests)",
                      name, num(*r.canary), num(*r.stable), num(q), num(*c.max_ratio_to_stable),
                      r.canary_requests, r.stable_requests));
  }
  return true;
}

CheckResult judge_check(const Check& c, const Window& w, uint64_t min_requests) {
  CheckResult r;
  r.metric = c.metric;
  r.canary = w.canary.value(c.metric, w.seconds);
  r.stable = w.stable.value(c.metric, w.seconds);
  r.canary_requests = w.canary.requests;
  r.stable_requests = w.stable.requests;
  if (w.canary.requests < min_requests || !r.canary) {
    raise(r, Verdict::kInconclusive, fmt::format("min_requests {}", min_requests),
          fmt::format("canary answered {} requests, fewer than min_requests {}", w.canary.requests,
                      min_requests));
    return r;
  }
  judge_absolute(c, *r.canary, r);
  bool compared = true;
  if (c.max_ratio_to_stable && r.verdict < Verdict::kCritical) {
    compared = judge_relative(c, w, min_requests, r);
  }
  if (r.verdict == Verdict::kPass) {
    r.reason = fmt::format(
        "{} {} passes (canary, {} requests){}", to_string(c.metric), num(*r.canary),
        r.canary_requests,
        compared ? "" : fmt::format("; not compared with stable ({} requests)", r.stable_requests));
  }
  return r;
}

// The first result of the worst verdict.
const CheckResult* worst(const std::vector<CheckResult>& results) {
  const CheckResult* w = nullptr;
  for (const auto& r : results) {
    if (w == nullptr || r.verdict > w->verdict) {
      w = &r;
    }
  }
  return w;
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kInconclusive:
      return "inconclusive";
    case Verdict::kFail:
      return "fail";
    case Verdict::kCritical:
      return "critical";
  }
  return "unknown";
}

std::string_view to_string(Decision decision) {
  switch (decision) {
    case Decision::kContinue:
      return "continue";
    case Decision::kNextStep:
      return "next_step";
    case Decision::kPause:
      return "pause";
    case Decision::kRollback:
      return "rollback";
  }
  return "unknown";
}

Judgement judge_window(const Window& window, const AnalysisPolicy& policy, JudgeState state,
                       bool pause_over) {
  Judgement j;
  const std::vector<Check> checks = policy.checks.empty() ? default_checks() : policy.checks;
  for (const Check& c : checks) {
    j.checks.push_back(judge_check(c, window, policy.min_requests));
  }
  j.state = state;
  const CheckResult* w = worst(j.checks);
  switch (w->verdict) {
    case Verdict::kCritical:
      j.decision = Decision::kRollback;
      j.reason = w->reason;
      break;
    case Verdict::kFail:
      j.state.failed_windows = state.failed_windows + 1;
      j.decision = j.state.failed_windows >= policy.failure_limit ? Decision::kRollback
                                                                  : Decision::kContinue;
      j.reason = fmt::format("{}; failed window {} of failure_limit {}", w->reason,
                             j.state.failed_windows, policy.failure_limit);
      break;
    case Verdict::kInconclusive:
      j.decision =
          policy.inconclusive == Inconclusive::kPause ? Decision::kPause : Decision::kContinue;
      j.reason = fmt::format("inconclusive: {}; {}", w->reason,
                             j.decision == Decision::kPause ? "paused (inconclusive = \"pause\")"
                                                            : "the step is extended");
      break;
    case Verdict::kPass:
      j.decision = pause_over ? Decision::kNextStep : Decision::kContinue;
      j.reason = pause_over ? "every check passed and the pause is over"
                            : "every check passed; the pause goes on";
      break;
  }
  return j;
}

}  // namespace rampart::rollout
