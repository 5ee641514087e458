// The rollout state machine: every transition, driven with explicit times and windows.

#include "rollout/machine.hpp"

#include <gtest/gtest.h>

namespace rampart::rollout {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kT0 = 1'700'000'000'000;  // a start time, unix ms
constexpr int64_t kSecond = 1000;

Plan canary_plan() {
  Plan p;
  p.version = "v2";
  p.stable = "v1";
  p.strategy = *strategy_from_name("canary");  // 10% 5m, 50% 5m, 100%
  p.analysis.min_requests = 100;
  p.analysis.failure_limit = 2;
  p.analysis.checks = {Check{.metric = Metric::kErrorRate, .max = 0.01, .critical = 0.05}};
  p.interval = seconds(30);
  return p;
}

Window window(uint64_t requests, uint64_t errors) {
  Window w;
  w.seconds = 30;
  w.canary.requests = requests;
  w.canary.errors = errors;
  w.stable.requests = requests * 9;
  return w;
}
const Window kGood = window(1000, 0);
const Window kFailing = window(1000, 20);    // 2%: over max
const Window kCritical = window(1000, 200);  // 20%
const Window kEmpty = window(0, 0);

Progress started(const Plan& plan) {
  Transition t = on_checks(plan, Progress{}, true, "", kT0);
  EXPECT_EQ(t.event, "started");
  EXPECT_EQ(t.weight_bp, 1000u);
  return t.next;
}

TEST(Machine, AGoodCanaryIsPromotedThroughEveryStep) {
  const Plan plan = canary_plan();
  Progress p = started(plan);
  EXPECT_EQ(p.phase, Phase::kProgressing);
  EXPECT_EQ(window_due_ms(plan, p), kT0 + 30 * kSecond);

  // Windows pass while the 5-minute pause runs: nothing moves.
  int64_t now = kT0;
  for (int i = 0; i < 9; ++i) {
    now += 30 * kSecond;
    auto t = on_window(plan, p, kGood, now);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->event, "window");
    EXPECT_FALSE(t->weight_bp);
    p = t->next;
  }
  EXPECT_EQ(pause_left(plan, p, now), milliseconds(30 * kSecond));
  now += 30 * kSecond;  // 5 minutes
  auto t = on_window(plan, p, kGood, now);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->event, "step");
  EXPECT_EQ(t->weight_bp, 5000u);
  EXPECT_EQ(t->next.step, 1u);
  EXPECT_EQ(t->next.step_started_ms, now);
  EXPECT_NE(t->next.reason.find("step 2 of 3, 50% to v2"), std::string::npos) << t->next.reason;
  p = t->next;

  now += 5 * 60 * kSecond;
  t = on_window(plan, p, kGood, now);
  EXPECT_EQ(t->weight_bp, 10000u);
  EXPECT_EQ(t->next.step, 2u);
  p = t->next;
  now += 30 * kSecond;  // the last step has no pause: its first passing window promotes
  t = on_window(plan, p, kGood, now);
  EXPECT_EQ(t->event, "promoted");
  EXPECT_EQ(t->next.phase, Phase::kPromoted);
  EXPECT_FALSE(t->weight_bp);  // already at 100%
}

TEST(Machine, ACriticalWindowRollsBackAtOnceWithTheJudgesReason) {
  const Plan plan = canary_plan();
  auto t = on_window(plan, started(plan), kCritical, kT0 + 30 * kSecond);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->event, "rolled_back");
  EXPECT_EQ(t->weight_bp, 0u);
  EXPECT_EQ(t->next.phase, Phase::kRolledBack);
  EXPECT_NE(t->next.reason.find("error_rate 0.2 is over critical 0.05"), std::string::npos)
      << t->next.reason;
  ASSERT_TRUE(t->judgement);
  EXPECT_EQ(t->judgement->decision, Decision::kRollback);
}

TEST(Machine, TheFailureLimitCountsFailedWindowsOfAStep) {
  const Plan plan = canary_plan();
  auto t = on_window(plan, started(plan), kFailing, kT0 + 30 * kSecond);
  EXPECT_EQ(t->event, "window");
  EXPECT_EQ(t->next.judge.failed_windows, 1u);
  t = on_window(plan, t->next, kGood, kT0 + 60 * kSecond);
  EXPECT_EQ(t->next.judge.failed_windows, 1u);
  t = on_window(plan, t->next, kFailing, kT0 + 90 * kSecond);
  EXPECT_EQ(t->event, "rolled_back");
}

TEST(Machine, ANewStepStartsWithAFreshFailureCount) {
  Plan plan = canary_plan();
  plan.strategy = *strategy_from_name("canary10-30s");
  auto t = on_window(plan, started(plan), kFailing, kT0 + 30 * kSecond);
  t = on_window(plan, t->next, kGood, kT0 + 60 * kSecond);
  EXPECT_EQ(t->event, "step");
  EXPECT_EQ(t->next.judge.failed_windows, 0u);
}

TEST(Machine, InconclusiveExtendsOrPauses) {
  Plan plan = canary_plan();
  plan.strategy = *strategy_from_name("canary10-30s");
  auto t = on_window(plan, started(plan), kEmpty, kT0 + 30 * kSecond);
  EXPECT_EQ(t->event, "window");  // extended: the pause is over but the step does not move
  EXPECT_EQ(t->next.step, 0u);
  plan.analysis.inconclusive = Inconclusive::kPause;
  t = on_window(plan, started(plan), kEmpty, kT0 + 30 * kSecond);
  EXPECT_EQ(t->event, "paused");
  EXPECT_EQ(t->next.phase, Phase::kPaused);
  EXPECT_NE(t->next.reason.find("paused by the analysis"), std::string::npos);
}

TEST(Machine, PausedTimeDoesNotCountAsPauseAndIsNotJudged) {
  const Plan plan = canary_plan();
  Progress p = started(plan);
  auto paused = on_command(plan, p, Command::kPause, kT0 + 60 * kSecond);
  ASSERT_TRUE(paused);
  EXPECT_FALSE(on_window(plan, paused->next, kCritical, kT0 + 90 * kSecond));  // decides nothing
  EXPECT_EQ(pause_left(plan, paused->next, kT0 + 600 * kSecond), milliseconds(240 * kSecond));
  auto resumed = on_command(plan, paused->next, Command::kResume, kT0 + 600 * kSecond);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->next.paused_total_ms, 540 * kSecond);
  EXPECT_EQ(resumed->next.window_started_ms, kT0 + 600 * kSecond);
  EXPECT_EQ(pause_left(plan, resumed->next, kT0 + 600 * kSecond), milliseconds(240 * kSecond));
}

TEST(Machine, PromoteMovesOneStepAndPromoteFullGoesTo100) {
  const Plan plan = canary_plan();
  Progress p = started(plan);
  auto t = on_command(plan, p, Command::kPromote, kT0 + kSecond);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->weight_bp, 5000u);
  EXPECT_EQ(t->next.step, 1u);
  auto full = on_command(plan, p, Command::kPromoteFull, kT0 + kSecond);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->weight_bp, 10000u);
  EXPECT_EQ(full->next.phase, Phase::kPromoted);
  EXPECT_EQ(full->event, "promoted");
}

TEST(Machine, AStepUntilPromotedWaitsForPromote) {
  Plan plan = canary_plan();
  plan.strategy.steps = {Step{1000, milliseconds(0), true}, Step{10000}};
  Progress p = started(plan);
  EXPECT_FALSE(pause_left(plan, p, kT0));
  auto t = on_window(plan, p, kGood, kT0 + 3600 * kSecond);
  EXPECT_EQ(t->event, "window");
  auto promoted = on_command(plan, t->next, Command::kPromote, kT0 + 3601 * kSecond);
  ASSERT_TRUE(promoted);
  EXPECT_EQ(promoted->weight_bp, 10000u);
}

TEST(Machine, AbortAlwaysEndsRolledBack) {
  const Plan plan = canary_plan();
  Progress p = started(plan);
  for (const Progress& from : {Progress{}, p, on_command(plan, p, Command::kPause, kT0)->next}) {
    auto t = on_command(plan, from, Command::kAbort, kT0 + kSecond);
    ASSERT_TRUE(t) << to_string(from.phase);
    EXPECT_EQ(t->next.phase, Phase::kRolledBack);
    EXPECT_EQ(t->weight_bp, 0u);
    EXPECT_EQ(t->next.reason, "aborted by hand");
  }
  auto done = on_command(plan, p, Command::kPromoteFull, kT0)->next;
  auto again = on_command(plan, done, Command::kAbort, kT0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kConflict);
  EXPECT_EQ(again.error().message, "the rollout is already promoted");
}

TEST(Machine, RetryStartsAgainFromPendingOnlyAfterARollback) {
  const Plan plan = canary_plan();
  Progress p = started(plan);
  EXPECT_FALSE(on_command(plan, p, Command::kRetry, kT0));
  auto back = on_command(plan, p, Command::kAbort, kT0)->next;
  auto t = on_command(plan, back, Command::kRetry, kT0 + kSecond);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->next.phase, Phase::kPending);
  EXPECT_EQ(t->event, "retried");
  EXPECT_FALSE(t->weight_bp);
}

TEST(Machine, CommandsThatDoNotApplySayWhy) {
  const Plan plan = canary_plan();
  Progress p = started(plan);
  auto r = on_command(plan, p, Command::kResume, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "the rollout is progressing; only a paused rollout can be resumed");
  auto paused = on_command(plan, p, Command::kPause, kT0)->next;
  EXPECT_FALSE(on_command(plan, paused, Command::kPause, kT0));
  EXPECT_FALSE(on_command(plan, Progress{}, Command::kPromote, kT0));
}

TEST(Machine, FailedChecksRollBackBeforeAnyTraffic) {
  auto t = on_checks(canary_plan(), Progress{}, false, "health /health: 3 tries, 503", kT0);
  EXPECT_EQ(t.next.phase, Phase::kRolledBack);
  EXPECT_EQ(t.next.reason, "checks failed: health /health: 3 tries, 503");
}

TEST(Machine, BlueGreenCutsOverAtOnceAndIsPromotedByItsFirstPassingWindow) {
  Plan plan = canary_plan();
  plan.strategy = *strategy_from_name("blue-green");
  auto t = on_checks(plan, Progress{}, true, "", kT0);
  EXPECT_EQ(t.weight_bp, 10000u);
  auto w = on_window(plan, t.next, kGood, kT0 + 30 * kSecond);
  EXPECT_EQ(w->event, "promoted");
  auto bad = on_window(plan, t.next, kCritical, kT0 + 30 * kSecond);
  EXPECT_EQ(bad->weight_bp, 0u);  // back to the old version, still deployed
}

TEST(Machine, UndoGoesBackToStableAlsoAfterPromotion) {
  const Plan plan = canary_plan();
  auto done = on_command(plan, started(plan), Command::kPromoteFull, kT0)->next;
  auto t = on_command(plan, done, Command::kUndo, kT0 + kSecond);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->next.phase, Phase::kRolledBack);
  EXPECT_EQ(t->weight_bp, 0u);
  EXPECT_EQ(t->next.reason, "undone by hand: back to the stable version, without analysis");
  EXPECT_FALSE(on_command(plan, t->next, Command::kUndo, kT0 + kSecond));  // nothing left to undo
  EXPECT_TRUE(on_command(plan, started(plan), Command::kUndo, kT0));       // under way: as abort
}

Plan verifying_plan() {
  Plan plan = canary_plan();
  plan.verify_after = true;
  plan.rollback_window = minutes(15);
  return plan;
}

TEST(Machine, PastTheLastStepItVerifiesAt100BeforeItIsPromoted) {
  const Plan plan = verifying_plan();
  Progress p = started(plan);
  p = on_command(plan, p, Command::kPromote, kT0)->next;           // 50%
  auto t = on_command(plan, p, Command::kPromote, kT0 + kSecond);  // 100%: the last step
  ASSERT_TRUE(t);
  p = t->next;
  const int64_t last_step = kT0 + 2 * kSecond;
  auto w = on_window(plan, p, kGood, last_step);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->event, "verifying");
  EXPECT_EQ(w->next.phase, Phase::kVerifying);
  EXPECT_FALSE(w->weight_bp);  // at 100% already
  EXPECT_NE(w->next.reason.find("v2 at 100%, verifying"), std::string::npos) << w->next.reason;
  p = w->next;

  EXPECT_FALSE(on_window(plan, p, kCritical, last_step + kSecond));  // no analysis meanwhile
  EXPECT_FALSE(on_command(plan, p, Command::kPromote, last_step));
  EXPECT_FALSE(on_command(plan, p, Command::kPause, last_step));

  auto ok = on_verified(plan, p, true, "2 verify endpoints passed", last_step + kSecond);
  EXPECT_EQ(ok.event, "promoted");
  EXPECT_EQ(ok.next.phase, Phase::kPromoted);
  EXPECT_EQ(ok.next.ready_until_ms, last_step + kSecond + 15 * 60 * kSecond);
  EXPECT_EQ(ok.next.reason,
            "verified at 100%: 2 verify endpoints passed; v1 kept ready for an instant rollback "
            "for 15m");

  auto bad = on_verified(plan, p, false, "verify /api/stats: 500 in 3 ms, expected 200",
                         last_step + kSecond);
  EXPECT_EQ(bad.next.phase, Phase::kRolledBack);
  EXPECT_EQ(bad.weight_bp, 0u);
  EXPECT_EQ(bad.next.reason,
            "verify after promotion failed: verify /api/stats: 500 in 3 ms, expected 200");
}

TEST(Machine, PromoteFullAlsoVerifiesAndGoesTo100First) {
  const Plan plan = verifying_plan();
  auto t = on_command(plan, started(plan), Command::kPromoteFull, kT0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->event, "verifying");
  EXPECT_EQ(t->weight_bp, 10000u);
  EXPECT_EQ(t->next.step, 2u);
  // Abort and undo still end a verifying rollout rolled back.
  EXPECT_EQ(on_command(plan, t->next, Command::kAbort, kT0)->next.phase, Phase::kRolledBack);
  EXPECT_EQ(on_command(plan, t->next, Command::kUndo, kT0)->weight_bp, 0u);
}

TEST(Machine, UndoSaysWhetherTheStableVersionWasStillKeptReady) {
  const Plan plan = verifying_plan();
  auto v = on_command(plan, started(plan), Command::kPromoteFull, kT0)->next;
  const Progress done = on_verified(plan, v, true, "ok", kT0).next;
  EXPECT_TRUE(in_rollback_window(done, kT0 + 15 * 60 * kSecond - 1));
  EXPECT_FALSE(in_rollback_window(done, kT0 + 15 * 60 * kSecond));
  EXPECT_FALSE(in_rollback_window(v, kT0));  // not promoted yet

  auto inside = on_command(plan, done, Command::kUndo, kT0 + kSecond);
  EXPECT_NE(inside->next.reason.find("inside the rollback window (v1 was kept ready)"),
            std::string::npos)
      << inside->next.reason;
  auto after = on_command(plan, done, Command::kUndo, kT0 + 16 * 60 * kSecond);
  EXPECT_NE(after->next.reason.find("after the rollback window"), std::string::npos)
      << after->next.reason;
}

TEST(Machine, PhaseNamesRoundTrip) {
  for (Phase p : {Phase::kPending, Phase::kProgressing, Phase::kPaused, Phase::kVerifying,
                  Phase::kPromoted, Phase::kRolledBack}) {
    EXPECT_EQ(parse_phase(to_string(p)), p);
  }
}

}  // namespace
}  // namespace rampart::rollout
