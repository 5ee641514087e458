// The sequential judge fed tick by tick: how a policy's checks become tests, a gross failure
// rolled back in a tick, a subtle relative regression found, a canary as good as stable kept,
// a slower canary found by its latency exceedances, and the sample-ratio-mismatch guard.

#include "rollout/sequential_judge.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

  // The default p95 check's two tests say which threshold each bounds.
  SequentialJudge defaults({});
  defaults.start_step(1000, stable_latency(20));
  const Judgement j = defaults.observe(tick(version(12, 0), version(113, 0)), false);
  std::vector<std::string> p95;
  for (const CheckResult& c : j.checks) {
    if (c.metric == Metric::kP95Ms) {
      p95.push_back(c.bound);
    }
  }
  EXPECT_EQ(p95, (std::vector<std::string>{"max 0.05 of requests slower than 500 ms",
                                           "critical 0.05 of requests slower than 750 ms"}));
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
  EXPECT_DOUBLE_EQ(*c.canary, 0.25);  // 3 of 12 each tick
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
  // With sticky routing the split follows the keys': not checked.
  SequentialJudge sticky({relative_errors()}, {.check_split = false});
  sticky.start_step(1000, stable_latency(20));
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(sticky.observe(tick(version(300, 3), version(700, 7)), false).decision,
              Decision::kContinue);
  }
  // The configured split, observed: quiet.
  SequentialJudge fair({relative_errors()});
  fair.start_step(1000, stable_latency(20));
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(fair.observe(tick(version(100, 1), version(900, 9)), false).decision,
              Decision::kContinue);
  }
}

Check absolute_errors(double max) {
  Check c;
  c.metric = Metric::kErrorRate;
  c.max = max;
  return c;
}

// 400 canary requests a second without an error, against a bound of 0.1% at alpha 1% (one
// test): about 9766 requests bound the rate under it (sequential_test.cpp computes it by
// hand). At the end of the dwell, 1000 in: ~8766 more, ~22 s at 400/s.
TEST(SequentialJudge, RequireEvidenceHoldsAStepUntilTheBoundIsUnderTheCheckThenMovesOn) {
  SequentialJudge judge({absolute_errors(0.001)}, {.require_evidence = true});
  judge.start_step(1000, stable_latency(20));
  for (int i = 0; i < 9; ++i) {
    ASSERT_EQ(judge.observe(tick(version(100, 0), version(900, 0)), false).decision,
              Decision::kContinue);
  }
  Judgement j = judge.observe(tick(version(100, 0), version(900, 0)), true);
  ASSERT_EQ(j.decision, Decision::kContinue) << j.reason;
  ASSERT_TRUE(j.needs);
  EXPECT_TRUE(j.needs->expected);
  EXPECT_NEAR(static_cast<double>(j.needs->canary_requests), 8766, 2);
  ASSERT_TRUE(j.needs->seconds);
  EXPECT_NEAR(*j.needs->seconds, 8766 / 400.0, 0.01);
  EXPECT_NE(j.reason.find("held for evidence (require_evidence): error_rate: the upper bound"),
            std::string::npos)
      << j.reason;
  EXPECT_NE(j.reason.find("needs ~876"), std::string::npos) << j.reason;
  EXPECT_NE(j.reason.find("(~22s at the current rate)"), std::string::npos) << j.reason;
  int canary = 1000;
  while (j.decision == Decision::kContinue && canary < 20'000) {
    j = judge.observe(tick(version(100, 0), version(900, 0)), true);
    canary += 100;
  }
  EXPECT_EQ(j.decision, Decision::kNextStep) << j.reason;
  EXPECT_GE(canary, 9766);  // promoted at the first tick whose evidence suffices
  EXPECT_LT(canary, 9766 + 100);
  EXPECT_FALSE(j.needs);
  // Without require_evidence the same step moves on at the end of its dwell.
  SequentialJudge plain({absolute_errors(0.001)});
  plain.start_step(1000, stable_latency(20));
  EXPECT_EQ(plain.observe(tick(version(100, 0), version(900, 0)), true).decision,
            Decision::kNextStep);
}

TEST(SequentialJudge, RequireEvidenceOnARelativeCheckBoundsTheRateRatio) {
  // Canary and stable both at 1%: the ratio's upper bound comes down towards 1, under 1.2.
  SequentialJudge judge({relative_errors()}, {.require_evidence = true});
  judge.start_step(1000, stable_latency(20));
  Judgement j = judge.observe(tick(version(1000, 10), version(9000, 90)), true);
  ASSERT_EQ(j.decision, Decision::kContinue) << j.reason;
  ASSERT_TRUE(j.needs && j.needs->expected);
  const auto expected = *seq::requests_for_ratio_upper(10, 90, 1000, 9000, 1.2, 0.01) - 1000;
  EXPECT_EQ(j.needs->canary_requests, expected);
  EXPECT_NE(j.reason.find("the canary/stable ratio is at most"), std::string::npos) << j.reason;
  uint64_t canary = 1000;
  while (j.decision == Decision::kContinue && canary < 10'000'000) {
    j = judge.observe(tick(version(1000, 10), version(9000, 90)), true);
    canary += 1000;
  }
  EXPECT_EQ(j.decision, Decision::kNextStep) << j.reason;
  EXPECT_NEAR(static_cast<double>(canary), static_cast<double>(expected + 1000), 1000);
}

TEST(SequentialJudge, RequireEvidenceSaysWhenTheRatesSeenDoNotPromiseIt) {
  // 1.3x stable's rate against a tolerance of 1.2: no amount of the same traffic suffices.
  SequentialJudge worse({relative_errors()}, {.require_evidence = true});
  worse.start_step(1000, stable_latency(20));
  Judgement j = worse.observe(tick(version(1000, 13), version(9000, 90)), true);
  ASSERT_EQ(j.decision, Decision::kContinue) << j.reason;
  ASSERT_TRUE(j.needs);
  EXPECT_FALSE(j.needs->expected);
  EXPECT_NE(j.reason.find("the rates seen so far do not promise it"), std::string::npos)
      << j.reason;
  // No error from either version and no absolute bound: nothing to compare with.
  SequentialJudge none({relative_errors()}, {.require_evidence = true});
  none.start_step(1000, stable_latency(20));
  j = none.observe(tick(version(1000, 0), version(9000, 0)), true);
  EXPECT_EQ(j.decision, Decision::kContinue);
  EXPECT_NE(j.reason.find("no event of either version yet"), std::string::npos) << j.reason;
  // With an absolute bound as well, the canary's own rate decides.
  Check both = relative_errors();
  both.max = 0.01;
  SequentialJudge bounded({both}, {.require_evidence = true});
  bounded.start_step(1000, stable_latency(20));
  for (int i = 0; i < 20; ++i) {
    j = bounded.observe(tick(version(1000, 0), version(9000, 0)), true);
  }
  EXPECT_EQ(j.decision, Decision::kNextStep) << j.reason;
}

// A step without any error of either version compares the canary's bound on its rate with the
// tolerance times the stable version's rate over the rollout (its errors in earlier steps).
TEST(SequentialJudge, RequireEvidenceWithoutEventsInTheStepUsesStablesRateOverTheRollout) {
  SequentialJudge judge({relative_errors()}, {.require_evidence = true});
  judge.start_step(1000, stable_latency(20));
  for (int i = 0; i < 10; ++i) {
    judge.observe(tick(version(1000, 0), version(9000, 90)), false);  // stable: 1%
  }
  judge.start_step(5000, stable_latency(20));
  Judgement j = judge.observe(tick(version(100, 0), version(100, 0)), true);
  ASSERT_EQ(j.decision, Decision::kContinue) << j.reason;
  EXPECT_NE(j.reason.find("no event yet; the canary's rate is at most"), std::string::npos)
      << j.reason;
  EXPECT_NE(j.reason.find("not yet under 1.2 x stable's rate 0.009989"), std::string::npos)
      << j.reason;  // 900 errors of 90,100 stable requests
  // Its bound must fall under 1.2 × 0.9989% = 1.199%: rate_cs(0, n) at alpha 1% does so at n.
  const auto n = seq::requests_for_rate_upper(0, 100, 1.2 * 900 / 90'100.0, 0.01);
  ASSERT_TRUE(n && j.needs && j.needs->expected);
  EXPECT_EQ(j.needs->canary_requests, *n - 100);
  for (uint64_t seen = 100; seen < *n; seen += 100) {
    j = judge.observe(tick(version(100, 0), version(100, 0)), true);
  }
  EXPECT_EQ(j.decision, Decision::kNextStep) << j.reason;
}

TEST(SequentialJudge, RequireEvidenceWaivesRelativeChecksAt100Percent) {
  SequentialJudge judge({relative_errors()}, {.require_evidence = true});
  judge.start_step(10000, stable_latency(20));
  EXPECT_EQ(judge.observe(tick(version(1000, 10), version(0, 0)), true).decision,
            Decision::kNextStep);
}

// On a sticky service the relative test counts each key's first few errors only (the
// gateway's capped_errors): a few broken users' many errors on the canary are not a
// regression. The absolute bound still counts every error.
TEST(SequentialJudge, WithCappedErrorsTheRelativeTestCountsTheCappedOnes) {
  const auto heavy_users = [] {
    Window w = tick(version(100, 20), version(900, 9));
    w.canary.capped_errors = 1;  // 20 errors, from users who had had their share
    w.stable.capped_errors = 9;
    return w;
  };
  SequentialJudge capped({relative_errors()}, {.capped_errors = true});
  capped.start_step(1000, stable_latency(20));
  SequentialJudge every({relative_errors()}, {.check_split = false});
  every.start_step(1000, stable_latency(20));
  Judgement j;
  for (int i = 0; i < 200; ++i) {
    j = capped.observe(heavy_users(), false);
    ASSERT_EQ(j.decision, Decision::kContinue) << i << ": " << j.reason;
  }
  EXPECT_EQ(j.checks.front().canary_events, 200u);
  for (int i = 0; i < 20 && j.decision != Decision::kRollback; ++i) {
    j = every.observe(heavy_users(), false);
  }
  EXPECT_EQ(j.decision, Decision::kRollback) << j.reason;
  Check both = relative_errors();
  both.max = 0.01;
  SequentialJudge absolute({both}, {.capped_errors = true});
  absolute.start_step(1000, stable_latency(20));
  j = absolute.observe(heavy_users(), false);  // 20% errors, all counted: over max at once
  EXPECT_EQ(j.decision, Decision::kRollback);
  EXPECT_NE(j.reason.find("the error rate is"), std::string::npos) << j.reason;
}

namespace json = boost::json;

std::optional<double> number_at(const json::object& o, std::string_view key) {
  return o.contains(key) ? std::optional(o.at(key).to_number<double>()) : std::nullopt;
}

std::vector<Check> checks_from(const json::object& c) {
  std::vector<Check> out;
  if (!c.contains("checks")) {
    return out;  // the defaults
  }
  for (const auto& v : c.at("checks").as_array()) {
    const auto& o = v.as_object();
    Check check;
    check.metric = *parse_metric(o.at("metric").as_string());
    check.max = number_at(o, "max");
    check.min = number_at(o, "min");
    check.critical = number_at(o, "critical");
    check.max_ratio_to_stable = number_at(o, "max_ratio_to_stable");
    out.push_back(check);
  }
  return out;
}

// [requests, errors, slow]: the slow ones at 100 ms, the rest at 1 ms.
VersionWindow counts_from(const json::value& v) {
  const auto& a = v.as_array();
  const auto requests = a.at(0).to_number<uint64_t>();
  const auto slow = a.at(2).to_number<uint64_t>();
  VersionWindow w;
  w.requests = requests;
  w.errors = a.at(1).to_number<uint64_t>();
  w.latency.record(1 * kMs, requests - slow);
  w.latency.record(100 * kMs, slow);
  return w;
}

struct Outcome {
  Judgement judgement;
  int tick = -1;  // the tick it came at
};

Outcome run_case(const json::object& c) {
  SequentialOptions options;
  options.require_evidence = c.contains("require_evidence") && c.at("require_evidence").as_bool();
  SequentialJudge judge(checks_from(c), options);
  metrics::LatencyHistogram recent;
  if (c.contains("stable_latency_ms")) {
    for (const auto& [ms, n] : c.at("stable_latency_ms").as_object()) {
      recent.record(std::stoull(std::string(ms)) * kMs, n.to_number<uint64_t>());
    }
  }
  judge.start_step(static_cast<uint32_t>(c.at("weight").to_number<double>() * 100), recent);
  Outcome out;
  for (const auto& group : c.at("ticks").as_array()) {
    const auto& g = group.as_object();
    const bool dwell_over = g.contains("dwell_over") && g.at("dwell_over").as_bool();
    for (int i = 0; i < g.at("repeat").to_number<int>(); ++i) {
      out.judgement =
          judge.observe(tick(counts_from(g.at("canary")), counts_from(g.at("stable"))), dwell_over);
      ++out.tick;
      if (out.judgement.decision != Decision::kContinue) {
        return out;
      }
    }
  }
  return out;
}

TEST(SequentialJudge, CaseFile) {
  std::ifstream in(std::string(RAMPART_SOURCE_DIR) + "/tests/unit/rollout/sequential_cases.json");
  ASSERT_TRUE(in) << "missing sequential_cases.json";
  std::stringstream text;
  text << in.rdbuf();
  const auto cases = json::parse(text.str()).at("cases").as_array();
  ASSERT_GE(cases.size(), 20u);
  for (const auto& value : cases) {
    const auto& c = value.as_object();
    SCOPED_TRACE(std::string(c.at("name").as_string()));
    const Outcome o = run_case(c);
    const auto& expect = c.at("expect").as_object();
    EXPECT_EQ(to_string(o.judgement.decision), expect.at("decision").as_string())
        << o.judgement.reason;
    if (expect.contains("by_tick")) {
      EXPECT_LE(o.tick, expect.at("by_tick").to_number<int>()) << o.judgement.reason;
    }
    if (expect.contains("after_tick")) {
      EXPECT_GE(o.tick, expect.at("after_tick").to_number<int>()) << o.judgement.reason;
    }
    if (expect.contains("verdicts")) {
      const auto& verdicts = expect.at("verdicts").as_array();
      ASSERT_EQ(o.judgement.checks.size(), verdicts.size());
      for (std::size_t i = 0; i < verdicts.size(); ++i) {
        EXPECT_EQ(to_string(o.judgement.checks[i].verdict), verdicts[i].as_string())
            << o.judgement.checks[i].reason;
      }
    }
    if (expect.contains("reason")) {  // in the decision's reason or one check's
      std::string reasons = o.judgement.reason;
      for (const auto& r : o.judgement.checks) {
        reasons += " | " + r.reason;
      }
      EXPECT_NE(reasons.find(std::string(expect.at("reason").as_string())), std::string::npos)
          << reasons;
    }
  }
}

}  // namespace
}  // namespace rampart::rollout
