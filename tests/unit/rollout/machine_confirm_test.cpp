// The state machine with confirm-promotion: a window that would move the rollout on holds it
// until the hooks say yes; everything else (failures, critical windows, windows during the
// pause) is decided as without hooks.

#include "rollout/machine.hpp"

#include <gtest/gtest.h>

namespace rampart::rollout {
namespace {

using std::chrono::seconds;

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kSecond = 1000;

Plan plan_10_then_100() {
  Plan p;
  p.version = "v2";
  p.stable = "v1";
  p.strategy = *strategy_from_name("canary10-30s");  // 10% for 30 s, then 100%
  p.analysis.min_requests = 100;
  p.analysis.checks = {Check{.metric = Metric::kErrorRate, .max = 0.01, .critical = 0.05}};
  p.interval = seconds(30);
  return p;
}

Window window(uint64_t requests, uint64_t errors, bool confirmed) {
  Window w;
  w.seconds = 30;
  w.canary.requests = requests;
  w.canary.errors = errors;
  w.stable.requests = requests * 9;
  w.promotion_confirmed = confirmed;
  if (!confirmed) {
    w.promotion_held = "confirm-promotion https://hooks.example.com/ok answered 503";
  }
  return w;
}

Progress started(const Plan& plan) { return on_checks(plan, Progress{}, true, "", kT0).next; }

struct Case {
  const char* name;
  uint64_t errors;  // of 1000 canary requests
  bool confirmed;
  int64_t at_s;  // the window's end, seconds after the start (the pause is 30 s)
  const char* event;
  uint32_t step;                   // after the window
  const char* reason;              // a substring of the new reason
  std::optional<Decision> stored;  // the judgement's decision as recorded
};

const Case kCases[] = {
    {"a confirmed passing window after the pause moves on", 0, true, 30, "step", 1,
     "step 2 of 2, 100% to v2", Decision::kNextStep},
    {"an unconfirmed passing window after the pause holds the step and says why", 0, false, 30,
     "window", 0, "held: confirm-promotion https://hooks.example.com/ok answered 503",
     Decision::kContinue},
    {"an unconfirmed window during the pause is an ordinary window", 0, false, 10, "window", 0,
     "the pause", Decision::kContinue},
    {"a critical window rolls back at once, confirmed or not", 200, false, 30, "rolled_back", 0,
     "critical", Decision::kRollback},
    {"a failing window counts as failed, confirmed or not", 20, false, 30, "window", 0,
     "failed window 1", Decision::kContinue},
};

TEST(MachineConfirm, TheCases) {
  const Plan plan = plan_10_then_100();
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    auto t =
        on_window(plan, started(plan), window(1000, c.errors, c.confirmed), kT0 + c.at_s * kSecond);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->event, c.event);
    EXPECT_EQ(t->next.step, c.step);
    EXPECT_NE(t->next.reason.find(c.reason), std::string::npos) << t->next.reason;
    ASSERT_TRUE(t->judgement);
    EXPECT_EQ(t->judgement->decision, *c.stored);
  }
}

TEST(MachineConfirm, AHeldStepMovesOnAtTheFirstConfirmedWindow) {
  const Plan plan = plan_10_then_100();
  Progress p = started(plan);
  int64_t now = kT0;
  for (int i = 0; i < 3; ++i) {
    now += 30 * kSecond;
    auto t = on_window(plan, p, window(1000, 0, false), now);
    ASSERT_EQ(t->event, "window");
    EXPECT_FALSE(t->weight_bp);  // no new deployment while held
    p = t->next;
  }
  now += 30 * kSecond;
  auto t = on_window(plan, p, window(1000, 0, true), now);
  EXPECT_EQ(t->event, "step");
  EXPECT_EQ(t->weight_bp, 10000u);
}

}  // namespace
}  // namespace rampart::rollout
