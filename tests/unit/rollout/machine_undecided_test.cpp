// The state machine with a step that stays undecided: past max_step_duration after its pause a
// judgement that would keep it going pauses it for a person (on_inconclusive = "pause") or
// rolls it back as inconclusive ("rollback"), never as a regression; a resume gives the step
// the whole duration again; steps that wait to be promoted by hand and a duration of 0 never
// run out. And the sequential judge's sample-ratio guard freezes the rollout with its reason.

#include "rollout/machine.hpp"
#include "rollout/sequential_judge.hpp"

#include <gtest/gtest.h>

namespace rampart::rollout {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kMinute = 60'000;

// 10% for 5 minutes, then 100%; at most 30 minutes undecided past the pause.
Plan plan(Inconclusive on_inconclusive) {
  Plan p;
  p.version = "v2";
  p.stable = "v1";
  p.strategy = *strategy_from_name("canary10-5m");
  p.analysis.max_step_duration = minutes(30);
  p.analysis.on_inconclusive = on_inconclusive;
  p.interval = seconds(30);
  return p;
}

Progress started(const Plan& p) { return on_checks(p, Progress{}, true, "", kT0).next; }

Judgement held_for_evidence() {
  Judgement j;
  j.decision = Decision::kContinue;
  j.reason = "held for evidence (require_evidence): error_rate: not yet";
  return j;
}

Transition judged(const Plan& p, const Progress& progress, Judgement j, int64_t at) {
  auto t = on_judgement(p, progress, std::move(j), {}, at);
  EXPECT_TRUE(t.has_value());
  return t.value_or(Transition{});
}

TEST(MachineUndecided, AStepUndecidedPastItsMaxDurationPausesForAPerson) {
  const Plan p = plan(Inconclusive::kPause);
  const Progress s = started(p);
  // 5 minutes of pause, then 29 undecided: it goes on.
  Transition t = judged(p, s, held_for_evidence(), kT0 + 34 * kMinute);
  EXPECT_EQ(t.event, "window");
  EXPECT_EQ(t.next.phase, Phase::kProgressing);
  // 30 undecided: paused, and it says why.
  t = judged(p, t.next, held_for_evidence(), kT0 + 35 * kMinute);
  EXPECT_EQ(t.event, "paused");
  EXPECT_EQ(t.next.phase, Phase::kPaused);
  EXPECT_NE(t.next.reason.find("inconclusive: step 1 of 2 is still undecided 30m after its pause "
                               "(max_step_duration 30m, on_inconclusive = \"pause\")"),
            std::string::npos)
      << t.next.reason;
  EXPECT_NE(t.next.reason.find("held for evidence"), std::string::npos) << t.next.reason;
  ASSERT_TRUE(t.judgement);
  EXPECT_EQ(t.judgement->decision, Decision::kPause);
  EXPECT_FALSE(t.weight_bp);  // the step's weight stays

  // Resumed by hand: the step has 30 minutes again from the resume.
  auto resumed = on_command(p, t.next, Command::kResume, kT0 + 40 * kMinute);
  ASSERT_TRUE(resumed);
  t = judged(p, resumed->next, held_for_evidence(), kT0 + 69 * kMinute);
  EXPECT_EQ(t.next.phase, Phase::kProgressing) << t.next.reason;
  t = judged(p, t.next, held_for_evidence(), kT0 + 70 * kMinute);
  EXPECT_EQ(t.next.phase, Phase::kPaused) << t.next.reason;
}

TEST(MachineUndecided, OnInconclusiveRollbackRollsBackAsInconclusiveNotAsARegression) {
  const Plan p = plan(Inconclusive::kRollback);
  const Transition t = judged(p, started(p), held_for_evidence(), kT0 + 36 * kMinute);
  EXPECT_EQ(t.event, "rolled_back");
  EXPECT_EQ(t.next.phase, Phase::kRolledBack);
  EXPECT_EQ(t.weight_bp, 0u);
  EXPECT_TRUE(t.next.reason.starts_with("inconclusive: step 1 of 2 is still undecided 31m"))
      << t.next.reason;
  EXPECT_NE(t.next.reason.find("rolled back as inconclusive, not for a regression"),
            std::string::npos)
      << t.next.reason;
  EXPECT_EQ(t.next.reason.find("rolled back by the analysis"), std::string::npos);
  ASSERT_TRUE(t.judgement);
  EXPECT_EQ(t.judgement->decision, Decision::kRollback);
  EXPECT_TRUE(t.judgement->reason.starts_with("inconclusive: "));
}

TEST(MachineUndecided, OnlyAJudgementThatKeepsTheStepGoingRunsOut) {
  const Plan p = plan(Inconclusive::kRollback);
  const Progress s = started(p);
  Judgement next;
  next.decision = Decision::kNextStep;
  next.reason = "no check found the canary worse";
  EXPECT_EQ(judged(p, s, next, kT0 + 60 * kMinute).event, "step");
  Judgement bad;
  bad.decision = Decision::kRollback;
  bad.reason = "error_rate: all over 0.01";
  const Transition t = judged(p, s, bad, kT0 + 60 * kMinute);
  EXPECT_EQ(t.next.reason, "rolled back by the analysis: error_rate: all over 0.01");
  // A move held by the confirm-promotion hooks is no undecided step.
  const auto held =
      on_judgement(p, s, next, {.confirmed = false, .held = "answered 503"}, kT0 + 60 * kMinute);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->next.phase, Phase::kProgressing) << held->next.reason;
}

TEST(MachineUndecided, NoLimitWhenOffAndNoneForStepsThatWaitForAPerson) {
  Plan off = plan(Inconclusive::kRollback);
  off.analysis.max_step_duration = minutes(0);
  EXPECT_EQ(judged(off, started(off), held_for_evidence(), kT0 + 600 * kMinute).next.phase,
            Phase::kProgressing);
  Plan manual = plan(Inconclusive::kRollback);
  manual.strategy.steps.front().until_promoted = true;
  EXPECT_FALSE(undecided_for(manual, started(manual), kT0 + 600 * kMinute));
  EXPECT_EQ(judged(manual, started(manual), held_for_evidence(), kT0 + 600 * kMinute).next.phase,
            Phase::kProgressing);
  // The pause does not count, nor time paused by hand.
  const Plan p = plan(Inconclusive::kPause);
  Progress s = started(p);
  EXPECT_FALSE(undecided_for(p, s, kT0 + 4 * kMinute));
  EXPECT_EQ(undecided_for(p, s, kT0 + 7 * kMinute), minutes(2));
  s.paused_total_ms = kMinute;
  EXPECT_EQ(undecided_for(p, s, kT0 + 7 * kMinute), minutes(1));
}

// The sample-ratio guard's pause goes through the machine as a freeze: paused, its weight kept,
// the reason saying the split cannot be trusted.
TEST(MachineUndecided, ASampleRatioMismatchFreezesTheRolloutWithItsReason) {
  const Plan p = plan(Inconclusive::kPause);
  const Progress s = started(p);
  SequentialJudge judge({Check{.metric = Metric::kErrorRate, .max_ratio_to_stable = 1.2}});
  judge.start_step(weight_at(p, 0), metrics::LatencyHistogram{});
  Judgement j;
  for (int i = 0; i < 50 && j.decision != Decision::kPause; ++i) {
    Window w;
    w.seconds = 0.25;
    w.canary.requests = 300;  // 30% of the requests at a configured 10%
    w.stable.requests = 700;
    j = judge.observe(w, false);
  }
  ASSERT_EQ(j.decision, Decision::kPause) << j.reason;
  const Transition t = judged(p, s, j, kT0 + kMinute);
  EXPECT_EQ(t.event, "paused");
  EXPECT_EQ(t.next.phase, Phase::kPaused);
  EXPECT_FALSE(t.weight_bp);
  EXPECT_TRUE(
      t.next.reason.starts_with("paused by the analysis: sample ratio mismatch: the "
                                "canary got 30% of this step's"))
      << t.next.reason;
  EXPECT_NE(t.next.reason.find("the data cannot be trusted"), std::string::npos);
  // Frozen: a judgement of a paused rollout decides nothing until a person resumes it.
  EXPECT_FALSE(on_judgement(p, t.next, j, {}, kT0 + 2 * kMinute));
}

}  // namespace
}  // namespace rampart::rollout
