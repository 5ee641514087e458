// Crash points: a rollout driven tick by tick with a fake clock and fake counters over a
// MemoryStore (the durable part), with the process "killed" — the controller and services
// destroyed and built again on the same store — after every tick in turn. Each transition is
// one store transaction, so every gap between two ticks is a gap between two transitions (or
// inside a check run). Whatever the crash point, the rollout ends as the run without a crash
// does, with the same deployments: no step made twice, nothing promoted twice, a rollback
// decided before the crash served after it.

#include "control/rollout_controller.hpp"

#include "control_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>

namespace rampart::control {
namespace {

using testing::config_text;
using testing::FakeClock;
using testing::FakeCounters;
using testing::parse;

constexpr std::int64_t kSecond = 1000;
constexpr int kMaxTicks = 100;

// What a run ends with: the rollout's phase, the new version's share in each deployment the
// rollout made, and its events other than the windows (whose count depends on when windows
// restart).
struct Outcome {
  rollout::Phase phase = rollout::Phase::kPending;
  std::vector<uint32_t> weights;
  std::vector<std::string> events;
  int ticks = 0;
};

// One process: the services and the controller over the shared store.
struct Process {
  Process(store::Store& store, FakeClock& clock, FakeCounters& counters)
      : deployments(store, clock.as_clock()), rollouts(store, clock.as_clock()) {
    RolloutController::Seams seams{
        .now_ms = [&clock] { return clock.now(); },
        .counters = [&counters](const std::string& s,
                                const std::string& v) { return counters.get(s, v); },
        .checks =
            [](const model::Rollout& r, const std::atomic<bool>&) {
              return CheckOutcome{true,
                                  r.progress.phase == rollout::Phase::kVerifying
                                      ? "1 verify endpoint passed"
                                      : "health and verify passed",
                                  {}};
            }};
    controller = std::make_unique<RolloutController>(rollouts, std::move(seams));
  }

  DeploymentService deployments;
  RolloutService rollouts;
  std::unique_ptr<RolloutController> controller;
};

// Seeds a store with shop (v1 serving all, v2 at 0%, a verify endpoint, `judge`) and a
// rollout of v2.
void seed(store::Store& store, FakeClock& clock, std::string_view judge = "sequential") {
  std::string text = config_text("v1 = 100\nv2 = 0");
  text.insert(text.find("[[service]]\nname = \"api\""),
              "[service.rollout]\nsteps = [ { weight = 10, pause = \"20s\" }, { weight = 50, "
              "pause = \"20s\" }, { weight = 100 } ]\n"
              "[service.rollout.analysis]\njudge = \"" +
                  std::string(judge) +
                  "\"\ninterval = \"10s\"\nmin_requests = 100\n"
                  "[service.rollout.checks]\nverify = [ { path = \"/health\" } ]\n\n");
  DeploymentService deployments(store, clock.as_clock());
  RolloutService rollouts(store, clock.as_clock());
  ASSERT_TRUE(deployments.apply(parse(text), "alice", "seed"));
  ASSERT_TRUE(rollouts.start(DeployRequest{.service = "shop", .version = "v2", .actor = "alice"}));
}

// The new version's share of shop's traffic now, in basis points.
uint32_t weight_now(DeploymentService& deployments) {
  const auto latest = deployments.latest("shop");  // kept: the loop reads into it
  for (const auto& e : latest->split) {
    if (e.version == "v2") {
      return e.basis_points;
    }
  }
  return 0;
}

// 10 s of traffic, 2,000 requests split by `weight_bp`: v2 with `errors` of every 200 of its
// requests failing, v1's all good.
void traffic(FakeClock& clock, FakeCounters& counters, uint64_t errors, uint32_t weight_bp) {
  const uint64_t canary = 2000ULL * weight_bp / 10000;
  counters.add("v2", canary, canary * errors / 200, 20);
  counters.add("v1", 2000 - canary, 0, 20);
  clock.advance(10 * kSecond);
}

// Drives the rollout to its end: each tick, 10 s of traffic, then a tick, then the end of
// the check run it started, if any. After tick `crash_after` the process is killed and a new one
// started.
Outcome run(bool bad, std::string_view judge, std::optional<int> crash_after) {
  store::MemoryStore store;
  FakeClock clock;
  FakeCounters counters;
  seed(store, clock, judge);
  auto process = std::make_unique<Process>(store, clock, counters);
  Outcome out;
  for (; out.ticks < kMaxTicks; ++out.ticks) {
    if (rollout::is_final(process->rollouts.latest("shop")->progress.phase)) {
      break;
    }
    traffic(clock, counters, bad ? 40 : 0, weight_now(process->deployments));
    process->controller->tick();
    while (process->controller->checks_in_flight() > 0) {  // the next tick sees its outcome
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (crash_after && out.ticks == *crash_after) {
      process.reset();  // kill -9: only the store survives
      process = std::make_unique<Process>(store, clock, counters);
    }
  }
  out.phase = process->rollouts.latest("shop")->progress.phase;
  for (const auto& e : *process->rollouts.events("shop", 1)) {
    if (e.event != "window") {
      out.events.push_back(e.event);
    }
    if (e.weight_bp) {
      out.weights.push_back(*e.weight_bp);
    }
  }
  return out;
}

// A bad canary (or a good one) under a judge.
class RolloutCrashTest : public ::testing::TestWithParam<std::tuple<bool, std::string_view>> {};

TEST_P(RolloutCrashTest, EveryCrashPointEndsAsTheRunWithoutACrash) {
  const auto [bad, judge] = GetParam();
  const Outcome reference = run(bad, judge, std::nullopt);
  ASSERT_LT(reference.ticks, kMaxTicks);
  if (bad) {
    EXPECT_EQ(reference.phase, rollout::Phase::kRolledBack);
    EXPECT_EQ(reference.weights, (std::vector<uint32_t>{1000, 0}));
  } else {
    EXPECT_EQ(reference.phase, rollout::Phase::kPromoted);
    EXPECT_EQ(reference.weights, (std::vector<uint32_t>{1000, 5000, 10000}));
    EXPECT_EQ(reference.events, (std::vector<std::string>{"created", "started", "step", "step",
                                                          "verifying", "promoted"}));
  }
  for (int crash = 0; crash <= reference.ticks; ++crash) {
    const Outcome o = run(bad, judge, crash);
    EXPECT_EQ(o.phase, reference.phase) << "crash after tick " << crash;
    EXPECT_EQ(o.weights, reference.weights) << "crash after tick " << crash;
    EXPECT_EQ(o.events, reference.events) << "crash after tick " << crash;
    // A crash costs at most the window it cut short: a new process's first tick starts one.
    EXPECT_LE(o.ticks, reference.ticks + 1) << "crash after tick " << crash;
  }
}

INSTANTIATE_TEST_SUITE_P(GoodAndBad, RolloutCrashTest,
                         ::testing::Combine(::testing::Values(false, true),
                                            ::testing::Values(std::string_view("sequential"),
                                                              std::string_view("threshold"))),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "Bad" : "Good") + "_" +
                                  std::string(std::get<1>(info.param));
                         });

TEST(RolloutCrash, AFailedWriteOfATransitionWritesNothingAndTheNextTickRetriesIt) {
  testing::HookStore store;
  FakeClock clock;
  FakeCounters counters;
  seed(store, clock);
  Process p(store, clock, counters);
  for (int i = 0; i < 50 && p.rollouts.latest("shop")->progress.phase == rollout::Phase::kPending;
       ++i) {
    p.controller->tick();
    while (p.controller->checks_in_flight() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  p.controller->tick();  // the first window starts
  const auto before = *p.rollouts.latest("shop");
  const auto deployments_before = p.deployments.latest("shop")->id;
  traffic(clock, counters, 100, 1000);  // critical: the window rolls back
  store.fail_writes = true;
  p.controller->tick();  // decides, but cannot write: nothing of the rollback is there
  EXPECT_EQ(*p.rollouts.latest("shop"), before);
  EXPECT_EQ(p.deployments.latest("shop")->id, deployments_before);
  store.fail_writes = false;
  traffic(clock, counters, 100, 1000);
  p.controller->tick();
  const auto after = *p.rollouts.latest("shop");
  EXPECT_EQ(after.progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(p.deployments.latest("shop")->id, deployments_before + 1);
  EXPECT_EQ(p.deployments.latest("shop")->split[0].basis_points, 10000u);
}

}  // namespace
}  // namespace rampart::control
