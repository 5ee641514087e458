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
#include "model/rollout_record.hpp"
#include "rollout/machine.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::control {

struct DeployRequest {
  std::string service;
  std::string version;  // the new version; declared already (apply, or the API)
  // Overrides of the service's policy for this rollout only.
  std::optional<std::string> strategy;  // a name strategy_from_name() knows
  std::optional<std::vector<rollout::Step>> steps;
  std::optional<std::chrono::milliseconds> interval;
  bool replace = false;  // abort an active rollout first
  bool force = false;    // deploy inside a denied deploy window (audited as forced)
  std::string actor;
  std::string message;
};

class RolloutService {
 public:
  explicit RolloutService(store::Store& store, UnixClock clock = system_unix_ms);

  // A new rollout of `request.version`, pending its checks. The stable version is the one with
  // the largest share of the latest deployment. On a day the service's deploy windows deny,
  // kConflict saying so and when the next allowed time is, unless `force` (the audit event's
  // action is then "rollout.start.forced").
  Result<model::Rollout> start(const DeployRequest& request);

  // The checks before traffic ended: the first step's deployment, or a rollback.
  Result<model::Rollout> checks_done(std::string_view service, std::int64_t id, bool passed,
                                     std::string reason);

  // An analysis window of a progressing rollout ended: the judge decides. nullopt when the
  // rollout is no longer progressing (nothing written).
  Result<std::optional<model::Rollout>> window(std::string_view service, std::int64_t id,
                                               const rollout::Window& window);

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

  store::Store& store_;
  UnixClock clock_;
};

}  // namespace rampart::control
