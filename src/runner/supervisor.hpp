#pragma once
// Keeps `instances` instances of one version's command running and says which are ready.
//
// start() launches every instance and returns once each answers its health path with a 2xx, or
// fails — a command that does not exist, an instance that exits before it is healthy (on each
// of start_attempts tries, each on a fresh port), or one
// that is not healthy within start_timeout — with kUnavailable (kInvalidArgument for a bad
// command) and the instance's last log lines in the message; nothing is left running then.
//
// After start(), an instance that exits is restarted after a backoff (initial, doubling up to
// max, back to initial once it has been ready for reset_after); one that fails
// unhealthy_after health checks in a row stops being ready (it leaves the route, once wired)
// and is restarted when it has not become ready again within start_timeout. Every restart is
// counted; more than churn.restarts within churn.window logs a warning and sets churning in the
// snapshot. stop() stops every instance with the grace (SIGTERM, SIGKILL after it); draining
// traffic first is the gateway's part.
//
// Thread model: one thread per version, started by start() and joined by stop(). A version's
// health checks block (http_get, up to probe_timeout each) and its stops wait up to the grace;
// on a thread of its own, a slow or crashing version never delays another's restarts, and
// rampart runs few versions at a time (the current one, the previous one for its rollback
// window). The thread also forks every instance, and PR_SET_PDEATHSIG is tied to the forking
// thread, so it lives until every instance it started is stopped.
//
// Options that make no sense (0 or over 64 instances, a health path without '/', no log_dir)
// fail start() with kInvalidArgument before anything starts.
//
// Thread safety: snapshot() from any thread; start() (once: kConflict after) and stop() from
// one owning thread.

#include "common/result.hpp"
#include "runner/instance.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rampart::runner {

struct Backoff {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30000};
  std::chrono::milliseconds reset_after{60000};  // ready this long: back to initial
};

struct ChurnLimit {
  unsigned restarts = 5;                    // more than this many ...
  std::chrono::milliseconds window{60000};  // ... within this window: a warning
};

struct SupervisorOptions {
  std::string name;  // "shop/v2": in log lines and errors
  Command command;
  unsigned instances = 1;               // 1 to 64
  unsigned first_index = 0;             // the instances are numbered from it (logs, snapshot)
  std::string health_path = "/health";  // must start with '/'
  std::chrono::milliseconds grace{10000};
  std::chrono::milliseconds start_timeout{10000};
  // While start() waits, an instance that exits is started again (on a fresh port) until it
  // has been tried this many times: one lost port race must not fail a deploy.
  unsigned start_attempts = 2;
  std::chrono::milliseconds probe_interval{1000};  // between checks of a ready instance
  std::chrono::milliseconds probe_timeout{1000};
  unsigned unhealthy_after = 3;
  Backoff backoff;
  ChurnLimit churn;
  std::filesystem::path log_dir;  // required: instance-<i>.log in it
  LogLimits log_limits;
  std::size_t error_log_lines = 20;  // log lines in a start failure
};

struct InstanceSnapshot {
  unsigned index = 0;
  pid_t pid = 0;  // 0 while waiting for a restart
  unsigned short port = 0;
  std::chrono::system_clock::time_point started_at;
  bool ready = false;
  unsigned restarts = 0;
  std::chrono::milliseconds backoff{0};  // the delay before its next restart
  std::optional<ExitStatus> last_exit;
};

struct VersionSnapshot {
  std::vector<InstanceSnapshot> instances;
  unsigned restarts = 0;  // over all instances, since start()
  bool churning = false;  // more than churn.restarts within churn.window, now
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options);
  ~Supervisor();  // stop()
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  Status start();
  VersionSnapshot snapshot() const;
  void stop();

 private:
  struct Slot;
  using Clock = std::chrono::steady_clock;

  void run();
  bool start_instances();  // false: a start failure is recorded
  void supervise(Slot& slot, Clock::time_point now);
  void check_health(Slot& slot, Clock::time_point now);
  void on_exit(Slot& slot, const ExitStatus& status, Clock::time_point now);
  void restart(Slot& slot, Clock::time_point now);
  void fail_start(Slot& slot, const std::string& why);  // REQUIRES: mutex_ is held
  void count_restart(Clock::time_point now);            // REQUIRES: mutex_ is held
  void stop_all();
  InstanceOptions instance_options(unsigned index) const;

  const SupervisorOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Slot> slots_;                      // guarded by mutex_ (instances: thread only)
  std::deque<Clock::time_point> restart_times_;  // within churn.window; guarded by mutex_
  unsigned restarts_ = 0;                        // guarded by mutex_
  bool started_ = false;                         // every instance was ready once
  std::optional<Error> start_error_;             // guarded by mutex_
  bool stopping_ = false;                        // guarded by mutex_
  std::thread thread_;
};

}  // namespace rampart::runner
