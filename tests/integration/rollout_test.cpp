// Rollouts end to end: a real rampart in front of demo-app versions, traffic flowing, and the
// controller deciding from the gateway's own counters. A good version is promoted through every
// step; one with errors, and one that is slow, are rolled back within an analysis interval and
// a little; no client of the stable version sees a failed request.

#include "rollout_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <thread>

namespace rampart::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view kPolicy = R"([service.rollout]
steps = [ { weight = 10, pause = "1s" }, { weight = 50, pause = "1s" }, { weight = 100 } ]

[service.rollout.analysis]
interval = "1s"
min_requests = 20

[[service.rollout.analysis.check]]
metric = "error_rate"
max = 0.01
critical = 0.05

[[service.rollout.analysis.check]]
metric = "p95_ms"
max = 150
critical = 300
)";

class RolloutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int v1 = cluster.start_app("v1");
    const int v2 = cluster.start_app("v2");
    const int v3 = cluster.start_app("v3", {"--error-rate", "0.2"});
    const int v4 = cluster.start_app("v4", {"--latency-ms", "200"});
    cluster.start_gateway(
        service_config("shop", "\"/\"", "none",
                       {{"v1", {v1}, 100}, {"v2", {v2}, 0}, {"v3", {v3}, 0}, {"v4", {v4}, 0}}, "") +
        std::string(kPolicy));
  }

  Reply call(const std::string& method, const std::string& target) {
    return shop.call(method, target);
  }
  json::value deploy(const std::string& version) { return shop.deploy(version); }
  std::string wait_final() { return shop.wait_final(); }
  json::array events() { return shop.events(); }
  double share(const std::string& version) { return shop.share(version); }

  Cluster cluster;
  RolloutClient shop{cluster, "shop"};
};

TEST_F(RolloutTest, AGoodVersionIsPromotedThroughEveryStep) {
  Traffic traffic(cluster);
  deploy("v2");
  EXPECT_EQ(wait_final(), "promoted") << cluster.log();
  EXPECT_EQ(share("v2"), 100);
  std::vector<std::string> names;
  for (const auto& e : events()) {
    names.emplace_back(e.at("event").as_string());
  }
  EXPECT_EQ(names.front(), "created");
  EXPECT_EQ(names.back(), "promoted");
  EXPECT_EQ(std::count(names.begin(), names.end(), "step"), 2) << json::serialize(events());
  traffic.stop();
  const auto counts = traffic.counts();
  EXPECT_EQ(counts.count(""), 0u) << "failed requests through the gateway";
  EXPECT_GT(counts.at("v2").first, 0);
  EXPECT_EQ(counts.at("v1").second, 0);
}

TEST_F(RolloutTest, AVersionWithErrorsIsRolledBackWithinAnIntervalAndASecond) {
  Traffic traffic(cluster);
  deploy("v3");
  EXPECT_EQ(wait_final(), "rolled_back") << cluster.log();
  EXPECT_EQ(share("v1"), 100);
  const auto timeline = events();
  std::int64_t started = 0, rolled_back = 0;
  for (const auto& e : timeline) {
    const std::string name(e.at("event").as_string());
    if (name == "started") {
      started = unix_ms(e.at("at"));
    } else if (name == "rolled_back") {
      rolled_back = unix_ms(e.at("at"));
      EXPECT_EQ(e.at("judgement").at("checks").at(0).at("metric").as_string(), "error_rate");
    }
  }
  ASSERT_GT(started, 0);
  EXPECT_LE(rolled_back - started, 2000) << json::serialize(timeline);
  traffic.stop();
  const auto counts = traffic.counts();
  EXPECT_EQ(counts.at("v1").second, 0) << "a client of the stable version saw a failure";
  EXPECT_EQ(counts.count(""), 0u);
}

TEST_F(RolloutTest, ASlowVersionIsRolledBack) {
  Traffic traffic(cluster, 8);  // a slow canary holds a connection 200 ms per request
  deploy("v4");
  EXPECT_EQ(wait_final(), "rolled_back") << cluster.log();
  EXPECT_EQ(share("v1"), 100);
  const auto last = events().back();
  EXPECT_NE(std::string(last.at("reason").as_string()).find("p95_ms"), std::string::npos)
      << json::serialize(last);
}

TEST_F(RolloutTest, TooLittleTrafficExtendsTheStep) {
  deploy("v2");  // no traffic at all
  std::this_thread::sleep_for(3s);
  Reply r = call("GET", "/api/v1/services/shop/rollouts/latest");
  const auto rollout = json::parse(r.body);
  EXPECT_EQ(rollout.at("phase").as_string(), "progressing") << r.body;
  EXPECT_NE(std::string(rollout.at("reason").as_string()).find("inconclusive"), std::string::npos)
      << r.body;
  EXPECT_EQ(share("v2"), 10);
  // Observable where a rollout is expected: /metrics and /health?detailed=true.
  const std::string metrics = cluster.admin().get("/metrics").body;
  EXPECT_NE(metrics.find(R"(rampart_rollout_active{service="shop",rollout="1",version="v2",)"
                         R"(phase="progressing"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(rampart_rollout_weight_percent{service="shop",rollout="1",)"
                         R"(version="v2"} 10)"),
            std::string::npos);
  const auto health = json::parse(cluster.admin().get("/health?detailed=true").body);
  const auto& active = health.at("components").at("rollouts").as_array();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].at("phase").as_string(), "progressing");
  EXPECT_EQ(active[0].at("step").as_int64(), 1);
}

TEST_F(RolloutTest, AKilledServerCarriesOnFromThePersistedStep) {
  {
    Traffic traffic(cluster);
    deploy("v2");
    for (int i = 0; i < 100 && share("v2") != 50; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(share("v2"), 50);
    traffic.stop();
  }
  cluster.stop_gateway(SIGKILL);
  cluster.restart_gateway();
  EXPECT_EQ(share("v2"), 50);  // served as persisted
  Traffic traffic(cluster);
  EXPECT_EQ(wait_final(), "promoted") << cluster.log();
  std::vector<std::string> names;
  for (const auto& e : events()) {
    names.emplace_back(e.at("event").as_string());
  }
  EXPECT_EQ(std::count(names.begin(), names.end(), "started"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "step"), 2);
}

}  // namespace
}  // namespace rampart::testing
