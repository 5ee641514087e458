#pragma once
// The threshold judge: one analysis window and the policy -> what the rollout does next, with
// the evidence for every check. A pure function: no I/O, no clock (the controller says whether
// the step's pause is over), so every rule has a case in tests/unit/rollout/judge_cases.json.
//
// The rules, in order:
//   1. A check past its `critical` bound rolls back at once.
//   2. A failed check fails the window; the failure_limit-th failed window of a step rolls
//      back, an earlier one continues (the count is carried in JudgeState).
//   3. A window that decides nothing (the canary, or for a relative-only check the stable
//      version, answered fewer than min_requests) pauses with `inconclusive = "pause"`, and
//      with "extend" continues: the step does not advance until a window passes.
//   4. A window that passes moves to the next step once the step's pause is over, else
//      continues.
//
// A second judge (sequential, anytime-valid) takes the same Window and AnalysisPolicy and
// answers the same Judgement, so the controller and the report do not care which decided.

#include "rollout/analysis.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rampart::rollout {

enum class Verdict { kPass, kInconclusive, kFail, kCritical };  // in rising severity
std::string_view to_string(Verdict verdict);

// One check's verdict over one window, with what it was decided on.
struct CheckResult {
  Metric metric = Metric::kErrorRate;
  Verdict verdict = Verdict::kPass;
  std::optional<double> canary;  // the metric's value; nullopt without requests
  std::optional<double> stable;
  uint64_t canary_requests = 0;
  uint64_t stable_requests = 0;
  // The bound the verdict came from ("max 0.01", "critical 1000", "ratio 1.2"), empty on a pass
  // of every bound, and a sentence that says it all with the numbers.
  std::string bound;
  std::string reason;
  // The sequential judge's evidence (sequential_judge.hpp); unset by the threshold judge.
  std::optional<double> e_value;      // a relative check's e-value, and the value that rolls
  std::optional<double> e_threshold;  // back (K/alpha)
  std::optional<double> ci_low;       // an absolute check's anytime-valid interval for the
  std::optional<double> ci_high;      // canary's rate (of errors, or of requests over a latency)
  uint64_t canary_events = 0;         // the events the evidence counts, per version
  uint64_t stable_events = 0;
};

enum class Decision { kContinue, kNextStep, kPause, kRollback };
std::string_view to_string(Decision decision);

// What the judge carries from one window to the next within a step.
struct JudgeState {
  uint32_t failed_windows = 0;

  friend bool operator==(const JudgeState&, const JudgeState&) = default;
};

// A step that require_evidence holds: how much more canary traffic it expects to need, if the
// rates observed so far hold (the largest need over the checks still short of evidence).
struct EvidenceNeed {
  bool expected = true;           // false: at the observed rates no amount of traffic suffices
  uint64_t canary_requests = 0;   // more canary requests, when expected
  std::optional<double> seconds;  // the time they take at the step's canary rate so far
};

struct Judgement {
  Decision decision = Decision::kContinue;
  std::string reason;  // one line: the deciding check and its numbers, or why nothing was decided
  std::vector<CheckResult> checks;
  JudgeState state;                   // to pass to the next window of the same step
  std::optional<EvidenceNeed> needs;  // the sequential judge, holding for require_evidence
};

// Judges `window` under `policy` (its checks, or default_checks() when it has none).
// `pause_over`: the step's pause has run its time (false for a step that waits to be promoted).
Judgement judge_window(const Window& window, const AnalysisPolicy& policy, JudgeState state,
                       bool pause_over);

}  // namespace rampart::rollout
