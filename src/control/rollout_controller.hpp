#pragma once
// Drives every active rollout: runs its checks before traffic, measures its analysis windows
// from the gateway's own counters (canary and stable in the same window), and hands each
// window and check outcome to RolloutService, which decides (the judge) and records the
// decision in one transaction. It holds nothing that matters across a restart: after kill -9,
// a new controller reads the active rollouts back from the store and carries on from their
// persisted step (the first window after a restart starts at the restart).
//
// Thread safety: tick() is called from one thread at a time (start() runs it on a thread of
// its own, every `period`); the seams are called on that thread, checks and confirm on threads
// of their own.

#include "control/rollout_checks.hpp"
#include "control/rollout_service.hpp"
#include "metrics/version_stats.hpp"
#include "rollout/sequential_judge.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rampart::control {

// How often the sequential judge looks at the counters (its evidence accumulates tick by tick,
// and its bound holds however often it looks).
inline constexpr std::chrono::milliseconds kSequentialTick{250};

class RolloutController {
 public:
  struct Seams {
    std::function<std::int64_t()> now_ms;  // unix ms, the RolloutService's clock
    // The counters of one (service, version) now (Registry::snapshot_version).
    std::function<metrics::VersionSnapshot(const std::string&, const std::string&)> counters;
    // The checks a rollout waits for: before traffic when it is pending, the verification at
    // 100% when it is verifying. Blocking (run on a thread of its own). `cancelled` turns
    // true when the rollout stops waiting for them (aborted, replaced) or the controller
    // stops: they should end soon after.
    std::function<CheckOutcome(const model::Rollout&, const std::atomic<bool>& cancelled)> checks;
    // Asks the service's confirm-promotion hooks whether `r` may move to `next_step` (0-based;
    // one past the last: promotion); blocking, run on a thread of its own, cancelled as the
    // checks. nullopt: yes (also when the service has no such hook); else why it is held. Asked
    // once the step's pause ends within the window under way; while the answer is no, asked
    // again after 5 s, 10 s, 20 s, ... 60 s. Empty: every step is confirmed.
    std::function<std::optional<std::string>(const model::Rollout& r, std::uint32_t next_step,
                                             const std::atomic<bool>& cancelled)>
        confirm;
  };

  RolloutController(RolloutService& rollouts, Seams seams);
  ~RolloutController();  // stop()s

  // One pass over the active rollouts.
  void tick();

  // Check runs started and not yet finished (their outcome is recorded by the tick after they
  // finish). Call it from the thread that calls tick().
  std::size_t checks_in_flight() const;

  // tick() every `period` on a thread of its own, until stop().
  void start(std::chrono::milliseconds period);
  void stop();

 private:
  // One run of a pending rollout's checks, shared with the thread that runs them.
  struct CheckRun {
    std::atomic<bool> cancelled{false};
    std::atomic<bool> done{false};
    CheckOutcome outcome;  // written before done
  };

  // One ask of the confirm-promotion hooks, shared with the thread that runs it.
  struct ConfirmRun {
    std::atomic<bool> cancelled{false};
    std::atomic<bool> done{false};
    std::optional<std::string> held;  // written before done
  };

  // The confirmation of the step under way.
  struct Confirm {
    bool confirmed = false;
    std::string held = "waiting for the confirm-promotion hooks";
    std::shared_ptr<ConfirmRun> run;  // the ask under way
    std::int64_t next_ask_ms = 0;
    std::int64_t backoff_ms = 5000;
  };

  struct Tracked {
    std::int64_t id = 0;
    rollout::Phase phase = rollout::Phase::kPending;
    std::uint32_t step = 0;
    std::int64_t window_started_ms = 0;  // 0: no baseline yet
    metrics::VersionSnapshot canary;
    metrics::VersionSnapshot stable;
    std::shared_ptr<CheckRun> checks;
    Confirm confirm;  // of the step under way
    // The sequential judge's evidence, in memory: a restarted controller starts it afresh.
    std::unique_ptr<rollout::SequentialJudge> sequential;
    std::optional<std::uint32_t> sequential_step;  // the step it was last started for
    std::uint64_t step_requests = 0;               // the canary's, this step
    std::int64_t reported_ms = 0;                  // its last judgement written to the store
  };

  void drive(const model::Rollout& r, Tracked& t, std::int64_t now);
  static void forget(Tracked& t);
  void drive_checks(const model::Rollout& r, Tracked& t);
  void drive_window(const model::Rollout& r, Tracked& t, std::int64_t now);
  // The sequential judge: a tick's counts every kSequentialTick, a judgement written when it
  // decides something or an interval has passed since the last one written.
  void drive_sequential(const model::Rollout& r, Tracked& t, std::int64_t now);
  void start_sequential_step(const model::Rollout& r, Tracked& t);
  // The tick's traffic since the baselines in `t`, which move to now.
  rollout::Window take_window(const model::Rollout& r, Tracked& t, std::int64_t now);
  // Starts, collects and repeats the asks of the confirm-promotion hooks for the step.
  void drive_confirm(const model::Rollout& r, Tracked& t, std::int64_t now);
  static void end_confirm(Tracked& t);

  RolloutService& rollouts_;
  Seams seams_;
  std::map<std::string, Tracked> tracked_;  // by service
  // all_active() as of store revision active_revision_: a tick at the same revision (nothing
  // committed since) reuses it instead of reading every rollout again.
  std::vector<model::Rollout> active_;
  std::int64_t active_revision_ = -1;
  // Every check thread not yet joined, with its run: joined once done (or at stop()).
  std::vector<std::pair<std::shared_ptr<CheckRun>, std::thread>> check_threads_;
  std::vector<std::pair<std::shared_ptr<ConfirmRun>, std::thread>> confirm_threads_;  // likewise
  std::mutex mutex_;  // for the thread's stop
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// The traffic of one version between two snapshots of its counters.
rollout::VersionWindow window_between(const metrics::VersionSnapshot& before,
                                      const metrics::VersionSnapshot& now);

}  // namespace rampart::control
