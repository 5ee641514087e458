#pragma once
// Rollouts in the store: each call is one transaction that moves one rollout along its state
// machine (rollout/machine.hpp) and writes, together, the rollout's new progress, its event
// (the timeline `report` prints), the deployment the step causes, and the audit event. So a
// kill -9 at any moment leaves a rollout where its last acknowledged transition put it, with
// the deployment that transition made: no step is half-done, none runs twice.
//
// One active rollout per service: start() refuses a second one (kConflict naming the active
// rollout and how to abort it) unless `replace`, which aborts the active one first.
//
// The calls that a person makes (start, command) take the actor; the controller's (checks,
// window) act as kSystemActor. Errors: kNotFound (service, version, rollout), kInvalidArgument
// (the request), kConflict (a second rollout; a command that does not apply to the rollout's
// phase; a lost race, after the retries of detail::mutate), kUnavailable (the store).
//
// Thread safety: as DeploymentService; every call may run on any thread.

#include "common/result.hpp"
#include "control/deployment_service.hpp"
#include "model/records.hpp"
#include "model/rollout_record.hpp"
#include "rollout/machine.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::control {

// The result of one `pre` command, run by `rampart deploy` on the deploying machine before
// it asked for the rollout; kept in the created event's reason and the start's audit details.
struct PreResult {
  std::string name;
  bool passed = false;
  std::int64_t ms = 0;
};

inline constexpr std::size_t kMaxPreResults = 32;
inline constexpr std::size_t kMaxUpstreams = 64;

struct DeployRequest {
  std::string service{};
  std::string version{};  // the new version: declared already (apply), or by `upstreams`
  // Non-empty: the deploy declares the version itself, in the rollout's transaction (a version
  // that exists must have these upstreams, else kConflict).
  std::vector<std::string> upstreams{};
  // Set: the deploy declares a version that rampart runs (`deploy -- CMD`), in the rollout's
  // transaction; one that exists must have this spec, else kConflict. Not with `upstreams`.
  std::optional<model::RunSpec> run{};
  std::string health_path{model::kDefaultHealthPath};  // of a version declared by `run`
  // Overrides of the service's policy for this rollout only.
  std::optional<std::string> strategy{};  // a name strategy_from_name() knows
  std::optional<std::vector<rollout::Step>> steps{};
  std::optional<std::chrono::milliseconds> interval{};
  bool replace = false;      // abort an active rollout first
  bool force = false;        // deploy inside a denied deploy window (audited as forced)
  bool skip_checks = false;  // the `pre` commands were skipped (audited as unchecked)
  bool dry_run = false;      // every gate, nothing written
  std::vector<PreResult> pre{};
  std::string actor{};
  std::string message{};
};

class RolloutService {
 public:
  explicit RolloutService(store::Store& store, UnixClock clock = system_unix_ms);

  // A new rollout of `request.version`, pending its checks. The stable version is the one with
  // the largest share of the latest deployment. On a day the service's deploy windows deny,
  // kConflict saying so and when the next allowed time is, unless `force` (the audit event's
  // action is then "rollout.start.forced"). With `skip_checks` the action is
  // "rollout.start.unchecked" (forced wins when both apply; the details say both). The `pre`
  // results go into the created event's reason and the audit details.
  //
  // With `upstreams`, the version is created in the same transaction (validated as apply
  // validates upstreams); an existing version with the same upstreams is used as it is, one
  // with other upstreams is kConflict naming the difference.
  //
  // With `dry_run`, every gate runs (service and version, the active rollout unless replace,
  // the deploy window unless force, the plan) and the answer is the rollout start() would
  // create; nothing is written, no id is consumed, nothing is audited, and `replace` aborts
  // nothing.
  Result<model::Rollout> start(const DeployRequest& request);

  // The checks the rollout waits for ended: before traffic (pending: the first step's
  // deployment, or a rollback), or the verification at 100% (verifying: promoted, or a
  // rollback).
  Result<model::Rollout> checks_done(std::string_view service, std::int64_t id, bool passed,
                                     std::string reason);

  // An analysis window of a progressing rollout ended: the judge decides. nullopt when the
  // rollout is no longer progressing (nothing written).
  Result<std::optional<model::Rollout>> window(std::string_view service, std::int64_t id,
                                               const rollout::Window& window);

  // A judgement of the controller's own (sequential) judge for a progressing rollout, carried
  // out as window() carries out the threshold judge's. nullopt when the rollout is no longer
  // progressing (nothing written).
  Result<std::optional<model::Rollout>> judged(std::string_view service, std::int64_t id,
                                               rollout::Judgement judgement,
                                               const rollout::Confirmation& confirmation);

  // promote, promote --full, pause, resume, abort of the service's latest rollout; retry of a
  // rolled-back one (it starts again, pending its checks).
  Result<model::Rollout> command(std::string_view service, rollout::Command command,
                                 std::string_view actor);

  // The service's latest rollout, if it is not final.
  Result<std::optional<model::Rollout>> active(std::string_view service);
  // The service's latest rollout, final or not (kNotFound when it never had one).
  Result<model::Rollout> latest(std::string_view service);
  Result<model::Rollout> get(std::string_view service, std::int64_t id);
  // Newest first.
  Result<std::vector<model::Rollout>> list(std::string_view service);
  // Oldest first: the timeline.
  Result<std::vector<model::RolloutEvent>> events(std::string_view service, std::int64_t id);
  // Every service's active rollout: what the controller picks up at start-up.
  Result<std::vector<model::Rollout>> all_active();

  // Transitions this process committed, by (service, event): "created", "started", "window",
  // "step", "paused", "verifying", "promoted", "rolled_back", ... (/metrics'
  // rampart_rollout_decisions_total; they start from 0 with the process, as counters do).
  using DecisionCounts = std::map<std::pair<std::string, std::string>, std::uint64_t>;
  DecisionCounts decisions() const;

  // The store's revision: while it stays the same, nothing all_active() answers has changed.
  std::int64_t revision() { return store_.revision(); }
  // The store it works on, for readers of records it does not own (webhook deliveries).
  store::Store& store() { return store_; }

 private:
  using Step = std::function<Result<std::optional<rollout::Transition>>(const model::Rollout&,
                                                                        std::int64_t now)>;
  // Runs `step` on rollout `id` (0: the service's latest) and commits the transition it
  // answers; nullopt from `step` writes nothing and answers nullopt.
  Result<std::optional<model::Rollout>> advance(std::string_view service, std::int64_t id,
                                                std::string_view actor, const Step& step);

  void count(std::string_view service, std::string_view event);

  store::Store& store_;
  UnixClock clock_;
  mutable std::mutex counts_mutex_;
  DecisionCounts counts_;
};

}  // namespace rampart::control
