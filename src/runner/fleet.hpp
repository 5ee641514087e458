#pragma once
// Fleet: every version that rampart runs, kept as the store says it should be.
//
// reconcile() is told the versions that should run now (the caller derives them from the
// store: the latest split, an active rollout's new version, a promoted rollout's old version
// inside its rollback window). The fleet starts what is missing, replaces the instances of a
// version whose spec changed, and drains and stops what is no longer wanted. Each instance is a
// Supervisor of its own (supervisor.hpp: restarts with backoff, health checks), so a version's
// instances can be replaced one by one:
//
//   start     every instance at once; the version is ready when each answered its health
//             path. A start that fails stops what it started, records the error (with the
//             instance's last log lines) and is tried again after a backoff (1 s doubling to
//             30 s) while the version is still wanted.
//   restart   one instance at a time: a new one is started and healthy, then joins the route,
//             then the old one leaves the route, drains and stops. A new one that fails ends
//             the restart with the old instances still serving. (`rampart restart`, a secret
//             rotated, a changed spec.)
//   stop      the instances leave the route, in-flight requests finish (hooks.drained, up to
//             the grace), then SIGTERM, then SIGKILL after the grace (Supervisor::stop).
//
// Instances are numbered per version, 0, 1, 2, ..., never reused while the fleet runs (their
// logs: {log_dir}/instance-{id}.log), so a replaced instance's log stays apart from its
// successor's.
//
// The route: addresses() answers the base URLs of a version's instances that are ready and in
// the route now. The fleet's own thread looks every 100 ms; when any answer changed it calls
// hooks.changed (which republishes the routes), so an instance that fails its checks leaves the
// route within about 100 ms of its supervisor saying so.
//
// Thread model: one thread of the fleet's (the watch loop above, retries, reaping finished
// operations) and one thread per running operation (start, restart, stop of one version),
// which itself starts each instance's supervisor (whose thread outlives the instances it forks:
// see instance.hpp). Every public method may be called from any thread.

#include "common/result.hpp"
#include "runner/supervisor.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace rampart::runner {

// A version that should run.
struct FleetVersion {
  std::string service;
  std::string version;
  unsigned instances = 1;
  std::chrono::milliseconds grace{10000};
  // What identifies the spec (the command, env and settings): a change replaces the instances.
  std::string fingerprint;
  // The supervisor options of one instance, numbered `id` (its `instances` is 1, `first_index`
  // the id). Asked at each start, so a rotated secret reaches the next instance started; an
  // error (a secret that cannot be read) fails that start with it.
  std::function<Result<SupervisorOptions>(unsigned id)> options;
};

enum class FleetPhase { kStarting, kRunning, kFailed, kRestarting, kStopping };
std::string_view to_string(FleetPhase phase);

struct FleetInstance {
  unsigned id = 0;
  InstanceSnapshot state;  // pid, port, ready, restarts, last exit
  bool routed = false;     // in the route (ready and not leaving it)
};

struct FleetStatus {
  std::string service;
  std::string version;
  FleetPhase phase = FleetPhase::kStarting;
  std::string error;  // the last start or restart failure (with log lines); empty: none
  unsigned restarts = 0;
  bool churning = false;
  std::vector<FleetInstance> instances;
};

class Fleet {
 public:
  struct Hooks {
    // A version's addresses changed: republish the routes. Called on the fleet's threads.
    std::function<void()> changed;
    // Whether no route has `addresses` any more and no request is in flight to them.
    std::function<bool(const std::vector<std::string>& addresses)> drained;
  };

  explicit Fleet(Hooks hooks);
  ~Fleet();  // stop()
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts the watch thread. reconcile() before start() is kept and acted on by start().
  void start();
  void reconcile(std::vector<FleetVersion> desired);

  // The base URLs ("http://127.0.0.1:PORT") of the version's routed instances.
  std::vector<std::string> addresses(const std::string& service, const std::string& version) const;

  // The version's state; nullopt when the fleet does not run it.
  std::optional<FleetStatus> status(std::string_view service, std::string_view version) const;
  // Every version of `service` the fleet runs, by version name.
  std::vector<FleetStatus> list(std::string_view service) const;
  // Every version the fleet runs, by service and version.
  std::vector<FleetStatus> all() const;

  // Blocks until the version is running (ok), its start failed (that error), `deadline`
  // passes (kUnavailable) or `cancelled` turns true (kCancelled-like kUnavailable).
  Status wait_running(std::string_view service, std::string_view version,
                      std::chrono::steady_clock::time_point deadline,
                      const std::atomic<bool>& cancelled) const;

  // Blocks until every version reconcile() asked for has finished its start (running or
  // failed) or `deadline` passes; false then. The server waits for it before it accepts, so
  // that requests after a restart wait in the listen queue instead of finding no instance.
  bool wait_started(std::chrono::steady_clock::time_point deadline) const;

  // Replaces every instance of the service's running versions (only `version`'s when it is not
  // empty), one at a time (above). Returns at once: kNotFound when the fleet runs none of them,
  // kConflict when one is not running (starting, restarting, stopping); status() follows it.
  Status restart(std::string_view service, std::string_view version = {});

  // Stops every version at once (server shutdown: no drain, the gateway has stopped).
  void stop();

 private:
  struct Member;
  struct Entry;
  using Key = std::pair<std::string, std::string>;

  void watch();
  void launch(Entry& entry, std::function<void(Entry&)> op);  // REQUIRES: mutex_ held
  void run_start(Entry& entry);
  void run_restart(Entry& entry);
  void run_stop(Entry& entry);
  Result<std::shared_ptr<Member>> start_member(Entry& entry, const FleetVersion& want);
  void retire(Entry& entry, const std::vector<std::shared_ptr<Member>>& old, bool drain);
  void act_on_desired();                                                // REQUIRES: mutex_ held
  std::vector<std::string> routed_addresses(const Entry& entry) const;  // REQUIRES: mutex_
  void notify_changed();

  Hooks hooks_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::map<Key, std::unique_ptr<Entry>> entries_;  // guarded by mutex_
  std::map<Key, FleetVersion> desired_;            // guarded by mutex_
  std::vector<std::thread> finished_;              // op threads to join; guarded by mutex_
  bool stopping_ = false;                          // guarded by mutex_
  bool started_ = false;                           // guarded by mutex_
  std::thread watcher_;
};

}  // namespace rampart::runner
