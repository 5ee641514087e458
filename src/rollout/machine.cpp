#include "rollout/machine.hpp"

#include "common/duration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

namespace rampart::rollout {

namespace {

constexpr uint32_t kFull = 10000;

constexpr std::array<std::pair<Phase, std::string_view>, 6> kPhases = {{
    {Phase::kPending, "pending"},
    {Phase::kProgressing, "progressing"},
    {Phase::kPaused, "paused"},
    {Phase::kVerifying, "verifying"},
    {Phase::kPromoted, "promoted"},
    {Phase::kRolledBack, "rolled_back"},
}};

std::size_t step_count(const Plan& plan) {
  return plan.strategy.steps.empty() ? 1 : plan.strategy.steps.size();
}

const Step* step_of(const Plan& plan, uint32_t step) {
  return plan.strategy.steps.empty() ? nullptr : &plan.strategy.steps.at(step);
}

// The rollout at step `step` from `now_ms`: its weight served, a fresh window and judge.
Transition enter_step(const Plan& plan, const Progress& progress, uint32_t step, int64_t now_ms,
                      std::string event, std::string reason) {
  Transition t;
  t.next = progress;
  t.next.phase = Phase::kProgressing;
  t.next.step = step;
  t.next.step_started_ms = now_ms;
  t.next.paused_at_ms = 0;
  t.next.paused_total_ms = 0;
  t.next.resumed_ms = 0;
  t.next.window_started_ms = now_ms;
  t.next.judge = {};
  t.next.reason = std::move(reason);
  t.weight_bp = weight_at(plan, step);
  t.event = std::move(event);
  return t;
}

Transition promoted(const Plan& plan, const Progress& progress, int64_t now_ms,
                    std::string reason) {
  Transition t;
  t.next = progress;
  t.next.phase = Phase::kPromoted;
  t.next.paused_at_ms = 0;
  t.next.ready_until_ms = now_ms + plan.rollback_window.count();
  t.next.reason = std::move(reason);
  if (plan.rollback_window.count() > 0) {
    t.next.reason += fmt::format("; {} kept ready for an instant rollback for {}", plan.stable,
                                 format_duration(plan.rollback_window));
  }
  t.event = "promoted";
  return t;
}

// Past the last step: verifying at 100% when the plan verifies again, else promoted.
Transition finish(const Plan& plan, const Progress& progress, int64_t now_ms, std::string why) {
  if (!plan.verify_after) {
    return promoted(plan, progress, now_ms, std::move(why));
  }
  Transition t;
  t.next = progress;
  t.next.phase = Phase::kVerifying;
  t.next.paused_at_ms = 0;
  t.next.reason = why + fmt::format(": {} at 100%, verifying", plan.version);
  t.event = "verifying";
  return t;
}

Transition rolled_back(const Progress& progress, std::string reason) {
  Transition t;
  t.next = progress;
  t.next.phase = Phase::kRolledBack;
  t.next.paused_at_ms = 0;
  t.next.reason = std::move(reason);
  t.weight_bp = 0;
  t.event = "rolled_back";
  return t;
}

// The step after the current one, or promotion after the last.
Transition advance(const Plan& plan, const Progress& progress, int64_t now_ms, std::string why) {
  const uint32_t next = progress.step + 1;
  if (next >= step_count(plan)) {
    return finish(plan, progress, now_ms, std::move(why));
  }
  return enter_step(plan, progress, next, now_ms, "step",
                    fmt::format("{}: step {} of {}, {} to {}", why, next + 1, step_count(plan),
                                percent_text(weight_at(plan, next)), plan.version));
}

// A window passed with the pause over, but the confirm-promotion hooks have not said yes: the
// step stays, its analysis goes on (a rollback still happens at once).
Transition held(const Progress& progress, const Judgement& j, int64_t now_ms) {
  Transition t;
  t.next = progress;
  t.next.judge = j.state;
  t.next.window_started_ms = now_ms;
  t.next.reason = j.reason;
  t.event = "window";
  return t;
}

Transition paused_by_analysis(const Progress& progress, int64_t now_ms, std::string reason) {
  Transition t;
  t.next = progress;
  t.next.phase = Phase::kPaused;
  t.next.paused_at_ms = now_ms;
  t.next.reason = std::move(reason);
  t.event = "paused";
  return t;
}

// A step undecided for max_step_duration past its pause: what on_inconclusive says, and the
// judgement rewritten to say so. nullopt while it may go on.
std::optional<Transition> past_max_duration(const Plan& plan, const Progress& progress,
                                            Judgement& j, int64_t now_ms) {
  const AnalysisPolicy& a = plan.analysis;
  const auto undecided = undecided_for(plan, progress, now_ms);
  if (a.max_step_duration.count() <= 0 || !undecided || *undecided < a.max_step_duration) {
    return std::nullopt;
  }
  const bool rollback = a.on_inconclusive == Inconclusive::kRollback;
  const std::string why = fmt::format(
      "inconclusive: step {} of {} is still undecided {} after its pause (max_step_duration {}, "
      "on_inconclusive = \"{}\"): {}",
      progress.step + 1, step_count(plan), format_duration(*undecided),
      format_duration(a.max_step_duration), to_string(a.on_inconclusive), j.reason);
  j.decision = rollback ? Decision::kRollback : Decision::kPause;
  j.reason = why;
  if (rollback) {
    return rolled_back(progress, why + "; rolled back as inconclusive, not for a regression");
  }
  return paused_by_analysis(progress, now_ms, why + "; a person decides: promote or abort");
}

Error not_now(std::string message) { return make_error(Errc::kConflict, std::move(message)); }

Result<Transition> promote(const Plan& plan, const Progress& progress, bool full, int64_t now_ms) {
  if (progress.phase != Phase::kProgressing && progress.phase != Phase::kPaused) {
    return not_now(
        fmt::format("the rollout is {}; only a progressing or paused rollout can be "
                    "promoted",
                    to_string(progress.phase)));
  }
  if (full) {
    const uint32_t last = static_cast<uint32_t>(step_count(plan) - 1);
    Transition t = finish(plan, progress, now_ms, "promoted to 100% by hand, past every step");
    if (weight_at(plan, progress.step) != kFull) {
      t.weight_bp = kFull;
    }
    t.next.step = last;
    return t;
  }
  return advance(plan, progress, now_ms, "promoted by hand");
}

Result<Transition> pause(const Progress& progress, int64_t now_ms) {
  if (progress.phase != Phase::kProgressing) {
    return not_now(fmt::format("the rollout is {}; only a progressing rollout can be paused",
                               to_string(progress.phase)));
  }
  Transition t;
  t.next = progress;
  t.next.phase = Phase::kPaused;
  t.next.paused_at_ms = now_ms;
  t.next.reason = "paused by hand";
  t.event = "paused";
  return t;
}

Result<Transition> resume(const Progress& progress, int64_t now_ms) {
  if (progress.phase != Phase::kPaused) {
    return not_now(fmt::format("the rollout is {}; only a paused rollout can be resumed",
                               to_string(progress.phase)));
  }
  Transition t;
  t.next = progress;
  t.next.phase = Phase::kProgressing;
  t.next.paused_total_ms += now_ms - progress.paused_at_ms;
  t.next.paused_at_ms = 0;
  t.next.resumed_ms = now_ms;
  t.next.window_started_ms = now_ms;  // a window starts afresh: the paused time is not judged
  t.next.reason = "resumed";
  t.event = "resumed";
  return t;
}

Result<Transition> abort(const Progress& progress) {
  if (is_final(progress.phase)) {
    return not_now(fmt::format("the rollout is already {}", to_string(progress.phase)));
  }
  return rolled_back(progress, "aborted by hand");
}

Result<Transition> undo(const Plan& plan, const Progress& progress, int64_t now_ms) {
  if (progress.phase == Phase::kRolledBack) {
    return not_now("the rollout is rolled back already");
  }
  std::string why = "undone by hand: back to the stable version, without analysis";
  if (progress.phase == Phase::kPromoted && plan.rollback_window.count() > 0) {
    why += in_rollback_window(progress, now_ms)
               ? fmt::format(", inside the rollback window ({} was kept ready)", plan.stable)
               : fmt::format(", after the rollback window ({} was not kept ready)", plan.stable);
  }
  return rolled_back(progress, std::move(why));
}

Result<Transition> retry(const Progress& progress) {
  if (progress.phase != Phase::kRolledBack) {
    return not_now(fmt::format("the rollout is {}; only a rolled-back rollout can be retried",
                               to_string(progress.phase)));
  }
  Transition t;
  t.next = Progress{};
  t.next.reason = "retried from the first step";
  t.event = "retried";
  return t;
}

}  // namespace

std::string_view to_string(Phase phase) {
  for (const auto& [p, name] : kPhases) {
    if (p == phase) {
      return name;
    }
  }
  return "unknown";
}

std::optional<Phase> parse_phase(std::string_view text) {
  for (const auto& [p, name] : kPhases) {
    if (name == text) {
      return p;
    }
  }
  return std::nullopt;
}

bool is_final(Phase phase) { return phase == Phase::kPromoted || phase == Phase::kRolledBack; }

uint32_t weight_at(const Plan& plan, uint32_t step) {
  const Step* s = step_of(plan, step);
  return s == nullptr ? kFull : s->weight_bp;
}

Transition on_checks(const Plan& plan, const Progress& progress, bool passed,
                     const std::string& reason, int64_t now_ms) {
  if (!passed) {
    return rolled_back(progress, "checks failed: " + reason);
  }
  return enter_step(plan, progress, 0, now_ms, "started",
                    fmt::format("checks passed: step 1 of {}, {} to {}", step_count(plan),
                                percent_text(weight_at(plan, 0)), plan.version));
}

Transition on_verified(const Plan& plan, const Progress& progress, bool passed,
                       const std::string& reason, int64_t now_ms) {
  if (!passed) {
    return rolled_back(progress, "verify after promotion failed: " + reason);
  }
  return promoted(plan, progress, now_ms, "verified at 100%: " + reason);
}

bool in_rollback_window(const Progress& progress, int64_t now_ms) {
  return progress.phase == Phase::kPromoted && now_ms < progress.ready_until_ms;
}

int64_t window_due_ms(const Plan& plan, const Progress& progress) {
  return progress.window_started_ms + plan.interval.count();
}

std::optional<std::chrono::milliseconds> pause_left(const Plan& plan, const Progress& progress,
                                                    int64_t now_ms) {
  const Step* s = step_of(plan, progress.step);
  if (s != nullptr && s->until_promoted) {
    return std::nullopt;
  }
  const int64_t pause = s == nullptr ? 0 : s->pause.count();
  const int64_t paused_now = progress.phase == Phase::kPaused ? now_ms - progress.paused_at_ms : 0;
  const int64_t served = now_ms - progress.step_started_ms - progress.paused_total_ms - paused_now;
  return std::chrono::milliseconds(std::max<int64_t>(0, pause - served));
}

std::optional<std::chrono::milliseconds> undecided_for(const Plan& plan, const Progress& progress,
                                                       int64_t now_ms) {
  const Step* s = step_of(plan, progress.step);
  if (s != nullptr && s->until_promoted) {
    return std::nullopt;
  }
  const int64_t pause = s == nullptr ? 0 : s->pause.count();
  const int64_t paused_now = progress.phase == Phase::kPaused ? now_ms - progress.paused_at_ms : 0;
  const int64_t served = now_ms - progress.step_started_ms - progress.paused_total_ms - paused_now;
  if (served < pause) {
    return std::nullopt;
  }
  int64_t undecided = served - pause;
  if (progress.resumed_ms > 0) {
    undecided = std::min(undecided, now_ms - progress.resumed_ms);
  }
  return std::chrono::milliseconds(std::max<int64_t>(0, undecided));
}

std::optional<Transition> on_window(const Plan& plan, const Progress& progress,
                                    const Window& window, int64_t now_ms) {
  if (progress.phase != Phase::kProgressing) {
    return std::nullopt;
  }
  const auto left = pause_left(plan, progress, now_ms);
  const bool pause_over = left && left->count() == 0;
  return on_judgement(plan, progress,
                      judge_window(window, plan.analysis, progress.judge, pause_over),
                      {window.promotion_confirmed, window.promotion_held}, now_ms);
}

std::optional<Transition> on_judgement(const Plan& plan, const Progress& progress, Judgement j,
                                       const Confirmation& confirmation, int64_t now_ms) {
  if (progress.phase != Phase::kProgressing) {
    return std::nullopt;
  }
  Transition t;
  switch (j.decision) {
    case Decision::kRollback:
      t = rolled_back(progress, "rolled back by the analysis: " + j.reason);
      break;
    case Decision::kNextStep:
      if (!confirmation.confirmed) {
        j.decision = Decision::kContinue;
        j.reason += "; held: " + confirmation.held;
        t = held(progress, j, now_ms);
        break;
      }
      t = advance(plan, progress, now_ms, "analysis passed");
      break;
    case Decision::kPause:
      t = paused_by_analysis(progress, now_ms, "paused by the analysis: " + j.reason);
      break;
    case Decision::kContinue:
      if (auto over = past_max_duration(plan, progress, j, now_ms)) {
        t = std::move(*over);
        break;
      }
      t.next = progress;
      t.next.judge = j.state;
      t.next.window_started_ms = now_ms;
      t.next.reason = j.reason;
      t.event = "window";
      break;
  }
  t.judgement = std::move(j);
  return t;
}

Result<Transition> on_command(const Plan& plan, const Progress& progress, Command command,
                              int64_t now_ms) {
  switch (command) {
    case Command::kPromote:
      return promote(plan, progress, /*full=*/false, now_ms);
    case Command::kPromoteFull:
      return promote(plan, progress, /*full=*/true, now_ms);
    case Command::kPause:
      return pause(progress, now_ms);
    case Command::kResume:
      return resume(progress, now_ms);
    case Command::kAbort:
      return abort(progress);
    case Command::kRetry:
      return retry(progress);
    case Command::kUndo:
      return undo(plan, progress, now_ms);
  }
  return not_now("unknown command");
}

}  // namespace rampart::rollout
