#include "rollout/sequential_judge.hpp"

#include "common/duration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace rampart::rollout {

namespace {

std::string num(double v) { return fmt::format("{:.4g}", v); }

bool is_latency(Metric m) {
  return m == Metric::kP50Ms || m == Metric::kP95Ms || m == Metric::kP99Ms;
}

// The share of requests a latency quantile leaves above it: 50%, 5%, 1%.
double tail_of(Metric m) {
  switch (m) {
    case Metric::kP50Ms:
      return 0.5;
    case Metric::kP95Ms:
      return 0.05;
    case Metric::kP99Ms:
      return 0.01;
    default:
      return 0;
  }
}

double quantile_of(Metric m) { return 1 - tail_of(m); }

// events / requests; nullopt without requests.
std::optional<double> rate(uint64_t events, uint64_t requests) {
  if (requests == 0) {
    return std::nullopt;
  }
  return static_cast<double>(events) / static_cast<double>(requests);
}

uint64_t ms_to_ns(double ms) { return static_cast<uint64_t>(std::max(0.0, ms) * 1e6); }

// Requests of `v` slower than `ns`, and the requests timed.
std::pair<uint64_t, uint64_t> slower_than(const VersionWindow& v, uint64_t ns) {
  const uint64_t timed = v.latency.count();
  return {timed - std::min(timed, v.latency.count_at_or_below(ns)), timed};
}

// The events a check counts in a tick, and the requests they are out of.
std::pair<uint64_t, uint64_t> events_of(Metric m, uint64_t latency_ns, const VersionWindow& v) {
  if (is_latency(m)) {
    return slower_than(v, latency_ns);
  }
  return {v.errors, v.requests};
}

// The rate bounds of an absolute check, as rates of "bad" requests: errors (error_rate max,
// 1 − success_rate min) or requests slower than the bound (the latency's tail share).
void set_absolute_bounds(const Check& c, double& bound, double& critical) {
  if (c.metric == Metric::kErrorRate) {
    bound = c.max.value_or(0);
    critical = c.critical.value_or(0);
  } else if (c.metric == Metric::kSuccessRate) {
    bound = c.min ? 1 - *c.min : 0;
    critical = c.critical ? 1 - *c.critical : 0;
  }
}

// A relative error check's own absolute bound on the error rate (max, or 1 − min), or 0 (none;
// a latency check's absolute bound counts other events than its relative test).
double own_rate_bound(const Check& c) {
  double bound = 0;
  double critical = 0;
  if (!is_latency(c.metric)) {
    set_absolute_bounds(c, bound, critical);
  }
  return bound;
}

// "1.5h" style: whole seconds rounded up.
std::string seconds_text(double seconds) {
  const auto ms = static_cast<int64_t>(std::ceil(std::max(0.0, seconds))) * 1000;
  return format_duration(std::chrono::milliseconds(ms));
}

}  // namespace

uint64_t relative_latency_threshold(Metric metric, const metrics::LatencyHistogram& stable) {
  if (!is_latency(metric) || stable.count() == 0) {
    return 0;
  }
  return stable.quantile(quantile_of(metric));
}

SequentialJudge::SequentialJudge(const std::vector<Check>& checks, SequentialOptions options)
    : options_(options),
      tests_(make_tests(checks.empty() ? default_checks() : checks, options.ratios)) {}

SequentialJudge::Test SequentialJudge::test_of(const Check& c, Kind kind) {
  Test t;
  t.check = c;
  t.kind = kind;
  return t;
}

std::vector<SequentialJudge::Test> SequentialJudge::make_tests(const std::vector<Check>& checks,
                                                               std::span<const double> ratios) {
  std::vector<Test> tests;
  for (const Check& c : checks) {
    if (c.metric == Metric::kRps) {
      continue;
    }
    const bool absolute = c.critical || (higher_is_worse(c.metric) ? c.max : c.min);
    if (absolute && is_latency(c.metric)) {
      // "p95 under max": at most 5% of requests slower than max; critical likewise.
      Test t = test_of(c, Kind::kAbsoluteLatency);
      t.bound = tail_of(c.metric);
      t.latency_ns = ms_to_ns(c.max.value_or(c.critical.value_or(0)));
      tests.push_back(t);
      if (c.max && c.critical) {
        Test crit = test_of(c, Kind::kAbsoluteLatency);
        crit.bound = tail_of(c.metric);
        crit.check.max.reset();
        crit.latency_ns = ms_to_ns(*c.critical);
        tests.push_back(crit);
      }
    } else if (absolute) {
      Test t = test_of(c, Kind::kAbsoluteRate);
      set_absolute_bounds(c, t.bound, t.critical);
      tests.push_back(t);
    }
    if (c.max_ratio_to_stable) {
      Test t = test_of(c, Kind::kRelative);
      t.e = seq::RatioEProcess(ratios);
      tests.push_back(t);
    }
  }
  return tests;
}

void SequentialJudge::start_step(uint32_t weight_bp, const metrics::LatencyHistogram& stable) {
  weight_bp_ = weight_bp;
  step_canary_requests_ = 0;
  step_stable_requests_ = 0;
  step_seconds_ = 0;
  for (Test& t : tests_) {
    if (t.kind != Kind::kRelative) {
      continue;  // absolute evidence holds across steps: the canary's rate is its own
    }
    t.latency_ns = relative_latency_threshold(t.check.metric, stable);
    t.canary_events = 0;
    t.stable_events = 0;
    t.canary_requests = 0;
    t.stable_requests = 0;
    // The e-process runs on: it stays valid across weight changes (theta0 is set per tick).
  }
}

// The canary's rate of bad requests since the rollout began, in an anytime-valid interval at
// level alpha/K: rolls back once the interval lies past the bound (or critical), passes once it
// lies under it.
CheckResult SequentialJudge::judge_absolute(Test& t, const Window& tick) const {
  const auto [events, requests] = events_of(t.check.metric, t.latency_ns, tick.canary);
  t.canary_events += events;
  t.canary_requests += requests;
  const double level = options_.alpha / static_cast<double>(tests_.size());
  const seq::Interval ci = seq::rate_cs(t.canary_events, t.canary_requests, level);
  CheckResult r;
  r.metric = t.check.metric;
  r.canary_requests = t.canary_requests;
  r.ci_low = ci.low;
  r.ci_high = ci.high;
  r.canary_events = t.canary_events;
  r.canary = rate(t.canary_events, t.canary_requests);
  const std::string what =
      is_latency(t.check.metric)
          ? fmt::format("the share of requests slower than {} ms", num(t.latency_ns / 1e6))
          : std::string("the error rate");
  const std::string interval =
      fmt::format("[{}, {}] at {}% ({} of {} requests)", num(ci.low), num(ci.high),
                  num(100 * (1 - level)), t.canary_events, t.canary_requests);
  const bool critical_only = is_latency(t.check.metric) && !t.check.max;
  // A latency test's bound is a share of slow requests; say of which (a check's max and its
  // critical are two tests with two thresholds).
  const std::string of_slow =
      is_latency(t.check.metric)
          ? fmt::format(" of requests slower than {} ms", num(t.latency_ns / 1e6))
          : std::string();
  if ((t.critical > 0 && ci.low > t.critical) || (critical_only && ci.low > t.bound)) {
    r.verdict = Verdict::kCritical;
    r.bound = "critical " + num(critical_only ? t.bound : t.critical) + of_slow;
    r.reason = fmt::format("{}: {} is {}, all over critical {}", to_string(t.check.metric), what,
                           interval, num(critical_only ? t.bound : t.critical));
  } else if (t.bound > 0 && ci.low > t.bound) {
    r.verdict = Verdict::kFail;
    r.bound = "max " + num(t.bound) + of_slow;
    r.reason = fmt::format("{}: {} is {}, all over {}", to_string(t.check.metric), what, interval,
                           num(t.bound));
  } else if (t.bound > 0 && ci.high < t.bound) {
    r.reason = fmt::format("{}: {} is {}, all under {}", to_string(t.check.metric), what, interval,
                           num(t.bound));
  } else {
    r.verdict = Verdict::kInconclusive;
    r.bound = (critical_only ? "critical " : "max ") + num(t.bound) + of_slow;
    r.reason = fmt::format("{}: {} is {}; not yet decided against {}", to_string(t.check.metric),
                           what, interval, num(t.bound));
  }
  return r;
}

// Which version each event came from, against the canary's share of the tick's requests.
CheckResult SequentialJudge::judge_relative(Test& t, const Window& tick) const {
  const bool latency = is_latency(t.check.metric);
  auto [ec, nc] = events_of(t.check.metric, t.latency_ns, tick.canary);
  auto [eb, nb] = events_of(t.check.metric, t.latency_ns, tick.stable);
  if (options_.capped_errors && !latency) {
    ec = std::min(ec, tick.canary.capped_errors);
    eb = std::min(eb, tick.stable.capped_errors);
  }
  // A tick without requests of both versions says nothing about the split of its events; a
  // latency test waits for its threshold (the stable version's quantile at the step's start).
  if (nc > 0 && nb > 0 && (!latency || t.latency_ns > 0)) {
    const double theta0 = static_cast<double>(nc) / static_cast<double>(nc + nb);
    t.e.update(theta0, ec, eb);
    t.canary_events += ec;
    t.stable_events += eb;
    t.canary_requests += nc;
    t.stable_requests += nb;
    t.rollout_stable_events += eb;
    t.rollout_stable_requests += nb;
  }
  const double threshold = static_cast<double>(tests_.size()) / options_.alpha;
  const double e = t.e.e_value();
  CheckResult r;
  r.metric = t.check.metric;
  r.canary_requests = step_canary_requests_;
  r.stable_requests = step_stable_requests_;
  r.e_value = e;
  r.e_threshold = threshold;
  r.canary_events = t.canary_events;
  r.stable_events = t.stable_events;
  r.canary = rate(t.canary_events, step_canary_requests_);
  r.stable = rate(t.stable_events, step_stable_requests_);
  const std::string events =
      latency ? fmt::format("requests slower than {} ms (stable's {} at the step's start)",
                            num(t.latency_ns / 1e6), to_string(t.check.metric))
              : std::string("errors");
  const std::string counts =
      fmt::format("{} of {} canary and {} of {} stable requests this step", t.canary_events,
                  step_canary_requests_, t.stable_events, step_stable_requests_);
  if (e >= threshold) {
    r.verdict = Verdict::kCritical;
    r.bound = fmt::format("e-value {}", num(threshold));
    r.reason = fmt::format(
        "{}: the canary has more {} than its share of traffic explains: "
        "e-value {} reached {} (about {}x stable; {})",
        to_string(t.check.metric), events, num(e), num(threshold), num(t.e.leading_ratio()),
        counts);
  } else {
    r.reason = fmt::format("{}: {}: e-value {} of {} ({})", to_string(t.check.metric), events,
                           num(e), num(threshold), counts);
  }
  return r;
}

std::optional<std::string> SequentialJudge::srm_refusal() const {
  const double share = weight_bp_ / 10000.0;
  if (!options_.check_split || share <= 0 || share >= 1) {
    return std::nullopt;
  }
  const double log_e = seq::srm_log_e(step_canary_requests_, step_stable_requests_, share);
  if (log_e < std::log(1 / options_.alpha_srm)) {
    return std::nullopt;
  }
  const double observed = static_cast<double>(step_canary_requests_) /
                          static_cast<double>(step_canary_requests_ + step_stable_requests_);
  return fmt::format(
      "sample ratio mismatch: the canary got {}% of this step's {} requests, not the {}% it "
      "is configured for (e-value {} over {}); the data cannot be trusted, so the rollout is "
      "paused",
      num(100 * observed), step_canary_requests_ + step_stable_requests_, num(100 * share),
      num(std::exp(log_e)), num(1 / options_.alpha_srm));
}

// An absolute check has evidence once its interval lies under its bound (max, else critical).
std::optional<SequentialJudge::Shortfall> SequentialJudge::absolute_shortfall(const Test& t) const {
  const double limit = t.bound > 0 ? t.bound : t.critical;
  const seq::Interval ci = seq::rate_cs(t.canary_events, t.canary_requests, level());
  if (ci.high < limit) {
    return std::nullopt;
  }
  return Shortfall{fmt::format("{}: the upper bound {} of the canary's rate is not yet under {}",
                               to_string(t.check.metric), num(ci.high), num(limit)),
                   seq::requests_for_rate_upper(t.canary_events, t.canary_requests, limit, level()),
                   t.canary_requests};
}

// A relative check has evidence once the upper bound on the canary/stable rate ratio over the
// step lies under its tolerance; without events, once the canary's rate is bounded under the
// tolerance times stable's rate over the rollout (or under the check's own absolute bound).
std::optional<SequentialJudge::Shortfall> SequentialJudge::relative_shortfall(const Test& t) const {
  if (weight_bp_ >= 10000) {
    return std::nullopt;  // no stable traffic to compare with: the earlier steps had to
  }
  const double tol = t.check.max_ratio_to_stable.value_or(1);
  const std::string metric(to_string(t.check.metric));
  if (t.canary_requests == 0 || t.stable_requests == 0) {
    return Shortfall{metric + ": no traffic of both versions compared yet", std::nullopt, 0};
  }
  if (t.canary_events + t.stable_events > 0) {
    const double theta0 = static_cast<double>(t.canary_requests) /
                          static_cast<double>(t.canary_requests + t.stable_requests);
    const double up = seq::ratio_upper(t.canary_events, t.stable_events, theta0, level());
    if (up < tol) {
      return std::nullopt;
    }
    return Shortfall{
        fmt::format("{}: the canary/stable ratio is at most {}, not yet under {}", metric, num(up),
                    num(tol)),
        seq::requests_for_ratio_upper(t.canary_events, t.stable_events, t.canary_requests,
                                      t.stable_requests, tol, level()),
        t.canary_requests};
  }
  double limit = own_rate_bound(t.check);
  std::string against = fmt::format("its own bound {}", num(limit));
  if (t.rollout_stable_events > 0) {
    const double stable_rate = static_cast<double>(t.rollout_stable_events) /
                               static_cast<double>(t.rollout_stable_requests);
    limit = tol * stable_rate;
    against = fmt::format("{} x stable's rate {}", num(tol), num(stable_rate));
  }
  if (limit <= 0) {
    return Shortfall{metric +
                         ": no event of either version yet, so nothing to compare the canary "
                         "with (an absolute bound, max, lets it promote on its own rate)",
                     std::nullopt, t.canary_requests};
  }
  const double high = seq::rate_cs(0, t.canary_requests, level()).high;
  if (high < limit) {
    return std::nullopt;
  }
  return Shortfall{fmt::format("{}: no event yet; the canary's rate is at most {}, not yet under "
                               "{}",
                               metric, num(high), against),
                   seq::requests_for_rate_upper(0, t.canary_requests, limit, level()),
                   t.canary_requests};
}

std::optional<Judgement> SequentialJudge::held_for_evidence(Judgement j) const {
  std::vector<Shortfall> short_of;
  for (const Test& t : tests_) {
    auto s = t.kind == Kind::kRelative ? relative_shortfall(t) : absolute_shortfall(t);
    if (s) {
      short_of.push_back(std::move(*s));
    }
  }
  if (short_of.empty()) {
    return std::nullopt;
  }
  EvidenceNeed need;
  for (const Shortfall& s : short_of) {
    if (!s.needed) {
      need.expected = false;
    } else {
      need.canary_requests = std::max(need.canary_requests, *s.needed - s.seen);
    }
  }
  std::string estimate = "the rates seen so far do not promise it";
  if (need.expected) {
    estimate = fmt::format("needs ~{} more canary requests", need.canary_requests);
    if (step_canary_requests_ > 0 && step_seconds_ > 0) {
      need.seconds = static_cast<double>(need.canary_requests) * step_seconds_ /
                     static_cast<double>(step_canary_requests_);
      estimate += fmt::format(" (~{} at the current rate)", seconds_text(*need.seconds));
    }
  }
  j.decision = Decision::kContinue;
  j.reason = fmt::format("held for evidence (require_evidence): {}{}; {}", short_of.front().reason,
                         short_of.size() > 1
                             ? fmt::format(", and {} more checks short of it", short_of.size() - 1)
                             : std::string(),
                         estimate);
  j.needs = need;
  return j;
}

Judgement SequentialJudge::observe(const Window& tick, bool dwell_over) {
  step_canary_requests_ += tick.canary.requests;
  step_stable_requests_ += tick.stable.requests;
  step_seconds_ += tick.seconds;
  Judgement j;
  for (Test& t : tests_) {
    j.checks.push_back(t.kind == Kind::kRelative ? judge_relative(t, tick)
                                                 : judge_absolute(t, tick));
  }
  const auto worst = std::max_element(
      j.checks.begin(), j.checks.end(),
      [](const CheckResult& a, const CheckResult& b) { return a.verdict < b.verdict; });
  if (worst != j.checks.end() && worst->verdict >= Verdict::kFail) {
    j.decision = Decision::kRollback;
    j.reason = worst->reason;
    return j;
  }
  if (auto srm = srm_refusal()) {
    j.decision = Decision::kPause;
    j.reason = *srm;
    return j;
  }
  if (dwell_over && options_.require_evidence) {
    if (auto held = held_for_evidence(j)) {
      return *held;
    }
    j.decision = Decision::kNextStep;
    j.reason =
        "every check has the evidence that the canary is within its bound, and the "
        "step's time is over";
    return j;
  }
  j.decision = dwell_over ? Decision::kNextStep : Decision::kContinue;
  j.reason = dwell_over ? "no check found the canary worse, and the step's time is over"
                        : "no check has found the canary worse; the step goes on";
  return j;
}

}  // namespace rampart::rollout
