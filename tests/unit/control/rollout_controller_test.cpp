// The rollout controller with a fake clock and fake gateway counters: it runs the checks of a
// pending rollout, measures windows as deltas of the counters, and a good canary is promoted,
// a bad one rolled back; a new controller (a restart) carries on from the persisted step.

#include "control/rollout_controller.hpp"

#include "control_test_support.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace rampart::control {
namespace {

using testing::config_text;
using testing::FakeClock;
using testing::FakeCounters;
using testing::parse;

constexpr std::int64_t kSecond = 1000;

class RolloutControllerTest : public ::testing::Test {
 protected:
  RolloutControllerTest() {
    std::string text = config_text("v1 = 100\nv2 = 0");
    text.insert(text.find("[[service]]\nname = \"api\""),
                "[service.rollout]\nstrategy = \"canary10-30s\"\n[service.rollout.analysis]\n"
                "interval = \"10s\"\nmin_requests = 100\n\n");
    EXPECT_TRUE(deployments_.apply(parse(text), "alice", "seed"));
    EXPECT_TRUE(rollouts_.start(
        DeployRequest{.service = "shop", .version = "v2", .actor = "alice", .message = ""}));
  }

  RolloutController::Seams seams(bool checks_pass = true) {
    return {
        .now_ms = [this] { return clock_.now(); },
        .counters = [this](const std::string& s,
                           const std::string& v) { return counters_.get(s, v); },
        .checks =
            [checks_pass](const model::Rollout&, const std::atomic<bool>&) {
              return CheckOutcome{checks_pass, checks_pass ? "health passed" : "health 503", {}};
            }};
  }

  model::Rollout current() { return *rollouts_.get("shop", 1); }

  // Ticks until the rollout leaves `phase` (the checks run on a thread of their own).
  void tick_until_not(RolloutController& c, rollout::Phase phase) {
    for (int i = 0; i < 200 && current().progress.phase == phase; ++i) {
      c.tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // 10 s of traffic: `canary` requests with `errors` errors on v2, nine times as many on v1.
  void traffic(RolloutController& c, uint64_t canary, uint64_t errors) {
    counters_.add("v2", canary, errors, 20);
    counters_.add("v1", canary * 9, 0, 20);
    clock_.advance(10 * kSecond);
    c.tick();
  }

  store::MemoryStore store_;
  FakeClock clock_;
  FakeCounters counters_;
  DeploymentService deployments_{store_, clock_.as_clock()};
  RolloutService rollouts_{store_, clock_.as_clock()};
};

TEST_F(RolloutControllerTest, AGoodCanaryIsPromoted) {
  RolloutController c(rollouts_, seams());
  tick_until_not(c, rollout::Phase::kPending);
  ASSERT_EQ(current().progress.phase, rollout::Phase::kProgressing);
  EXPECT_EQ(deployments_.latest("shop")->split[1].basis_points, 1000u);
  c.tick();  // the first window starts
  for (int i = 0; i < 3; ++i) {
    traffic(c, 200, 0);
  }
  EXPECT_EQ(current().progress.step, 1u);  // 30 s of passing windows: 100%
  EXPECT_EQ(deployments_.latest("shop")->split[1].basis_points, 10000u);
  c.tick();  // the new step's window starts
  traffic(c, 2000, 0);
  EXPECT_EQ(current().progress.phase, rollout::Phase::kPromoted);
}

TEST_F(RolloutControllerTest, ABadCanaryIsRolledBackWithinOneWindow) {
  RolloutController c(rollouts_, seams());
  tick_until_not(c, rollout::Phase::kPending);
  c.tick();
  traffic(c, 500, 100);  // 20% errors: over seed 004's critical 1%
  EXPECT_EQ(current().progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(deployments_.latest("shop")->split[0].basis_points, 10000u);
  auto events = rollouts_.events("shop", 1);
  EXPECT_EQ(events->back().judgement.at("checks").at(0).at("canary_requests").as_int64(), 500);
}

TEST_F(RolloutControllerTest, FailingChecksRollBackBeforeAnyTraffic) {
  RolloutController c(rollouts_, seams(/*checks_pass=*/false));
  tick_until_not(c, rollout::Phase::kPending);
  EXPECT_EQ(current().progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(current().progress.reason, "checks failed: health 503");
}

TEST_F(RolloutControllerTest, ARestartedControllerCarriesOnFromThePersistedStep) {
  {
    RolloutController c(rollouts_, seams());
    tick_until_not(c, rollout::Phase::kPending);
    c.tick();
    traffic(c, 200, 0);
  }  // the process dies here; the store keeps the rollout at step 1, 10%
  ASSERT_EQ(current().progress.step, 0u);
  RolloutController restarted(rollouts_, seams());
  restarted.tick();  // a fresh window from now: counters before the restart are not judged
  traffic(restarted, 200, 0);
  traffic(restarted, 200, 0);
  EXPECT_EQ(current().progress.step, 1u);
  // Exactly one deployment per step: the seed, 10%, 100%.
  EXPECT_EQ(deployments_.latest("shop")->id, 3);
}

TEST_F(RolloutControllerTest, APausedRolloutIsNotJudged) {
  RolloutController c(rollouts_, seams());
  tick_until_not(c, rollout::Phase::kPending);
  c.tick();
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kPause, "bob"));
  traffic(c, 500, 500);
  EXPECT_EQ(current().progress.phase, rollout::Phase::kPaused);
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kResume, "bob"));
  c.tick();  // resumed: its window starts now; the errors while paused are not judged
  traffic(c, 200, 0);
  EXPECT_EQ(current().progress.phase, rollout::Phase::kProgressing);
}

TEST_F(RolloutControllerTest,
       ChecksThatHangAreCancelledWhenTheRolloutIsAbortedOrTheControllerStops) {
  std::atomic<int> cancelled_runs{0};
  auto s = seams();
  s.checks = [&](const model::Rollout&, const std::atomic<bool>& cancelled) {
    while (!cancelled) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ++cancelled_runs;
    return CheckOutcome{false, "cancelled", {}};
  };
  const auto t0 = std::chrono::steady_clock::now();
  {
    RolloutController c(rollouts_, s);
    c.tick();  // the checks start and hang
    ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kAbort, "bob"));
    c.tick();  // no longer active: its checks are cancelled, and the tick does not wait
    for (int i = 0; i < 500 && cancelled_runs == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(cancelled_runs, 1);
    ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kRetry, "bob"));
    c.tick();  // checks again, hanging; the controller's end cancels them
  }
  EXPECT_EQ(cancelled_runs, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(current().progress.phase, rollout::Phase::kPending);  // nothing was recorded
}

TEST(RolloutWindow, TheDeltaOfTwoSnapshots) {
  metrics::VersionSnapshot a;
  a.responses_by_class = {0, 90, 0, 5, 5};
  a.latency.record(1'000'000, 100);
  metrics::VersionSnapshot b = a;
  b.responses_by_class[1] += 40;
  b.responses_by_class[4] += 10;
  b.latency.record(50'000'000, 50);
  auto w = window_between(a, b);
  EXPECT_EQ(w.requests, 50u);
  EXPECT_EQ(w.errors, 10u);
  EXPECT_EQ(w.latency.count(), 50u);
}

}  // namespace
}  // namespace rampart::control
