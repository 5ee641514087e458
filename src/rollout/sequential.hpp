#pragma once
// The anytime-valid statistics of the sequential judge: pure functions and small value types,
// no I/O, no clock. Each holds its error bound however often it is looked at (after every
// request, every tick), because each is built on a nonnegative (super)martingale and Ville's
// inequality: P(sup_n M_n >= 1/alpha) <= alpha. References for every formula are given where it
// is implemented (sequential.cpp); docs/judge.md explains them for users.
//
//   RatioEProcess   is the canary worse? Which version each event (a 5xx, a latency over x)
//                   came from, against the canary's share of requests: a one-sided mixture of
//                   likelihood ratios over rate ratios r > 1. Large when the canary's events
//                   are more frequent than its share of the traffic explains.
//   rate_cs         an anytime-valid confidence interval for a rate from successes in trials
//                   (a beta-binomial mixture): for absolute checks ("error_rate max 0.01").
//   ratio_upper     an anytime-valid upper bound on the canary/stable rate ratio: the evidence
//                   that promotes under `require_evidence`.
//   srm_log_e       the sample-ratio-mismatch guard: do the requests split as configured?
//   requests_for_*  how much traffic a bound needs to fall under a limit if the rates observed
//                   so far hold: the estimate `status` shows for a step held for evidence.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace rampart::rollout::seq {

// log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b). REQUIRES: a, b > 0.
double log_beta(double a, double b);

// The rate ratios an e-process mixes over, with equal weight. The default is a grid of
// kRatioGridPoints ratios from 1.25 to 10, evenly spaced in log(log r). The spacing: when the
// mixture rolls back, what the evidence says about log r spreads in proportion to log r, so an
// even grid in log(log r) costs every effect in the range about the same extra evidence for
// not knowing it beforehand. The range: from just over the default tolerance (1.2, a ratio the
// user accepts; a smaller one is still found, later) to a tenfold rate (larger ones are found
// within a few events anyway). The narrower the range, the less that cost: 1.25–10 rolls back
// 1% -> 2% errors after ~1.24x the requests of a test that knew the ratio, 1.1–10 after
// ~1.31x, and the seven ratios of canary_stats.md §5 (kCoarseRatios) after ~1.32x
// (docs/benchmarks.md). Every grid is valid: the bound on false rollbacks holds for any one.
inline constexpr std::size_t kRatioGridPoints = 32;
inline constexpr double kMinRatio = 1.25;
inline constexpr double kMaxRatio = 10;
std::span<const double> default_ratios();
inline constexpr std::array<double, 7> kCoarseRatios = {1.1, 1.25, 1.5, 2, 3, 5, 10};

// A one-sided e-process for H0 "the canary's rate of some event is at most the stable
// version's". Fed per tick: the canary's share of requests in the tick (theta0, fixed before
// the tick's events are looked at) and the events of each version in it. Under H0 every
// component is a nonnegative supermartingale starting at 1, so their mean is one too, also
// when theta0 changes from tick to tick (a new step's weight).
class RatioEProcess {
 public:
  // REQUIRES: every ratio > 1.
  explicit RatioEProcess(std::span<const double> ratios = default_ratios());

  // REQUIRES: 0 < theta0 < 1.
  void update(double theta0, uint64_t canary_events, uint64_t stable_events);

  // log of the e-value: log(mean_r exp(log L_r)). 0 before any event.
  double log_e_value() const;
  double e_value() const;
  // The ratio whose likelihood ratio is largest now: the effect the evidence points at.
  double leading_ratio() const;

 private:
  std::vector<double> ratios_;
  std::vector<double> log_ratios_;
  std::vector<double> log_l_;  // log likelihood ratio of each ratio against H0's boundary
};

struct Interval {
  double low = 0;
  double high = 1;
};

// The beta-binomial confidence sequence for a Bernoulli rate p after `successes` in `trials`:
//   { p : log B(a + s, b + n − s) − log B(a, b) − s log p − (n − s) log(1 − p) < log(1/alpha) },
// which covers the true p at every n at once with probability >= 1 − alpha. The prior
// Beta(a, b) only shapes where it is tight. REQUIRES: successes <= trials, 0 < alpha < 1.
Interval rate_cs(uint64_t successes, uint64_t trials, double alpha, double a = 0.5, double b = 0.5);

// An anytime-valid upper bound on the canary/stable rate ratio of an event, from
// canary_events of canary_events + stable_events with the canary's share of requests theta0:
// the upper end of the beta-binomial CS for the canary's share of events (prior
// Beta(k·theta0, k·(1 − theta0))) mapped to a ratio, [θ/(1 − θ)] / [θ0/(1 − θ0)]. Infinity
// without events (nothing bounds it; see rate_cs for the absolute rate then).
double ratio_upper(uint64_t canary_events, uint64_t stable_events, double theta0, double alpha,
                   double k = 100);

// The sample-ratio-mismatch e-value (its log): are canary_requests of canary_requests +
// stable_requests consistent with the configured share theta0? A Dirichlet-multinomial (here
// beta-binomial) Bayes factor with prior Beta(k·θ0, k·(1 − θ0)) (Lindon & Malek 2022; ssrm
// uses k = 10^4). Freeze the rollout when it reaches log(1/alpha).
double srm_log_e(uint64_t canary_requests, uint64_t stable_requests, double theta0, double k = 1e4);

// The canary's share of events under H0 for the rate ratio r: θ0·r / (θ0·r + 1 − θ0).
double share_for_ratio(double theta0, double r);

// The projections are searched up to this many requests; past it, "not expected".
inline constexpr uint64_t kMaxProjectedRequests = 1'000'000'000'000;

// The fewest requests n (counting the `requests` seen, at least requests + 1) after which
// rate_cs(round(p̂·n), n, alpha).high < bound, where p̂ = events / requests is the rate seen
// (0 without requests: the events stay at none). nullopt when no n up to
// kMaxProjectedRequests does (p̂ at or over the bound). REQUIRES: events <= requests.
std::optional<uint64_t> requests_for_rate_upper(uint64_t events, uint64_t requests, double bound,
                                                double alpha);

// The fewest canary requests n (counting the canary_requests seen) after which
// ratio_upper(round(e_c·m), round(e_b·m), θ0, alpha, k) < tolerance with m = n / canary_requests:
// both versions' traffic and events grow in proportion, at the rates seen, the split θ0 =
// n_c / (n_c + n_b) staying. nullopt when none does (the observed ratio at or over the
// tolerance, or no event, or no requests of a version).
std::optional<uint64_t> requests_for_ratio_upper(uint64_t canary_events, uint64_t stable_events,
                                                 uint64_t canary_requests, uint64_t stable_requests,
                                                 double tolerance, double alpha, double k = 100);

}  // namespace rampart::rollout::seq
