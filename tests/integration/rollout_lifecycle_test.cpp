// A rollout's whole life against a real rampart and demo-app versions: the verification at 100%
// before promotion (and its failure rolling back), blue-green's single cut-over and its instant
// rollback inside the rollback window, the manual commands, deploy windows and --force, and
// kill -9 right after a rollback decision and while verifying.

#include "rollout_support.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace rampart::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string reason_of(const json::value& v) { return std::string(v.at("reason").as_string()); }

class RolloutLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1_ = cluster.start_app("v1");
    v2_ = cluster.start_app("v2");
    v3_ = cluster.start_app("v3", {"--error-rate", "0.5"});
  }

  // shop on "/" with v1 serving all, v2 (good) and v3 (errors) at 0%, and `policy` (TOML
  // tables under [service.rollout...]).
  void start(const std::string& policy) {
    cluster.start_gateway(service_config("shop", "\"/\"", "none",
                                         {{"v1", {v1_}, 100}, {"v2", {v2_}, 0}, {"v3", {v3_}, 0}}) +
                          policy);
  }

  Cluster cluster;
  RolloutClient shop{cluster, "shop"};
  int v1_ = 0, v2_ = 0, v3_ = 0;
};

// Fast windows: whatever passes, passes within a second or two.
constexpr std::string_view kFastAnalysis = R"(
[service.rollout.analysis]
interval = "500ms"
min_requests = 5
)";

TEST_F(RolloutLifecycleTest, AVersionThatGoesBadAfterPromotionFailsItsVerifyAndIsRolledBack) {
  // /countdown/1 answers 200 once (the check before traffic), then 503: at 100% the
  // verification's two tries fail.
  start(R"([service.rollout]
strategy = "all-at-once"
[service.rollout.checks]
health = { path = "/health", tries = 1, backoff = "100ms" }
verify = [ { path = "/countdown/1", status = 200 } ]
verify_tries = 2
)" + std::string(kFastAnalysis));
  Traffic traffic(cluster);
  shop.deploy("v2");
  EXPECT_EQ(shop.wait_final(), "rolled_back") << cluster.log();
  EXPECT_EQ(shop.share("v1"), 100);
  const auto names = shop.event_names();
  EXPECT_EQ(names, (std::vector<std::string>{"created", "started", "verifying", "rolled_back"}))
      << json::serialize(shop.events());
  const std::string reason = reason_of(shop.latest());
  EXPECT_TRUE(contains(reason, "verify after promotion failed: verify /countdown/1: 503"))
      << reason;
  EXPECT_TRUE(contains(reason, "after 2 tries")) << reason;
  const std::string metrics = cluster.admin().get("/metrics").body;
  for (const char* decision : {"created", "started", "verifying", "rolled_back"}) {
    EXPECT_TRUE(
        contains(metrics, std::string(R"(rampart_rollout_decisions_total{service="shop",)") +
                              "decision=\"" + decision + "\"} 1"))
        << decision << "\n"
        << metrics;
  }
  traffic.stop();
  EXPECT_EQ(traffic.counts()["v1"].second, 0);
  EXPECT_EQ(traffic.counts().count(""), 0u);
}

TEST_F(RolloutLifecycleTest, BlueGreenCutsOverOnceAfterItsChecksAndUndoesInstantlyInsideTheWindow) {
  // The health check takes 1.5 s: long enough to look at the new version before its cut-over.
  start(R"([service.rollout]
strategy = "blue-green"
rollback_window = "15m"
[service.rollout.checks]
health = { path = "/sleep/1500", tries = 1 }
verify = [ { path = "/status/200", status = 200, max_ms = 1000 } ]
verify_tries = 3
)" + std::string(kFastAnalysis));
  Traffic traffic(cluster);
  shop.deploy("v2");
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(shop.phase(), "pending");
  EXPECT_EQ(shop.share("v2"), 0);  // no traffic yet, but reachable with the override header
  EXPECT_EQ(cluster.client().get("/", {{"X-Rampart-Version", "v2"}}).header("X-Rampart-Version"),
            "v2");

  ASSERT_EQ(shop.wait_final(), "promoted") << cluster.log();
  EXPECT_EQ(shop.share("v2"), 100);
  const auto rollout = shop.latest();
  EXPECT_TRUE(rollout.at("stable_ready_until").is_string()) << rollout;
  EXPECT_TRUE(contains(reason_of(rollout), "v1 kept ready for an instant rollback for 15m"))
      << rollout;
  // One atomic cut-over: the apply's deployment, then one at 100%.
  auto deployments = shop.deployments();
  ASSERT_EQ(deployments.size(), 2u) << json::serialize(deployments);
  EXPECT_EQ(deployments[0].at("split").at("v2"), 100);

  const auto undone = shop.command("undo");
  EXPECT_EQ(undone.at("phase"), "rolled_back");
  EXPECT_TRUE(contains(reason_of(undone), "inside the rollback window (v1 was kept ready)"))
      << undone;
  EXPECT_EQ(shop.share("v1"), 100);
  EXPECT_EQ(shop.deployments().size(), 3u);
  traffic.stop();
  const auto counts = traffic.counts();
  EXPECT_EQ(counts.count(""), 0u) << "a failed request during the cut-over or the rollback";
  EXPECT_EQ(counts.at("v1").second, 0);
}

TEST_F(RolloutLifecycleTest, PauseResumePromoteAndPromoteFullByHand) {
  start(R"([service.rollout]
steps = [ { weight = 10, pause = "1h" }, { weight = 50, pause = "1h" }, { weight = 100 } ]
)" + std::string(kFastAnalysis));
  shop.deploy("v2");
  ASSERT_EQ(shop.wait_for({"progressing"}), "progressing") << cluster.log();
  EXPECT_EQ(shop.share("v2"), 10);
  EXPECT_EQ(shop.command("pause").at("phase"), "paused");
  std::this_thread::sleep_for(700ms);  // a window would have ended: a paused rollout stays
  EXPECT_EQ(shop.phase(), "paused");
  EXPECT_EQ(shop.command("resume").at("phase"), "progressing");
  EXPECT_EQ(shop.command("promote").at("step"), 2);
  EXPECT_EQ(shop.share("v2"), 50);
  EXPECT_EQ(shop.command("promote-full").at("phase"), "promoted");  // no verify endpoints
  EXPECT_EQ(shop.share("v2"), 100);
  EXPECT_EQ(shop.event_names(), (std::vector<std::string>{"created", "started", "paused", "resumed",
                                                          "step", "promoted"}));
}

TEST_F(RolloutLifecycleTest, ADeployOnADeniedDayIsRefusedUnlessForcedAndTheForceIsAudited) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  start("[service.rollout]\ndeploy_windows = { deny = [\"" + std::string(kDays[utc.tm_wday]) +
        "\"] }\n");
  Reply refused = shop.call("POST", "/api/v1/services/shop/rollouts", R"({"version": "v2"})");
  EXPECT_EQ(refused.status, 409u) << refused.body;
  EXPECT_TRUE(contains(refused.body, "deploys are refused on")) << refused.body;
  EXPECT_TRUE(contains(refused.body, "--force")) << refused.body;
  EXPECT_EQ(shop.latest(), json::value());  // nothing started

  const auto forced = shop.deploy("v2", R"("force": true)");
  EXPECT_EQ(forced.at("id"), 1);
  const Reply audit = shop.call("GET", "/api/v1/audit");
  EXPECT_TRUE(contains(audit.body, "\"rollout.start.forced\"")) << audit.body;
  EXPECT_TRUE(contains(json::serialize(shop.events().front()), "forced")) << audit.body;
}

TEST_F(RolloutLifecycleTest, ARollbackDecidedBeforeAKillIsServedAfterIt) {
  start(R"([service.rollout]
steps = [ { weight = 20, pause = "1h" }, { weight = 100 } ]
[[service.rollout.analysis.check]]
metric = "error_rate"
max = 0.01
critical = 0.05
)" + std::string(kFastAnalysis));
  {
    Traffic traffic(cluster);
    shop.deploy("v3");
    ASSERT_EQ(shop.wait_for({"rolled_back"}, 10s), "rolled_back") << cluster.log();
    cluster.stop_gateway(SIGKILL);  // at once: nothing after the decision's commit may matter
  }
  cluster.restart_gateway();
  EXPECT_EQ(shop.share("v1"), 100);
  EXPECT_EQ(shop.phase(), "rolled_back");
  Traffic traffic(cluster);
  std::this_thread::sleep_for(1s);
  traffic.stop();
  EXPECT_EQ(traffic.counts().count("v3"), 0u) << "the rolled-back version served after restart";
  const auto names = shop.event_names();
  EXPECT_EQ(names.back(), "rolled_back");
  EXPECT_EQ(std::count(names.begin(), names.end(), "rolled_back"), 1);
}

TEST_F(RolloutLifecycleTest, AServerKilledWhileVerifyingVerifiesAgainAndPromotesOnce) {
  // Each verify request takes 1 s: the kill lands while the rollout verifies.
  start(R"([service.rollout]
strategy = "all-at-once"
[service.rollout.checks]
verify = [ { path = "/sleep/1000", status = 200 } ]
verify_tries = 1
)" + std::string(kFastAnalysis));
  {
    Traffic traffic(cluster);
    shop.deploy("v2");
    ASSERT_EQ(shop.wait_for({"verifying"}, 15s), "verifying") << cluster.log();
    cluster.stop_gateway(SIGKILL);
  }
  cluster.restart_gateway();
  EXPECT_EQ(shop.share("v2"), 100);  // the 100% deployment was made before the kill
  EXPECT_EQ(shop.wait_final(), "promoted") << cluster.log();
  const auto names = shop.event_names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "verifying"), 1) << names.size();
  EXPECT_EQ(std::count(names.begin(), names.end(), "promoted"), 1);
}

}  // namespace
}  // namespace rampart::testing
