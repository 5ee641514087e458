// The sequential judge end to end: a real rampart in front of demo-app versions with injected
// error rates, judged tick by tick from the gateway's own counters. A canary as good as stable
// (both 1% errors) is promoted, not rolled back; one at 3% against stable's 1% is rolled back
// with the evidence in its report; one at 20% is rolled back within 2 s of its first traffic.

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
  void start(const std::string& canary_error_rate, const std::string& steps) {
    const int v1 = cluster.start_app("v1", {"--error-rate", "0.01"});
    const int v2 = cluster.start_app("v2", {"--error-rate", canary_error_rate});
    cluster.start_gateway(
        service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}, {"v2", {v2}, 0}}) +
        policy(steps));
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

}  // namespace
}  // namespace rampart::testing
