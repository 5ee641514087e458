#include "control/rollout_controller.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string_view>

namespace rampart::control {

namespace {

// The longest wait before the confirm-promotion hooks are asked again about a held step.
constexpr std::int64_t kMaxConfirmBackoffMs = 60'000;

}  // namespace

rollout::VersionWindow window_between(const metrics::VersionSnapshot& before,
                                      const metrics::VersionSnapshot& now) {
  rollout::VersionWindow w;
  w.requests = now.requests() - before.requests();
  w.errors = now.responses(5) - before.responses(5);
  w.capped_errors = now.capped_errors - before.capped_errors;
  w.latency = now.latency.since(before.latency);
  return w;
}

RolloutController::RolloutController(RolloutService& rollouts, Seams seams)
    : rollouts_(rollouts), seams_(std::move(seams)) {}

RolloutController::~RolloutController() { stop(); }

void RolloutController::tick() {
  // Read before the rollouts, so that a commit in between is seen by the next tick.
  const std::int64_t revision = rollouts_.revision();
  if (revision != active_revision_) {
    auto active = rollouts_.all_active();
    if (!active) {
      log::error("rollouts: cannot read the active rollouts: {}", active.error().message);
      return;
    }
    active_ = std::move(*active);
    active_revision_ = revision;
  }
  auto join_done = [](auto& run) {
    if (!run.first->done) {
      return false;
    }
    run.second.join();
    return true;
  };
  std::erase_if(check_threads_, join_done);
  std::erase_if(confirm_threads_, join_done);
  const std::int64_t now = seams_.now_ms();
  std::set<std::string_view> seen;
  for (const model::Rollout& r : active_) {
    Tracked& t = tracked_[r.service];  // in place: a Tracked holds two snapshots (~40 KB)
    if (t.id != r.id) {
      forget(t);
      t = Tracked{};
      t.id = r.id;
    }
    drive(r, t, now);
    seen.insert(r.service);
  }
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (seen.contains(it->first)) {
      ++it;
      continue;
    }
    forget(it->second);  // it ended or was replaced
    it = tracked_.erase(it);
  }
}

void RolloutController::forget(Tracked& t) {
  if (t.checks) {
    t.checks->cancelled = true;  // nobody waits for its checks any more
  }
  end_confirm(t);
}

void RolloutController::end_confirm(Tracked& t) {
  if (t.confirm.run) {
    t.confirm.run->cancelled = true;  // the answer is for a step the rollout has left
  }
  t.confirm = Confirm{};
}

void RolloutController::drive(const model::Rollout& r, Tracked& t, std::int64_t now) {
  const bool moved = t.phase != r.progress.phase || t.step != r.progress.step;
  t.phase = r.progress.phase;
  t.step = r.progress.step;
  if (moved && t.checks) {
    forget(t);  // checks of an earlier phase (a retried rollout): nobody waits for them
    t.checks.reset();
  }
  switch (r.progress.phase) {
    case rollout::Phase::kPending:
    case rollout::Phase::kVerifying:
      drive_checks(r, t);
      break;
    case rollout::Phase::kProgressing:
      if (moved) {
        t.window_started_ms = 0;  // a new step (or resumed): its window starts now
        end_confirm(t);
      }
      if (r.plan.analysis.judge == rollout::JudgeKind::kSequential) {
        drive_sequential(r, t, now);
      } else {
        drive_window(r, t, now);
      }
      break;
    default:
      t.window_started_ms = 0;
      break;
  }
}

void RolloutController::drive_checks(const model::Rollout& r, Tracked& t) {
  if (!t.checks) {
    t.checks = std::make_shared<CheckRun>();
    check_threads_.emplace_back(t.checks, std::thread([run = t.checks, checks = seams_.checks, r] {
                                  run->outcome = checks(r, run->cancelled);
                                  run->done = true;
                                }));
    return;
  }
  if (!t.checks->done) {
    return;
  }
  CheckOutcome outcome = std::move(t.checks->outcome);
  t.checks.reset();
  auto done = rollouts_.checks_done(r.service, r.id, outcome.passed, outcome.reason);
  if (!done) {
    log::error("rollouts: {} rollout {}: recording its checks failed: {}", r.service, r.id,
               done.error().message);
    return;
  }
  log::info("rollouts: {} rollout {}: {}", r.service, r.id, done->progress.reason);
}

void RolloutController::drive_window(const model::Rollout& r, Tracked& t, std::int64_t now) {
  if (t.window_started_ms == 0) {
    t.window_started_ms = now;
    t.canary = seams_.counters(r.service, r.plan.version);
    t.stable = seams_.counters(r.service, r.plan.stable);
    return;
  }
  drive_confirm(r, t, now);
  if (now - t.window_started_ms < r.plan.interval.count()) {
    return;
  }
  rollout::Window w = take_window(r, t, now);
  w.promotion_confirmed = t.confirm.confirmed || !seams_.confirm;
  w.promotion_held = t.confirm.held;
  auto judged = rollouts_.window(r.service, r.id, w);
  if (!judged) {
    log::error("rollouts: {} rollout {}: recording a window failed: {}", r.service, r.id,
               judged.error().message);
    return;
  }
  // A step, a pause or the end is worth a log line; a window that changes nothing is not.
  if (*judged && ((**judged).progress.phase != rollout::Phase::kProgressing ||
                  (**judged).progress.step != r.progress.step)) {
    log::info("rollouts: {} rollout {}: {}", r.service, r.id, (**judged).progress.reason);
  }
}

rollout::Window RolloutController::take_window(const model::Rollout& r, Tracked& t,
                                               std::int64_t now) {
  metrics::VersionSnapshot canary = seams_.counters(r.service, r.plan.version);
  metrics::VersionSnapshot stable = seams_.counters(r.service, r.plan.stable);
  rollout::Window w;
  w.seconds = static_cast<double>(now - t.window_started_ms) / 1000.0;
  w.canary = window_between(t.canary, canary);
  w.stable = window_between(t.stable, stable);
  t.canary = std::move(canary);
  t.stable = std::move(stable);
  t.window_started_ms = now;
  return w;
}

// A step's relative latency checks compare with the stable version's latency so far (its
// counters since the gateway started), fixed for the step.
void RolloutController::start_sequential_step(const model::Rollout& r, Tracked& t) {
  if (!t.sequential) {
    t.sequential = std::make_unique<rollout::SequentialJudge>(
        r.plan.analysis.checks,
        rollout::SequentialOptions{.alpha = r.plan.analysis.alpha,
                                   .check_split = !r.plan.sticky,
                                   .require_evidence = r.plan.analysis.require_evidence,
                                   .capped_errors = r.plan.sticky});
  }
  t.sequential->start_step(rollout::weight_at(r.plan, r.progress.step),
                           seams_.counters(r.service, r.plan.stable).latency);
  t.sequential_step = r.progress.step;
  t.step_requests = 0;
}

void RolloutController::drive_sequential(const model::Rollout& r, Tracked& t, std::int64_t now) {
  if (t.sequential_step != r.progress.step) {
    start_sequential_step(r, t);
  }
  if (t.window_started_ms == 0) {
    t.canary = seams_.counters(r.service, r.plan.version);
    t.stable = seams_.counters(r.service, r.plan.stable);
    t.window_started_ms = now;
    t.reported_ms = now;
    return;
  }
  drive_confirm(r, t, now);
  if (now - t.window_started_ms < kSequentialTick.count()) {
    return;
  }
  const rollout::Window w = take_window(r, t, now);
  t.step_requests += w.canary.requests;
  const auto left = rollout::pause_left(r.plan, r.progress, now);
  rollout::Judgement j = t.sequential->observe(w, left && left->count() == 0);
  const auto& analysis = r.plan.analysis;
  if (j.decision == rollout::Decision::kNextStep && t.step_requests < analysis.min_requests) {
    // No evidence against a canary that had almost no traffic is no evidence for it.
    const bool pause = analysis.inconclusive == rollout::Inconclusive::kPause;
    j.decision = pause ? rollout::Decision::kPause : rollout::Decision::kContinue;
    j.reason = fmt::format(
        "inconclusive: the canary answered {} requests this step, fewer than "
        "min_requests {}; {}",
        t.step_requests, analysis.min_requests,
        pause ? "paused (inconclusive = \"pause\")" : "the step is extended");
  }
  const bool confirmed = t.confirm.confirmed || !seams_.confirm;
  // Nothing decided, or a move that confirm-promotion holds: the evidence goes to the store
  // once an interval, not every tick.
  const bool waits = j.decision == rollout::Decision::kContinue ||
                     (j.decision == rollout::Decision::kNextStep && !confirmed);
  if (waits && now - t.reported_ms < r.plan.interval.count()) {
    return;
  }
  t.reported_ms = now;
  auto judged = rollouts_.judged(r.service, r.id, std::move(j), {confirmed, t.confirm.held});
  if (!judged) {
    log::error("rollouts: {} rollout {}: recording a judgement failed: {}", r.service, r.id,
               judged.error().message);
    return;
  }
  if (*judged && ((**judged).progress.phase != rollout::Phase::kProgressing ||
                  (**judged).progress.step != r.progress.step)) {
    log::info("rollouts: {} rollout {}: {}", r.service, r.id, (**judged).progress.reason);
  }
}

std::size_t RolloutController::checks_in_flight() const {
  return static_cast<std::size_t>(std::count_if(check_threads_.begin(), check_threads_.end(),
                                                [](const auto& run) { return !run.first->done; }));
}

void RolloutController::drive_confirm(const model::Rollout& r, Tracked& t, std::int64_t now) {
  Confirm& c = t.confirm;
  if (!seams_.confirm || c.confirmed) {
    return;
  }
  if (c.run && c.run->done) {
    c.confirmed = !c.run->held;
    c.held = c.run->held.value_or("");
    c.run.reset();
    if (!c.confirmed) {
      c.next_ask_ms = now + c.backoff_ms;
      c.backoff_ms = std::min<std::int64_t>(c.backoff_ms * 2, kMaxConfirmBackoffMs);
    }
    return;
  }
  // Asked once the pause ends before the window under way does, so that a prompt answer is
  // there when the window is judged.
  const auto left =
      rollout::pause_left(r.plan, r.progress, t.window_started_ms + r.plan.interval.count());
  if (c.run || !left || left->count() > 0 || now < c.next_ask_ms) {
    return;
  }
  c.run = std::make_shared<ConfirmRun>();
  confirm_threads_.emplace_back(
      c.run, std::thread([run = c.run, confirm = seams_.confirm, r, step = r.progress.step + 1] {
        run->held = confirm(r, step, run->cancelled);
        run->done = true;
      }));
}

void RolloutController::start(std::chrono::milliseconds period) {
  thread_ = std::thread([this, period] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      tick();
      lock.lock();
      wake_.wait_for(lock, period, [&] { return stopping_; });
    }
  });
}

void RolloutController::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  for (auto& [run, thread] : check_threads_) {
    run->cancelled = true;
    thread.join();
  }
  check_threads_.clear();
  for (auto& [run, thread] : confirm_threads_) {
    run->cancelled = true;
    thread.join();
  }
  confirm_threads_.clear();
}

}  // namespace rampart::control
