// The rollout controller with a fake clock and fake gateway counters: it runs the checks of a
// pending rollout, measures windows as deltas of the counters, and a good canary is promoted,
// a bad one rolled back; a new controller (a restart) carries on from the persisted step.

#include "control/rollout_controller.hpp"

#include "control_test_support.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
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

// A fake confirm-promotion seam: answers `held` (nullopt: yes), counting the asks.
struct FakeConfirm {
  std::mutex mutex;
  std::optional<std::string> held = "confirm-promotion http://hooks/ok answered 403";
  std::vector<std::uint32_t> asked;  // the next step of each ask

  std::optional<std::string> ask(std::uint32_t next_step) {
    std::lock_guard lock(mutex);
    asked.push_back(next_step);
    return held;
  }
  std::size_t asks() {
    std::lock_guard lock(mutex);
    return asked.size();
  }
};

TEST_F(RolloutControllerTest, AHeldStepIsWrittenOnceAnIntervalNotEveryTick) {
  FakeConfirm confirm;  // always says no
  auto s = seams();
  s.confirm = [&](const model::Rollout&, std::uint32_t next_step, const std::atomic<bool>&) {
    return confirm.ask(next_step);
  };
  RolloutController c(rollouts_, s);
  tick_until_not(c, rollout::Phase::kPending);
  c.tick();
  for (int i = 0; i < 4; ++i) {
    traffic(c, 200, 0);  // 40 s: the 30 s pause is over, and the hook has been asked
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(current().progress.step, 0u) << current().progress.reason;
  const auto before = current().events;
  for (int i = 0; i < 40; ++i) {  // 12 s of sequential ticks, every one of them held
    counters_.add("v2", 20, 0, 20);
    counters_.add("v1", 180, 0, 20);
    clock_.advance(300);
    c.tick();
  }
  EXPECT_EQ(current().progress.step, 0u);
  EXPECT_NE(current().progress.reason.find("held: confirm-promotion"), std::string::npos)
      << current().progress.reason;
  EXPECT_LE(current().events - before, 2) << "a held step wrote a judgement every tick";
}

TEST_F(RolloutControllerTest, ConfirmPromotionHoldsTheStepUntilItSaysYes) {
  FakeConfirm confirm;
  auto s = seams();
  s.confirm = [&](const model::Rollout&, std::uint32_t next_step, const std::atomic<bool>&) {
    return confirm.ask(next_step);
  };
  RolloutController c(rollouts_, s);
  tick_until_not(c, rollout::Phase::kPending);
  c.tick();  // the first window starts; the pause (30 s) ends with the third window
  traffic(c, 200, 0);
  traffic(c, 200, 0);
  EXPECT_EQ(confirm.asks(), 0u);  // not before the window in which the pause ends
  // A tick inside the third window asks (on a thread of its own).
  clock_.advance(kSecond);
  c.tick();
  for (int i = 0; i < 500 && confirm.asks() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(confirm.asks(), 1u);
  EXPECT_EQ(confirm.asked[0], 1u);                             // the step it would move to
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the answer is in
  counters_.add("v2", 200, 0, 20);
  counters_.add("v1", 1800, 0, 20);
  clock_.advance(9 * kSecond);
  c.tick();  // the window passes with the pause over: held
  EXPECT_EQ(current().progress.step, 0u);
  EXPECT_EQ(current().progress.phase, rollout::Phase::kProgressing);
  EXPECT_NE(current().progress.reason.find("held: confirm-promotion http://hooks/ok answered 403"),
            std::string::npos)
      << current().progress.reason;
  {
    std::lock_guard lock(confirm.mutex);
    confirm.held.reset();
  }
  clock_.advance(6 * kSecond);  // past the 5 s backoff: asked again
  c.tick();
  for (int i = 0; i < 500 && confirm.asks() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(confirm.asks(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the answer is in
  counters_.add("v2", 200, 0, 20);
  counters_.add("v1", 1800, 0, 20);
  clock_.advance(4 * kSecond);
  c.tick();
  EXPECT_EQ(current().progress.step, 1u);  // yes: 100%
  EXPECT_EQ(deployments_.latest("shop")->split[1].basis_points, 10000u);
}

TEST_F(RolloutControllerTest, AHeldStepStillRollsBackAtOnce) {
  std::atomic<int> asks{0};
  auto s = seams();
  s.confirm = [&](const model::Rollout&, std::uint32_t, const std::atomic<bool>& cancelled) {
    ++asks;
    while (!cancelled) {  // a hook that never answers
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return std::optional<std::string>("cancelled");
  };
  RolloutController c(rollouts_, s);
  tick_until_not(c, rollout::Phase::kPending);
  c.tick();
  traffic(c, 200, 0);
  traffic(c, 200, 0);
  clock_.advance(kSecond);
  c.tick();  // asks; the answer never comes
  for (int i = 0; i < 500 && asks == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(asks, 1);
  traffic(c, 500, 100);  // 20% errors
  EXPECT_EQ(current().progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(asks, 1);
}  // the controller's end cancels the ask

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
