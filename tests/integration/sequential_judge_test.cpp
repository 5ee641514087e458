// The sequential judge end to end: a real rampart in front of demo-app versions with injected
// error rates, judged tick by tick from the gateway's own counters. A canary as good as stable
// (both 1% errors) is promoted, not rolled back; one at 3% against stable's 1% is rolled back
// with the evidence in its report; one at 20% is rolled back within 2 s of its first traffic.
// With require_evidence a step moves on only on evidence for the canary, and a step that cannot
// get it is paused for a person once max_step_duration has passed.

#include "rollout_support.hpp"

#include <boost/json/serialize.hpp>

#include <string>

namespace rampart::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Only the relative error check, so that what decides is the e-process on which version each
// error came from. alpha 0.1%: a good canary is rolled back at most once in 1,000 runs.
std::string policy(const std::string& steps) {
  return "[service.rollout]\nsteps = " + steps +
         "\n[service.rollout.analysis]\njudge = \"sequential\"\nalpha = 0.001\ninterval = \"1s\"\n"
         "min_requests = 50\n"
         "[[service.rollout.analysis.check]]\nmetric = \"error_rate\"\nmax_ratio_to_stable = 1.2\n";
}

class SequentialJudgeTest : public ::testing::Test {
 protected:
  void start(const std::string& canary_error_rate, const std::string& steps,
             const std::string& stable_error_rate = "0.01", std::string with_policy = "") {
    const int v1 = cluster.start_app("v1", {"--error-rate", stable_error_rate});
    const int v2 = cluster.start_app("v2", {"--error-rate", canary_error_rate});
    cluster.start_gateway(
        service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}, {"v2", {v2}, 0}}) +
        (with_policy.empty() ? policy(steps) : with_policy));
  }

  // The rollout's first traffic to its end, in ms.
  std::int64_t started_to_end() {
    std::int64_t started = 0, ended = 0;
    for (const auto& e : shop.events()) {
      const std::string name(e.at("event").as_string());
      if (name == "started") {
        started = unix_ms(e.at("at"));
      }
      ended = unix_ms(e.at("at"));
    }
    return ended - started;
  }

  Cluster cluster;
  RolloutClient shop{cluster, "shop"};
};

TEST_F(SequentialJudgeTest, ACanaryAsGoodAsStableIsPromotedNotRolledBack) {
  start("0.01",
        R"([ { weight = 10, pause = "3s" }, { weight = 50, pause = "3s" }, { weight = 100 } ])");
  Traffic traffic(cluster, 4);
  shop.deploy("v2");
  EXPECT_EQ(shop.wait_final(), "promoted") << json::serialize(shop.events());
  EXPECT_EQ(shop.share("v2"), 100);
}

TEST_F(SequentialJudgeTest, ACanaryAtThreeTimesStablesErrorsIsRolledBackWithItsEvidence) {
  start("0.03", R"([ { weight = 20, pause = "5m" }, { weight = 100 } ])");
  Traffic traffic(cluster, 4);
  shop.deploy("v2");
  ASSERT_EQ(shop.wait_for({"rolled_back", "promoted"}, 60s), "rolled_back") << cluster.log();
  EXPECT_EQ(shop.share("v1"), 100);
  const auto last = shop.events().back();
  const auto& check = last.at("judgement").at("checks").at(0);
  EXPECT_GE(check.at("e_value").to_number<double>(), check.at("e_threshold").to_number<double>())
      << last;
  EXPECT_EQ(check.at("e_threshold").to_number<double>(), 1000);  // one test at alpha 0.1%
  EXPECT_GT(check.at("canary_events").to_number<double>(), 0);
  EXPECT_NE(std::string(last.at("reason").as_string()).find("e-value"), std::string::npos) << last;
  // The report shows the numbers the decision was made on.
  const Reply report = shop.call("GET", "/api/v1/services/shop/rollouts/1/events");
  EXPECT_NE(report.body.find("\"e_value\""), std::string::npos);
}

TEST_F(SequentialJudgeTest, ACanaryAtTwentyPercentErrorsIsRolledBackWithinTwoSeconds) {
  start("0.2", R"([ { weight = 10, pause = "5m" }, { weight = 100 } ])");
  Traffic traffic(cluster, 4);
  shop.deploy("v2");
  ASSERT_EQ(shop.wait_for({"rolled_back", "promoted"}, 30s), "rolled_back") << cluster.log();
  EXPECT_LE(started_to_end(), 2000) << json::serialize(shop.events());
  traffic.stop();
  EXPECT_EQ(traffic.counts().count(""), 0u) << "a request failed in the gateway";
}

// require_evidence with an absolute bound: no errors at all, so the canary's upper bound on its
// error rate has to fall under 0.05% (about 24,000 canary requests at alpha 0.1%, a few
// seconds of the test's traffic, past the 1 s pause) before the step moves on. A relative
// check on a service without errors has nothing to compare the canary with: it holds until
// max_step_duration, then pauses, saying it was inconclusive.
std::string evidence_policy(const std::string& check, const std::string& max_duration) {
  return "[service.rollout]\nsteps = [ { weight = 50, pause = \"1s\" }, { weight = 100 } ]\n"
         "[service.rollout.analysis]\njudge = \"sequential\"\nalpha = 0.001\ninterval = \"1s\"\n"
         "min_requests = 10\nrequire_evidence = true\nmax_step_duration = \"" +
         max_duration + "\"\n[[service.rollout.analysis.check]]\nmetric = \"error_rate\"\n" +
         check + "\n";
}

TEST_F(SequentialJudgeTest, RequireEvidenceHoldsTheStepUntilTheBoundIsUnderItThenPromotes) {
  start("0", "", "0", evidence_policy("max = 0.0005", "1m"));
  {
    Traffic traffic(cluster, 4);
    shop.deploy("v2");
    ASSERT_EQ(shop.wait_for({"promoted", "rolled_back", "paused"}, 60s), "promoted")
        << json::serialize(shop.events());
  }
  int steps = 0;
  for (const auto& e : shop.events()) {
    const std::string name(e.at("event").as_string());
    if (name == "window") {  // a judgement written while the step held
      EXPECT_NE(std::string(e.at("reason").as_string()).find("held for evidence"),
                std::string::npos)
          << e;
    }
    if (name != "step") {
      continue;
    }
    ++steps;
    const auto& j = e.at("judgement");
    EXPECT_NE(std::string(j.at("reason").as_string()).find("every check has the evidence"),
              std::string::npos)
        << e;
    const auto& check = j.at("checks").at(0);
    EXPECT_LT(check.at("interval").at(1).to_number<double>(), 0.0005) << e;
    EXPECT_GT(check.at("canary_requests").to_number<double>(), 20'000) << e;
  }
  EXPECT_EQ(steps, 1) << json::serialize(shop.events());
}

TEST_F(SequentialJudgeTest, RequireEvidenceWithoutAnyEventPausesPastTheMaxStepDuration) {
  start("0", "", "0", evidence_policy("max_ratio_to_stable = 1.2", "2s"));
  Traffic traffic(cluster, 4);
  shop.deploy("v2");
  ASSERT_EQ(shop.wait_for({"paused", "promoted", "rolled_back"}, 30s), "paused")
      << json::serialize(shop.events());
  const std::string reason(shop.latest().at("reason").as_string());
  EXPECT_NE(reason.find("inconclusive: step 1 of 2 is still undecided"), std::string::npos)
      << reason;
  EXPECT_NE(reason.find("held for evidence (require_evidence): error_rate: no event of either"),
            std::string::npos)
      << reason;
  EXPECT_EQ(shop.share("v2"), 50);  // frozen at its step, not rolled back
}

}  // namespace
}  // namespace rampart::testing
