#pragma once
// A rollout's state machine, without I/O and without a clock: the controller hands it the
// time, each analysis window and each command, and carries out the Transition it answers
// (a new deployment, the rollout's new progress and the event, in one store transaction).
//
//   pending --checks passed--> progressing(step 0) --window passes, pause over--> step 1 ...
//   progressing <--pause / resume--> paused
//   progressing(last step) --passes--> verifying --verify passed--> promoted
//   (no verify endpoints: progressing(last step) --passes--> promoted)
//   pending / progressing / paused / verifying --checks failed, judge, abort--> rolled_back
//   rolled_back --retry--> pending
//   promoted (or under way) --undo--> rolled_back
//
// Every transition names why, so `report` can show the whole timeline. `abort` always ends in
// rolled_back (never half-way); a rollback puts 100% on the stable version in one deployment.

#include "common/result.hpp"
#include "rollout/analysis.hpp"
#include "rollout/judge.hpp"
#include "rollout/strategy.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rampart::rollout {

// kVerifying: at 100%, the verify endpoints are asked again (verify_tries tries each) before
// the rollout counts as promoted (seed 002/003's post-deploy verification).
enum class Phase { kPending, kProgressing, kPaused, kVerifying, kPromoted, kRolledBack };
std::string_view to_string(Phase phase);
std::optional<Phase> parse_phase(std::string_view text);
// promoted or rolled back: nothing more happens to it (but retry).
bool is_final(Phase phase);

// What a rollout is asked to do; fixed when it starts.
struct Plan {
  std::string version;  // the new version
  std::string stable;   // the version that served all traffic before
  Strategy strategy;
  AnalysisPolicy analysis;
  std::chrono::milliseconds interval{30000};  // the analysis window
  bool verify_after = false;  // verify again at 100% before promoted (the policy has verify)
  // How long after promotion the stable version stays ready for an instant rollback.
  std::chrono::milliseconds rollback_window{0};
  // The service routes by a sticky key (client IP, header, cookie) rather than per request: the
  // split of requests then follows the keys', not the weight (the sequential judge's
  // sample-ratio guard does not apply, docs/judge.md).
  bool sticky = false;

  friend bool operator==(const Plan&, const Plan&) = default;
};

// Where a rollout is. Times are unix milliseconds from the controller's clock.
struct Progress {
  Phase phase = Phase::kPending;
  uint32_t step = 0;              // index into the plan's steps, while progressing or paused
  int64_t step_started_ms = 0;    // when the step's weight began to be served
  int64_t paused_at_ms = 0;       // while paused: since when
  int64_t paused_total_ms = 0;    // time this step spent paused (it does not count as pause)
  int64_t window_started_ms = 0;  // the analysis window under way began here
  JudgeState judge;
  // When this step was last resumed (0: not since it began): a step paused for being undecided
  // past max_step_duration gets the whole duration again from there.
  int64_t resumed_ms = 0;
  int64_t ready_until_ms = 0;  // once promoted: the stable version is kept ready until then
  std::string reason;          // why the last transition happened

  friend bool operator==(const Progress&, const Progress&) = default;
};

// kUndo: back to the stable version at once, without analysis, also after promotion (Argo's
// `undo`); kAbort is the same for a rollout still under way.
enum class Command { kPromote, kPromoteFull, kPause, kResume, kAbort, kRetry, kUndo };

// What the controller must carry out.
struct Transition {
  Progress next;
  // A new deployment: the new version's share (the stable version gets the rest). 0 on a
  // rollback.
  std::optional<uint32_t> weight_bp;
  std::string event;  // "started", "step", "window", "paused", "resumed", "verifying",
                      // "promoted", "rolled_back", "retried"
  std::optional<Judgement> judgement;  // with "window" (and a judge-decided step or rollback)
};

// The weight the new version has in `step` (the steps of blue-green: one cut-over to 100%).
uint32_t weight_at(const Plan& plan, uint32_t step);

// The pre-deploy checks passed (or failed, with `reason`): the first step starts at `now_ms`,
// or the rollout is rolled back. REQUIRES: progress.phase == kPending.
Transition on_checks(const Plan& plan, const Progress& progress, bool passed,
                     const std::string& reason, int64_t now_ms);

// The verification at 100% ended (kVerifying): promoted, or rolled back with `reason`.
// REQUIRES: progress.phase == kVerifying.
Transition on_verified(const Plan& plan, const Progress& progress, bool passed,
                       const std::string& reason, int64_t now_ms);

// Whether `now_ms` is inside a promoted rollout's rollback window (its stable version still
// kept ready, so an undo is instant).
bool in_rollback_window(const Progress& progress, int64_t now_ms);

// An analysis window ended at `now_ms` with `window`: the judge decides. Only while
// progressing (else nullopt: a window of a paused rollout decides nothing). A move to the next
// step (or promotion) waits for window.promotion_confirmed; nothing else does.
std::optional<Transition> on_window(const Plan& plan, const Progress& progress,
                                    const Window& window, int64_t now_ms);

// A command at `now_ms`; kConflict (the rollout is not in a state it applies to) with a message for
// the user when it does not apply ("the rollout is paused; resume it first", ...).
Result<Transition> on_command(const Plan& plan, const Progress& progress, Command command,
                              int64_t now_ms);

// Whether the move to the next step may go ahead (confirm-promotion webhooks), and if not why.
struct Confirmation {
  bool confirmed = true;
  std::string held;  // "confirm-promotion https://... answered 503"
};

// How long the step has stayed undecided past its pause at `now_ms` (since its last resume,
// if later); nullopt while the pause runs and for steps that wait to be promoted by hand.
std::optional<std::chrono::milliseconds> undecided_for(const Plan& plan, const Progress& progress,
                                                       int64_t now_ms);

// A judgement the controller's own judge made (the sequential judge, which keeps its evidence
// between ticks) carried out as on_window carries out the threshold judge's. Only while
// progressing (else nullopt). A judgement that keeps a step going (kContinue) once the step is
// undecided_for max_step_duration or longer follows on_inconclusive instead: paused, or rolled
// back with a reason that says it is inconclusive (never a regression). Both judges.
std::optional<Transition> on_judgement(const Plan& plan, const Progress& progress, Judgement j,
                                       const Confirmation& confirmation, int64_t now_ms);

// When the next analysis window ends (window_started_ms + interval). Only while progressing.
int64_t window_due_ms(const Plan& plan, const Progress& progress);

// How much of the step's pause is left at `now_ms` (0 when over; nullopt until promoted).
std::optional<std::chrono::milliseconds> pause_left(const Plan& plan, const Progress& progress,
                                                    int64_t now_ms);

}  // namespace rampart::rollout
