// The sequential judge's statistics against closed forms and known values, and their error
// bounds checked by simulation with fixed seeds (so each run draws the same numbers): under
// the null, the fraction of paths that ever cross the bound, looking after every event, stays
// under alpha.

#include "rollout/sequential.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

namespace rampart::rollout::seq {
namespace {

// At most alpha of `paths` with the sampling noise of a simulation: alpha·n + 3 standard
// deviations. A bound that holds only on average (a test checked at every look without
// correction) lands far above it.
int allowed(int paths, double alpha) {
  const double n = paths;
  return static_cast<int>(alpha * n + 3 * std::sqrt(n * alpha * (1 - alpha)));
}

// A uniform draw in [0, 1) from the generator's top 53 bits: the same on every platform.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

TEST(Sequential, LogBetaKnownValues) {
  EXPECT_NEAR(log_beta(1, 1), 0, 1e-12);
  EXPECT_NEAR(log_beta(2, 3), std::log(1.0 / 12), 1e-12);
  EXPECT_NEAR(log_beta(0.5, 0.5), std::log(std::numbers::pi), 1e-12);
  EXPECT_NEAR(log_beta(10, 20), log_beta(20, 10), 1e-12);
}

TEST(Sequential, RateCsWithoutDataIsEverything) {
  const Interval i = rate_cs(0, 0, 0.01);
  EXPECT_EQ(i.low, 0);
  EXPECT_EQ(i.high, 1);
}

TEST(Sequential, RateCsWithNoSuccessesMatchesItsClosedForm) {
  // With a uniform prior (a = b = 1) and s = 0: B(1, 1 + n) = 1/(n + 1), so the upper end
  // solves −log(n + 1) − n·log(1 − p) = log(1/α): p = 1 − (α/(n + 1))^(1/n).
  for (uint64_t n : {1, 10, 100, 1000, 100000}) {
    const double alpha = 0.05;
    const Interval i = rate_cs(0, n, alpha, 1, 1);
    const double want = 1 - std::pow(alpha / static_cast<double>(n + 1), 1.0 / n);
    EXPECT_EQ(i.low, 0) << n;
    EXPECT_NEAR(i.high, want, 1e-9 * std::max(1.0, want)) << n;
  }
}

TEST(Sequential, RateCsHoldsItsEstimateAndShrinksWithData) {
  double width = 1;
  for (uint64_t n : {100, 1000, 10000, 100000}) {
    const Interval i = rate_cs(n / 100, n, 0.01);
    EXPECT_LT(i.low, 0.01) << n;
    EXPECT_GT(i.high, 0.01) << n;
    EXPECT_LT(i.high - i.low, width) << n;
    width = i.high - i.low;
  }
  EXPECT_LT(width, 0.003);  // 1% ± about 0.1% after 100,000 trials
  const Interval all = rate_cs(50, 50, 0.01);
  EXPECT_EQ(all.high, 1);
  EXPECT_GT(all.low, 0.8);
}

// Whether p lies in the CS after s of n: the CS's own membership test, one evaluation.
bool covers(uint64_t s, uint64_t n, double p, double alpha) {
  const Interval i = rate_cs(s, n, alpha);
  return i.low <= p && p <= i.high;
}

TEST(Sequential, RateCsCoversTheTrueRateAtEveryLookWithProbabilityOneMinusAlpha) {
  // 400 paths of 2,000 Bernoulli(2%) trials, looked at every 20 trials: the fraction of paths
  // that the CS ever misses is at most alpha (5%), whatever the looks.
  std::mt19937_64 rng(7);
  const double p = 0.02, alpha = 0.05;
  int missed = 0;
  for (int path = 0; path < 400; ++path) {
    uint64_t s = 0;
    for (uint64_t n = 1; n <= 2000; ++n) {
      s += uniform(rng) < p ? 1 : 0;
      if (n % 20 == 0 && !covers(s, n, p, alpha)) {
        ++missed;
        break;
      }
    }
  }
  EXPECT_LE(missed, allowed(400, alpha)) << missed << " of 400 paths left the CS";
}

TEST(Sequential, TheDefaultGridIsEvenInLogLogRatioFromItsLeastToItsGreatestRatio) {
  const auto g = default_ratios();
  ASSERT_EQ(g.size(), kRatioGridPoints);
  EXPECT_NEAR(g.front(), kMinRatio, 1e-12);
  EXPECT_EQ(g.back(), kMaxRatio);
  const double step = std::log(std::log(g[1])) - std::log(std::log(g[0]));
  EXPECT_NEAR(step, (std::log(std::log(10.0)) - std::log(std::log(1.25))) / 31, 1e-12);
  for (std::size_t i = 1; i < g.size(); ++i) {
    EXPECT_NEAR(std::log(std::log(g[i])) - std::log(std::log(g[i - 1])), step, 1e-9) << i;
  }
  // log(log r) from log(log 1.25) to log(log 10) in 31 steps: 1.9944 at i = 15, 2.7343 at 20.
  EXPECT_NEAR(g[15], 1.9944, 1e-4);
  EXPECT_NEAR(g[20], 2.7343, 1e-4);
}

TEST(Sequential, OneRatiosLikelihoodRatioAfterEventsOfEachVersion) {
  // r = 2 at theta0 = 0.1: the canary's share of events is 0.2/1.1 = 2/11; a canary event
  // multiplies by (2/11)/0.1 = 20/11, a stable one by (9/11)/0.9 = 10/11.
  const std::array<double, 1> two = {2};
  RatioEProcess e(two);
  e.update(0.1, 3, 5);
  EXPECT_NEAR(e.log_e_value(), 3 * std::log(20.0 / 11) + 5 * std::log(10.0 / 11), 1e-12);
  e.update(0.5, 1, 0);  // theta0 = 1/2: 2r/(r + 1) = 4/3
  EXPECT_NEAR(e.log_e_value(),
              3 * std::log(20.0 / 11) + 5 * std::log(10.0 / 11) + std::log(4.0 / 3), 1e-12);
  e.update(0.3, 0, 0);  // no event: no change
  EXPECT_NEAR(e.log_e_value(),
              3 * std::log(20.0 / 11) + 5 * std::log(10.0 / 11) + std::log(4.0 / 3), 1e-12);
  EXPECT_EQ(e.leading_ratio(), 2);
}

TEST(Sequential, TheEProcessStartsAtOneAndMatchesItsClosedFormAfterOneEvent) {
  RatioEProcess e;
  EXPECT_DOUBLE_EQ(e.e_value(), 1);
  // theta0 = 1/2: one canary event multiplies component r by 2r/(r + 1), one stable event by
  // 2/(r + 1).
  RatioEProcess canary, stable;
  canary.update(0.5, 1, 0);
  stable.update(0.5, 0, 1);
  double want_canary = 0, want_stable = 0;
  const auto ratios = default_ratios();
  for (double r : ratios) {
    want_canary += 2 * r / (r + 1) / static_cast<double>(ratios.size());
    want_stable += 2 / (r + 1) / static_cast<double>(ratios.size());
  }
  EXPECT_NEAR(canary.e_value(), want_canary, 1e-12);
  EXPECT_NEAR(stable.e_value(), want_stable, 1e-12);
  EXPECT_GT(canary.e_value(), 1);
  EXPECT_LT(stable.e_value(), 1);
}

// Feeds `events` event labels, the canary's with probability `share`, to a fresh e-process
// with theta0; true if it ever reaches 1/alpha.
bool alarms(std::mt19937_64& rng, double theta0, double share, int events, double alpha,
            RatioEProcess* out = nullptr) {
  RatioEProcess e;
  const double bound = std::log(1 / alpha);
  for (int i = 0; i < events; ++i) {
    const bool canary = uniform(rng) < share;
    e.update(theta0, canary ? 1 : 0, canary ? 0 : 1);
    if (e.log_e_value() >= bound) {
      if (out != nullptr) {
        *out = e;
      }
      return true;
    }
  }
  return false;
}

TEST(Sequential, UnderTheNullTheEProcessRarelyEverReachesOneOverAlpha) {
  // Ville's inequality: P(sup E >= 1/alpha) <= alpha, looking after every event.
  std::mt19937_64 rng(11);
  for (double theta0 : {0.01, 0.1, 0.5}) {
    int false_alarms = 0;
    for (int path = 0; path < 300; ++path) {
      false_alarms += alarms(rng, theta0, theta0, 2000, 0.05) ? 1 : 0;
    }
    EXPECT_LE(false_alarms, allowed(300, 0.05))
        << "theta0 " << theta0 << ": " << false_alarms << " of 300";
  }
  // A canary that is better than stable (the composite null) alarms even less.
  int better = 0;
  for (int path = 0; path < 300; ++path) {
    better += alarms(rng, 0.1, 0.05, 3000, 0.05) ? 1 : 0;
  }
  EXPECT_LE(better, 5);
}

TEST(Sequential, ATestMeantForOneLookFailsTheSameCheckWhenLookedAtAgainAndAgain) {
  // The contrast that makes the bound above worth having: a one-sided z-test at 5% on the
  // canary's share of events, looked at every 20 events, alarms far more often than 5%.
  std::mt19937_64 rng(23);
  const double theta0 = 0.1;
  int false_alarms = 0;
  for (int path = 0; path < 300; ++path) {
    double ec = 0;
    for (int n = 1; n <= 2000; ++n) {
      ec += uniform(rng) < theta0 ? 1 : 0;
      if (n % 20 == 0 && (ec - theta0 * n) / std::sqrt(n * theta0 * (1 - theta0)) > 1.645) {
        ++false_alarms;
        break;
      }
    }
  }
  EXPECT_GT(false_alarms, 2 * allowed(300, 0.05)) << false_alarms;
}

TEST(Sequential, ACanaryTwiceAsBadIsFoundAndTheLeadingRatioPointsAtIt) {
  std::mt19937_64 rng(13);
  const double theta0 = 0.1;
  std::vector<double> leading;
  for (int path = 0; path < 200; ++path) {
    RatioEProcess at_alarm;
    if (alarms(rng, theta0, share_for_ratio(theta0, 2), 3000, 0.01, &at_alarm)) {
      leading.push_back(at_alarm.leading_ratio());
    }
  }
  EXPECT_GE(leading.size(), 198u);
  // At the alarm the estimate leans high (a path stops when its evidence runs ahead), but its
  // median is near the true 2.
  std::sort(leading.begin(), leading.end());
  EXPECT_GE(leading[leading.size() / 2], 1.7);
  EXPECT_LE(leading[leading.size() / 2], 2.8);
}

TEST(Sequential, TheWeightMayChangeBetweenUpdates) {
  // A null canary through a 1% -> 10% -> 50% schedule: still at most alpha.
  std::mt19937_64 rng(17);
  int false_alarms = 0;
  for (int path = 0; path < 500; ++path) {
    RatioEProcess e;
    bool alarmed = false;
    for (double theta0 : {0.01, 0.1, 0.5}) {
      for (int i = 0; i < 1000 && !alarmed; ++i) {
        const bool canary = uniform(rng) < theta0;
        e.update(theta0, canary ? 1 : 0, canary ? 0 : 1);
        alarmed = e.e_value() >= 20;
      }
    }
    false_alarms += alarmed ? 1 : 0;
  }
  EXPECT_LE(false_alarms, allowed(500, 0.05));
}

TEST(Sequential, RatioUpperBoundsTheRatioAndTightensWithEvents) {
  EXPECT_TRUE(std::isinf(ratio_upper(0, 0, 0.1, 0.05)));
  // Events exactly in proportion (ratio 1): the bound falls towards 1 from above.
  double last = std::numeric_limits<double>::infinity();
  for (uint64_t total : {100, 1000, 10000, 100000}) {
    const double u = ratio_upper(total / 10, total - total / 10, 0.1, 0.05);
    EXPECT_GT(u, 1) << total;
    EXPECT_LT(u, last) << total;
    last = u;
  }
  EXPECT_LT(last, 1.05);
  // A canary with twice its share of events is bounded above 2 only rarely wrong: its bound
  // stays above 2.
  EXPECT_GT(ratio_upper(1818, 8182, 0.1, 0.05), 2);  // θ = 0.1818: ratio 2 exactly
}

TEST(Sequential, RatioUpperCoversTheTrueRatioAtEveryLook) {
  std::mt19937_64 rng(19);
  const double theta0 = 0.1, r = 2, alpha = 0.05;
  const double share = share_for_ratio(theta0, r);
  int missed = 0;
  for (int path = 0; path < 300; ++path) {
    uint64_t ec = 0, eb = 0;
    for (int i = 1; i <= 2000; ++i) {
      ++(uniform(rng) < share ? ec : eb);
      if (i % 25 == 0 && ratio_upper(ec, eb, theta0, alpha) < r) {
        ++missed;
        break;
      }
    }
  }
  EXPECT_LE(missed, allowed(300, alpha)) << missed << " of 300";
}

TEST(Sequential, SampleRatioMismatchIsQuietOnTheConfiguredSplitAndLoudOffIt) {
  EXPECT_LT(srm_log_e(1000, 9000, 0.1), 0);
  EXPECT_LT(srm_log_e(1030, 8970, 0.1), std::log(1000));  // noise
  EXPECT_GT(srm_log_e(2000, 8000, 0.1), std::log(1e6));   // twice the share
  EXPECT_GT(srm_log_e(5000, 95000, 0.1), std::log(1e6));  // half the share
  EXPECT_NEAR(srm_log_e(0, 0, 0.1), 0, 1e-12);
}

// With no events, rate_cs's upper end solves −n·log(1 − p) = log(1/alpha) + log(B(.5,.5) /
// B(.5, n + .5)), and B(.5,.5)/B(.5, n + .5) = √π·Γ(n + 1)/Γ(n + .5) ≈ √(πn). For alpha 0.01
// and p 0.001 (−log 0.999 = 0.0010005), iterating n = (4.6052 + ½·log(πn)) / 0.0010005 from
// n = 5000 gives 9431, 9748, 9765, 9766: about 9766 requests without an error bound the rate
// under 0.1%. At alpha 0.002 (log 500 = 6.2146) the same gives 11454.
TEST(Sequential, RequestsForRateUpperWithoutEventsMatchesTheHandComputedCount) {
  auto n = requests_for_rate_upper(0, 0, 0.001, 0.01);
  ASSERT_TRUE(n);
  EXPECT_NEAR(static_cast<double>(*n), 9766, 2);
  EXPECT_LT(rate_cs(0, *n, 0.01).high, 0.001);
  EXPECT_GE(rate_cs(0, *n - 1, 0.01).high, 0.001);  // the fewest
  // Requests already seen count: the answer is the same total.
  EXPECT_EQ(requests_for_rate_upper(0, 4000, 0.001, 0.01), n);
  auto strict = requests_for_rate_upper(0, 0, 0.001, 0.002);
  ASSERT_TRUE(strict);
  EXPECT_NEAR(static_cast<double>(*strict), 11454, 2);
}

TEST(Sequential, RequestsForRateUpperAtTheRateSeen) {
  // 0.5% seen against a bound of 1%: the interval has to shrink to under twice the rate.
  auto n = requests_for_rate_upper(5, 1000, 0.01, 0.01);
  ASSERT_TRUE(n);
  EXPECT_GT(*n, 1000u);
  EXPECT_LT(rate_cs(*n / 200, *n, 0.01).high, 0.0101);
  EXPECT_GE(rate_cs((*n / 2) / 200, *n / 2, 0.01).high, 0.01);
  // A rate seen at or over the bound never gets under it.
  EXPECT_FALSE(requests_for_rate_upper(10, 1000, 0.01, 0.01));
  EXPECT_FALSE(requests_for_rate_upper(20, 1000, 0.01, 0.01));
  // Already under: the next request does.
  EXPECT_EQ(requests_for_rate_upper(0, 100'000, 0.001, 0.01), 100'001u);
}

TEST(Sequential, RequestsForRatioUpperScalesTheCountsSeen) {
  // The canary at stable's rate, 1%, at 10% weight: 10 of 1000 against 90 of 9000.
  auto n = requests_for_ratio_upper(10, 90, 1000, 9000, 1.2, 0.01);
  ASSERT_TRUE(n);
  const double m = static_cast<double>(*n) / 1000;
  const auto at = [](double scale) {
    return ratio_upper(static_cast<uint64_t>(std::llround(10 * scale)),
                       static_cast<uint64_t>(std::llround(90 * scale)), 0.1, 0.01);
  };
  EXPECT_LT(at(m), 1.2);
  EXPECT_GE(at(m * 0.95), 1.2);
  EXPECT_GT(*n, 10'000u);  // a 20% tolerance on a 1% rate takes many requests
  // A looser tolerance takes fewer.
  EXPECT_LT(*requests_for_ratio_upper(10, 90, 1000, 9000, 2, 0.01), *n);
  // An observed ratio at or over the tolerance, no stable events, or no events: never.
  EXPECT_FALSE(requests_for_ratio_upper(13, 90, 1000, 9000, 1.2, 0.01));
  EXPECT_FALSE(requests_for_ratio_upper(1, 0, 1000, 9000, 1.2, 0.01));
  EXPECT_FALSE(requests_for_ratio_upper(0, 0, 1000, 9000, 1.2, 0.01));
  EXPECT_FALSE(requests_for_ratio_upper(1, 9, 0, 9000, 1.2, 0.01));
}

}  // namespace
}  // namespace rampart::rollout::seq
