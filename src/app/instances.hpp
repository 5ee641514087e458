#pragma once
// The server's side of the runner: which versions should run, read from the store, handed to
// the Fleet (runner/fleet.hpp), and the fleet's instances joined into the published routes.
//
// What runs. For each service, every version that rampart runs (Version::run) and that
//   - has a share of the latest deployment, or
//   - is the new or the stable version of the service's active rollout, or
//   - is the stable version of its last rollout, promoted, while the rollback window lasts
//     (Progress::ready_until_ms), so that `rampart undo` is instant.
// Everything else the fleet drains and stops. The desired set is read after every commit and
// once a second (a rollback window ends without a commit).
//
// Kill -9. Instances die with rampart (PR_SET_PDEATHSIG, runner/instance.hpp); at start-up the
// desired set is read before the gateway accepts, so the fleet starts every instance at once
// and each version serves again as soon as its instances answer their health path.
//
// An instance's environment: runner::instance_env, read at each start.
//
// Thread safety: every method may be called from any thread.

#include "common/result.hpp"
#include "control/deployment_service.hpp"
#include "control/rollout_service.hpp"
#include "runner/fleet.hpp"
#include "runner/instance_env.hpp"
#include "store/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rampart::app {

// The versions of one service that should run now (see above).
std::vector<model::Version> wanted_versions(const model::ServiceState& state,
                                            const std::optional<model::Rollout>& latest_rollout,
                                            std::int64_t now_ms);

class InstanceSync {
 public:
  struct Options {
    std::filesystem::path log_root;  // {log_root}/{service}/{version}/instance-{id}.log
    runner::SecretValues secrets;    // empty: no secrets (none are injected)
    control::UnixClock now_ms = control::system_unix_ms;
  };

  // REQUIRES: all outlive this object.
  InstanceSync(store::Store& store, control::RolloutService& rollouts, runner::Fleet& fleet,
               Options options);
  ~InstanceSync();  // stop()

  // Reads the desired set once (the fleet starts it), then follows commits on its own thread.
  Status start();
  void stop();

  // Before a change gives `versions` of `service` traffic (a split, a rollback): starts the
  // ones rampart runs and waits until they run, so the change is not acknowledged before
  // they can serve it. Their start failure (with log lines) is the answer; versions served by
  // upstreams, or unknown, pass. A prepared version is kept running for kPreparedFor even if
  // no change follows.
  static constexpr std::chrono::seconds kPreparedFor{60};
  Status prepare(const std::string& service, const std::vector<std::string>& versions);

 private:
  Status sync();
  runner::FleetVersion fleet_version(const model::Version& v) const;
  void loop();

  store::Store& store_;
  control::RolloutService& rollouts_;
  runner::Fleet& fleet_;
  Options options_;
  std::mutex sync_mutex_;  // one sync() at a time: a later one never hands the fleet older state
  std::mutex mutex_;
  std::condition_variable cv_;
  bool dirty_ = false;     // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::string last_error_;
  // Prepared versions and until when they are kept; guarded by mutex_.
  std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> prepared_;
  store::Subscription subscription_;
  std::thread thread_;
};

}  // namespace rampart::app
