// The sequential judge fed tick by tick: how a policy's checks become tests, a gross failure
// rolled back in a tick, a subtle relative regression found, a canary as good as stable kept,
// a slower canary found by its latency exceedances, and the sample-ratio-mismatch guard.

#include "rollout/sequential_judge.hpp"

#include <gtest/gtest.h>

namespace rampart::rollout {
namespace {

constexpr uint64_t kMs = 1'000'000;

VersionWindow version(uint64_t requests, uint64_t errors, uint64_t latency_ms = 20) {
  VersionWindow v;
  v.requests = requests;
  v.errors = errors;
  v.latency.record(latency_ms * kMs, requests);
  return v;
}

Window tick(VersionWindow canary, VersionWindow stable) {
  Window w;
  w.seconds = 0.25;
  w.canary = std::move(canary);
  w.stable = std::move(stable);
  return w;
}

Check relative_errors() {
  Check c;
  c.metric = Metric::kErrorRate;
  c.max_ratio_to_stable = 1.2;
  return c;
}

metrics::LatencyHistogram stable_latency(uint64_t ms) {
  metrics::LatencyHistogram h;
  h.record(ms * kMs, 1000);
  return h;
}

TEST(SequentialJudge, EachBoundOfACheckIsATestAndRpsIsNotJudged) {
  EXPECT_EQ(SequentialJudge({}).tests(), 5u);  // error rate; p95 max and critical; p99 both
  Check rps;
  rps.metric = Metric::kRps;
  rps.min = 1;
  Check both = relative_errors();
  both.max = 0.01;
  EXPECT_EQ(SequentialJudge({rps, both}).tests(), 2u);
}

TEST(SequentialJudge, AGrossFailureRollsBackInItsFirstTicks) {
  // seed 004's default checks; 20% errors on 125 canary requests a tick (500 rps, 10%, 250 ms).
  SequentialJudge judge({});
  judge.start_step(1000, stable_latency(20));
  int ticks = 0;
  Judgement j;
  do {
    j = judge.observe(tick(version(12, 3), version(113, 0)), false);
    ++ticks;
  } while (j.decision != Decision::kRollback && ticks < 100);
  EXPECT_EQ(j.decision, Decision::kRollback);
  EXPECT_LE(ticks, 8) << j.reason;  // 2 s of traffic
  EXPECT_NE(j.reason.find("error_rate: the error rate is ["), std::string::npos) << j.reason;
  // Sure sooner that it is over max (0.1%) than over critical (1%): either rolls back.
  EXPECT_NE(j.reason.find("all over 0.001"), std::string::npos) << j.reason;
  const CheckResult& c = j.checks.front();
  ASSERT_TRUE(c.ci_low && c.ci_high);
  EXPECT_GT(*c.ci_low, 0.001);
  EXPECT_EQ(c.verdict, Verdict::kFail);
  EXPECT_EQ(c.canary_events, 3u * ticks);
}

TEST(SequentialJudge, ACanaryTwiceAsBadAsStableIsRolledBackWithItsEValue) {
  SequentialJudge judge({relative_errors()});
  judge.start_step(1000, stable_latency(20));
  Judgement j;
  int ticks = 0;
  // 2% against 1%: 100 canary requests with 2 errors, 900 stable with 9, each tick.
  do {
    j = judge.observe(tick(version(100, 2), version(900, 9)), false);
    ++ticks;
  } while (j.decision != Decision::kRollback && ticks < 1000);
  ASSERT_EQ(j.decision, Decision::kRollback);
  const CheckResult& c = j.checks.front();
  ASSERT_TRUE(c.e_value && c.e_threshold);
  EXPECT_GE(*c.e_value, *c.e_threshold);
  EXPECT_DOUBLE_EQ(*c.e_threshold, 100);  // one test at alpha 1%
  EXPECT_NE(j.reason.find("more errors than its share of traffic explains"), std::string::npos)
      << j.reason;
  EXPECT_LT(ticks * 100, 5000) << "canary requests to rollback";
}

TEST(SequentialJudge, ACanaryAsGoodAsStableIsNeverRolledBackAndStepsOnWhenItsTimeIsOver) {
  SequentialJudge judge({relative_errors()});
  judge.start_step(1000, stable_latency(20));
  for (int i = 0; i < 2000; ++i) {
    const Judgement j = judge.observe(tick(version(100, 1), version(900, 9)), false);
    ASSERT_EQ(j.decision, Decision::kContinue) << i << ": " << j.reason;
  }
  const Judgement j = judge.observe(tick(version(100, 1), version(900, 9)), true);
  EXPECT_EQ(j.decision, Decision::kNextStep) << j.reason;
  EXPECT_LT(*j.checks.front().e_value, 1);  // the evidence points the other way
}

TEST(SequentialJudge, ASlowerCanaryIsFoundByItsRequestsOverStablesP95) {
  Check p95;
  p95.metric = Metric::kP95Ms;
  p95.max_ratio_to_stable = 1.2;
  SequentialJudge judge({p95});
  metrics::LatencyHistogram recent;
  recent.record(50 * kMs, 950);
  recent.record(200 * kMs, 50);  // stable's p95: about 50 ms
  judge.start_step(1000, recent);
  Judgement j;
  int ticks = 0;
  do {
    VersionWindow canary = version(100, 0, 50);
    canary.latency.record(300 * kMs, 20);  // 20 of 120 over p95: 17%, against stable's 5%
    canary.requests = 120;
    VersionWindow stable = version(855, 0, 50);
    stable.latency.record(200 * kMs, 45);
    stable.requests = 900;
    j = judge.observe(tick(std::move(canary), std::move(stable)), false);
    ++ticks;
  } while (j.decision != Decision::kRollback && ticks < 100);
  EXPECT_EQ(j.decision, Decision::kRollback);
  EXPECT_NE(j.reason.find("requests slower than"), std::string::npos) << j.reason;
  EXPECT_LE(ticks, 10);
}

TEST(SequentialJudge, ASplitThatIsNotTheConfiguredOnePausesTheRollout) {
  SequentialJudge judge({relative_errors()});
  judge.start_step(1000, stable_latency(20));  // 10% configured
  Judgement j;
  for (int i = 0; i < 50 && j.decision != Decision::kPause; ++i) {
    j = judge.observe(tick(version(300, 3), version(700, 7)), false);  // 30% observed
  }
  EXPECT_EQ(j.decision, Decision::kPause);
  EXPECT_NE(j.reason.find("sample ratio mismatch: the canary got 30% of this step's"),
            std::string::npos)
      << j.reason;
  // The configured split, observed: quiet.
  SequentialJudge fair({relative_errors()});
  fair.start_step(1000, stable_latency(20));
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(fair.observe(tick(version(100, 1), version(900, 9)), false).decision,
              Decision::kContinue);
  }
}

}  // namespace
}  // namespace rampart::rollout
