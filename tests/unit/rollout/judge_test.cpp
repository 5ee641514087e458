// The threshold judge from its case file (judge_cases.json): each case a policy, one window and
// the judge's state -> the decision, the failed-window count, every check's verdict, a reason.

#include "rollout/judge.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace rampart::rollout {
namespace {

namespace json = boost::json;

std::optional<double> number_at(const json::object& o, std::string_view key) {
  if (!o.contains(key)) {
    return std::nullopt;
  }
  return o.at(key).to_number<double>();
}

AnalysisPolicy policy_from(const json::object& o) {
  AnalysisPolicy p;
  p.min_requests = o.at("min_requests").to_number<uint64_t>();
  p.failure_limit = o.at("failure_limit").to_number<uint32_t>();
  p.inconclusive =
      o.at("inconclusive").as_string() == "pause" ? Inconclusive::kPause : Inconclusive::kExtend;
  for (const auto& c : o.at("checks").as_array()) {
    const auto& co = c.as_object();
    auto metric = parse_metric(co.at("metric").as_string());
    EXPECT_TRUE(metric) << co.at("metric");
    p.checks.push_back(Check{.metric = *metric,
                             .max = number_at(co, "max"),
                             .min = number_at(co, "min"),
                             .critical = number_at(co, "critical"),
                             .max_ratio_to_stable = number_at(co, "max_ratio_to_stable")});
  }
  return p;
}

VersionWindow version_from(const json::object& c, std::string_view key) {
  VersionWindow v;
  if (!c.contains(key)) {
    return v;
  }
  const auto& o = c.at(key).as_object();
  v.requests = o.at("requests").to_number<uint64_t>();
  v.errors = o.contains("errors") ? o.at("errors").to_number<uint64_t>() : 0;
  if (o.contains("latency_ms")) {
    for (const auto& [ms, count] : o.at("latency_ms").as_object()) {
      v.latency.record(std::stoull(std::string(ms)) * 1'000'000, count.to_number<uint64_t>());
    }
  }
  return v;
}

TEST(Judge, CaseFile) {
  std::ifstream in(std::string(RAMPART_SOURCE_DIR) + "/tests/unit/rollout/judge_cases.json");
  ASSERT_TRUE(in) << "missing judge_cases.json";
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = json::parse(text.str()).as_object();
  const auto& policies = doc.at("policies").as_object();
  const auto& cases = doc.at("cases").as_array();
  ASSERT_GE(cases.size(), 30u);
  for (const auto& value : cases) {
    const auto& c = value.as_object();
    SCOPED_TRACE(std::string(c.at("name").as_string()));
    const AnalysisPolicy policy = policy_from(policies.at(c.at("policy").as_string()).as_object());
    Window w;
    w.seconds = c.contains("seconds") ? c.at("seconds").to_number<double>() : 30;
    w.canary = version_from(c, "canary");
    w.stable = version_from(c, "stable");
    JudgeState state;
    if (c.contains("failed_windows")) {
      state.failed_windows = c.at("failed_windows").to_number<uint32_t>();
    }
    const bool pause_over = c.contains("pause_over") && c.at("pause_over").as_bool();

    const Judgement j = judge_window(w, policy, state, pause_over);
    const auto& expect = c.at("expect").as_object();
    EXPECT_EQ(to_string(j.decision), expect.at("decision").as_string()) << j.reason;
    const uint32_t failed = expect.contains("failed_windows")
                                ? expect.at("failed_windows").to_number<uint32_t>()
                                : state.failed_windows;
    EXPECT_EQ(j.state.failed_windows, failed);
    const auto& verdicts = expect.at("verdicts").as_array();
    ASSERT_EQ(j.checks.size(), verdicts.size());
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
      EXPECT_EQ(to_string(j.checks[i].verdict), verdicts[i].as_string())
          << "check " << i << ": " << j.checks[i].reason;
      EXPECT_FALSE(j.checks[i].reason.empty());
    }
    if (expect.contains("reason")) {  // in the window's reason or one check's
      std::string reasons = j.reason;
      for (const auto& r : j.checks) {
        reasons += " | " + r.reason;
      }
      const std::string want(expect.at("reason").as_string());
      EXPECT_NE(reasons.find(want), std::string::npos) << reasons;
    }
  }
}

TEST(Judge, EveryCheckCarriesItsEvidence) {
  AnalysisPolicy policy;
  policy.min_requests = 10;
  policy.checks = {Check{.metric = Metric::kP95Ms, .max = 100, .max_ratio_to_stable = 1.2}};
  Window w;
  w.seconds = 5;
  w.canary.requests = 40;
  w.canary.latency.record(150'000'000, 40);
  w.stable.requests = 360;
  w.stable.latency.record(50'000'000, 360);
  const Judgement j = judge_window(w, policy, {}, false);
  ASSERT_EQ(j.checks.size(), 1u);
  const CheckResult& r = j.checks[0];
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_EQ(r.canary_requests, 40u);
  EXPECT_EQ(r.stable_requests, 360u);
  ASSERT_TRUE(r.canary && r.stable);
  EXPECT_NEAR(*r.canary, 150, 1.5);  // the histogram's 1%
  EXPECT_NEAR(*r.stable, 50, 0.5);
  EXPECT_EQ(r.bound, "max 100");
}

TEST(Analysis, MetricNamesRoundTrip) {
  for (Metric m : {Metric::kErrorRate, Metric::kSuccessRate, Metric::kP50Ms, Metric::kP95Ms,
                   Metric::kP99Ms, Metric::kRps}) {
    EXPECT_EQ(parse_metric(to_string(m)), m);
  }
  EXPECT_FALSE(parse_metric("p90_ms"));
}

}  // namespace
}  // namespace rampart::rollout
