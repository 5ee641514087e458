#include "rollout/sequential.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <functional>
#include <limits>

namespace rampart::rollout::seq {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The root of f in [lo, hi] by bisection, where f(lo) and f(hi) have opposite signs (or f is
// negative on the whole side the root is sought from). 200 halvings reach the double's
// resolution on [0, 1].
double bisect(const std::function<double(double)>& f, double lo, double hi) {
  const bool rising = f(hi) > f(lo);
  for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
    const double mid = 0.5 * (lo + hi);
    ((f(mid) < 0) == rising ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// The smallest n in (from, kMaxProjectedRequests] with enough(n), for an `enough` that holds from
// some n on: doubling to a bracket, then bisection. nullopt when it never holds.
std::optional<uint64_t> smallest_with(uint64_t from, const std::function<bool(uint64_t)>& enough) {
  uint64_t lo = from;  // enough(lo) is taken as false
  uint64_t hi = std::max<uint64_t>(from * 2, from + 1);
  while (!enough(hi)) {
    if (hi >= kMaxProjectedRequests) {
      return std::nullopt;
    }
    lo = hi;
    hi = std::min(hi * 2, kMaxProjectedRequests);
  }
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    (enough(mid) ? hi : lo) = mid;
  }
  return hi;
}

uint64_t scaled(uint64_t count, double factor) {
  return static_cast<uint64_t>(std::llround(static_cast<double>(count) * factor));
}

}  // namespace

double log_beta(double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

double share_for_ratio(double theta0, double r) { return theta0 * r / (theta0 * r + 1 - theta0); }

std::span<const double> default_ratios() {
  static const std::array<double, kRatioGridPoints> grid = [] {
    std::array<double, kRatioGridPoints> g{};
    const double lo = std::log(std::log(kMinRatio));
    const double hi = std::log(std::log(kMaxRatio));
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double u = lo + (hi - lo) * static_cast<double>(i) / (g.size() - 1);
      g[i] = std::exp(std::exp(u));
    }
    g.back() = kMaxRatio;  // exactly, whatever the rounding
    return g;
  }();
  return grid;
}

RatioEProcess::RatioEProcess(std::span<const double> ratios)
    : ratios_(ratios.begin(), ratios.end()), log_l_(ratios.size(), 0.0) {
  for (double r : ratios_) {
    assert(r > 1);
    log_ratios_.push_back(std::log(r));
  }
}

// Each component is the likelihood ratio of "the canary's share of events is θ_r" (its share
// for rate ratio r) against θ0, over the events' labels: Π (θ_r/θ0)^[canary] ((1−θ_r)/(1−θ0))^
// [stable]. Its one-event expectation under a true share θ is θ·θ_r/θ0 + (1−θ)(1−θ_r)/(1−θ0),
// which is 1 at θ = θ0 and smaller below (θ_r > θ0): a supermartingale under the composite
// null θ <= θ0 (canary_stats.md §5, "One-sided closed form"; Lindon & Malek 2022 for the
// two-arm reduction of rates to labels). theta0 may change between updates (it is predictable).
// With θ_r = θ0·r / d, d = 1 + θ0(r − 1): θ_r/θ0 = r/d and (1−θ_r)/(1−θ0) = 1/d, so a tick
// adds e_c·log r − (e_c + e_b)·log d.
void RatioEProcess::update(double theta0, uint64_t canary_events, uint64_t stable_events) {
  assert(theta0 > 0 && theta0 < 1);
  if (canary_events + stable_events == 0) {
    return;
  }
  const auto ec = static_cast<double>(canary_events);
  const auto events = static_cast<double>(canary_events + stable_events);
  for (std::size_t i = 0; i < ratios_.size(); ++i) {
    log_l_[i] += ec * log_ratios_[i] - events * std::log1p(theta0 * (ratios_[i] - 1));
  }
}

double RatioEProcess::log_e_value() const {
  if (log_l_.empty()) {
    return 0;
  }
  const double top = *std::max_element(log_l_.begin(), log_l_.end());
  double sum = 0;
  for (double l : log_l_) {
    sum += std::exp(l - top);
  }
  return top + std::log(sum / static_cast<double>(log_l_.size()));
}

double RatioEProcess::e_value() const { return std::exp(log_e_value()); }

double RatioEProcess::leading_ratio() const {
  if (ratios_.empty()) {
    return 1;
  }
  const auto best = std::max_element(log_l_.begin(), log_l_.end());
  return ratios_[static_cast<std::size_t>(best - log_l_.begin())];
}

// The mixture martingale M_n(p) = ∫ Π (q/p)^x ((1−q)/(1−p))^(1−x) dBeta(q; a, b)
//   = B(a + s, b + n − s) / B(a, b) / (p^s (1 − p)^(n − s)),
// a martingale under p; by Ville, p stays in {p : M_n(p) < 1/alpha} at every n with
// probability >= 1 − alpha (Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform,
// nonparametric, nonasymptotic confidence sequences", §3.3's beta-binomial mixture; confseq's
// beta_binomial_log_mixture). log M_n is convex in p and at most 0 at p̂ = s/n (a mixture of
// likelihood ratios is at most the largest), so the set is an interval around p̂.
Interval rate_cs(uint64_t successes, uint64_t trials, double alpha, double a, double b) {
  assert(successes <= trials && alpha > 0 && alpha < 1);
  if (trials == 0) {
    return {};
  }
  const auto s = static_cast<double>(successes);
  const auto n = static_cast<double>(trials);
  const double c = log_beta(a + s, b + n - s) - log_beta(a, b) - std::log(1 / alpha);
  const auto f = [&](double p) {
    const double ls = s > 0 ? s * std::log(p) : 0.0;
    const double lf = n - s > 0 ? (n - s) * std::log1p(-p) : 0.0;
    return c - ls - lf;
  };
  const double hat = s / n;
  Interval out;
  out.low = successes == 0 ? 0.0 : bisect(f, 0.0, hat);
  out.high = successes == trials ? 1.0 : bisect(f, hat, 1.0);
  return out;
}

double ratio_upper(uint64_t canary_events, uint64_t stable_events, double theta0, double alpha,
                   double k) {
  if (canary_events + stable_events == 0) {
    return kInfinity;
  }
  const double high =
      rate_cs(canary_events, canary_events + stable_events, alpha, k * theta0, k * (1 - theta0))
          .high;
  if (high >= 1) {
    return kInfinity;
  }
  return (high / (1 - high)) / (theta0 / (1 - theta0));
}

std::optional<uint64_t> requests_for_rate_upper(uint64_t events, uint64_t requests, double bound,
                                                double alpha) {
  assert(events <= requests);
  const double hat = requests == 0 ? 0.0 : static_cast<double>(events) / requests;
  if (hat >= bound) {
    return std::nullopt;
  }
  return smallest_with(requests, [&](uint64_t n) {
    const auto e = std::min(n, static_cast<uint64_t>(std::llround(hat * static_cast<double>(n))));
    return rate_cs(e, n, alpha).high < bound;
  });
}

std::optional<uint64_t> requests_for_ratio_upper(uint64_t canary_events, uint64_t stable_events,
                                                 uint64_t canary_requests, uint64_t stable_requests,
                                                 double tolerance, double alpha, double k) {
  if (canary_requests == 0 || stable_requests == 0 || canary_events + stable_events == 0) {
    return std::nullopt;
  }
  const auto nc = static_cast<double>(canary_requests);
  const auto nb = static_cast<double>(stable_requests);
  const double theta0 = nc / (nc + nb);
  // The observed ratio of the rates (infinite without stable events): the bound tends to it,
  // so it must be under the tolerance.
  const double observed =
      (static_cast<double>(canary_events) / nc) / (static_cast<double>(stable_events) / nb);
  if (!(observed < tolerance)) {
    return std::nullopt;
  }
  return smallest_with(canary_requests, [&](uint64_t n) {
    const double m = static_cast<double>(n) / nc;
    return ratio_upper(scaled(canary_events, m), scaled(stable_events, m), theta0, alpha, k) <
           tolerance;
  });
}

// E = B(a + n_c, b + n_b) / B(a, b) · θ0^(−n_c) (1 − θ0)^(−n_b), a = kθ0, b = k(1 − θ0): the
// Bayes factor of "the split is some θ ~ Beta(a, b)" against "it is θ0", a martingale under θ0
// (Lindon & Malek 2022, "Anytime-valid inference for multinomial count data"; canary_stats.md
// §2, two arms).
double srm_log_e(uint64_t canary_requests, uint64_t stable_requests, double theta0, double k) {
  const auto nc = static_cast<double>(canary_requests);
  const auto nb = static_cast<double>(stable_requests);
  const double a = k * theta0;
  const double b = k * (1 - theta0);
  return log_beta(a + nc, b + nb) - log_beta(a, b) - nc * std::log(theta0) -
         nb * std::log1p(-theta0);
}

}  // namespace rampart::rollout::seq
