#include "runner/supervisor.hpp"

#include "common/log.hpp"
#include "control/http_probe.hpp"

#include <algorithm>

namespace rampart::runner {
namespace {

using std::chrono::milliseconds;

// How often the thread looks at its instances, and probes one that is not ready yet.
constexpr milliseconds kTick{50};
constexpr unsigned kMaxInstances = 64;

Status check_options(const SupervisorOptions& options) {
  if (options.instances == 0 || options.instances > kMaxInstances) {
    return make_error(Errc::kInvalidArgument,
                      options.name + ": instances: " + std::to_string(options.instances) +
                          " is not 1 to " + std::to_string(kMaxInstances));
  }
  if (options.health_path.empty() || options.health_path.front() != '/') {
    return make_error(Errc::kInvalidArgument, options.name + ": health: '" + options.health_path +
                                                  "' is not a path; give one like \"/health\"");
  }
  if (options.log_dir.empty()) {
    return make_error(Errc::kInvalidArgument,
                      options.name + ": log_dir: empty; give the directory for its logs");
  }
  return {};
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    out += "\n  ";
    out += line;
  }
  return out.empty() ? "\n  (nothing)" : out;
}

}  // namespace

struct Supervisor::Slot {
  InstanceSnapshot view;               // guarded by mutex_
  std::unique_ptr<Instance> instance;  // the thread's; null while waiting for a restart
  Clock::time_point started;           // or when it stopped being ready: start_timeout from here
  Clock::time_point next_probe;
  Clock::time_point ready_since;
  Clock::time_point restart_at;
  unsigned failed_probes = 0;
  unsigned start_attempts = 0;  // while start() waits
  std::string last_probe;       // what the last failed health check saw
  milliseconds next_backoff{0};
};

Supervisor::Supervisor(SupervisorOptions options) : options_(std::move(options)) {
  slots_.resize(std::clamp(options_.instances, 1u, kMaxInstances));
  for (unsigned i = 0; i < slots_.size(); ++i) {
    slots_[i].view.index = options_.first_index + i;
    slots_[i].next_backoff = options_.backoff.initial;
  }
}

Supervisor::~Supervisor() { stop(); }

Status Supervisor::start() {
  if (auto ok = check_options(options_); !ok) {
    return ok.error();
  }
  std::unique_lock lock(mutex_);
  if (thread_.joinable() || started_ || start_error_ || stopping_) {
    return make_error(Errc::kConflict, options_.name + ": start() is for a new supervisor only");
  }
  thread_ = std::thread([this] { run(); });
  changed_.wait(lock, [this] { return started_ || start_error_.has_value(); });
  if (start_error_) {
    lock.unlock();
    thread_.join();
    return *start_error_;
  }
  return {};
}

void Supervisor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

VersionSnapshot Supervisor::snapshot() const {
  std::lock_guard lock(mutex_);
  VersionSnapshot out;
  for (const auto& slot : slots_) {
    out.instances.push_back(slot.view);
  }
  out.restarts = restarts_;
  const auto since = Clock::now() - options_.churn.window;
  const auto recent = std::count_if(restart_times_.begin(), restart_times_.end(),
                                    [since](auto t) { return t >= since; });
  out.churning = static_cast<unsigned>(recent) > options_.churn.restarts;
  return out;
}

InstanceOptions Supervisor::instance_options(unsigned index) const {
  return InstanceOptions{options_.command,
                         options_.log_dir / ("instance-" + std::to_string(index) + ".log"),
                         options_.log_limits};
}

void Supervisor::run() {
  if (start_instances()) {
    std::unique_lock lock(mutex_);
    while (!stopping_ && !start_error_) {
      lock.unlock();
      const auto now = Clock::now();
      for (auto& slot : slots_) {
        supervise(slot, now);
      }
      lock.lock();
      const bool all_ready =
          std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.view.ready; });
      if (!started_ && all_ready) {
        started_ = true;
        log::info("{}: {} instance(s) ready", options_.name, slots_.size());
        changed_.notify_all();
      }
      changed_.wait_for(lock, kTick, [this] { return stopping_; });
    }
  }
  stop_all();
  changed_.notify_all();
}

bool Supervisor::start_instances() {
  const auto now = Clock::now();
  for (unsigned i = 0; i < slots_.size(); ++i) {
    auto& slot = slots_[i];
    auto instance = Instance::start(instance_options(slot.view.index));
    std::lock_guard lock(mutex_);
    if (!instance) {
      start_error_ = Error{instance.error().code, options_.name + " instance " + std::to_string(i) +
                                                      ": " + instance.error().message};
      return false;
    }
    slot.instance = std::move(*instance);
    slot.view.pid = slot.instance->pid();
    slot.view.port = slot.instance->port();
    slot.view.started_at = slot.instance->started_at();
    slot.started = now;
    slot.next_probe = now;
  }
  return true;
}

void Supervisor::supervise(Slot& slot, Clock::time_point now) {
  if (!slot.instance) {
    if (now >= slot.restart_at) {
      restart(slot, now);
    }
    return;
  }
  if (auto status = slot.instance->poll()) {
    on_exit(slot, *status, now);
    return;
  }
  check_health(slot, now);
}

void Supervisor::check_health(Slot& slot, Clock::time_point now) {
  if (now < slot.next_probe) {
    return;
  }
  const auto probe = control::http_get("127.0.0.1", slot.instance->port(), options_.health_path, {},
                                       options_.probe_timeout);
  const bool healthy = probe.status >= 200 && probe.status < 300;
  now = Clock::now();
  std::unique_lock lock(mutex_);
  if (healthy) {
    slot.failed_probes = 0;
    if (!slot.view.ready) {
      slot.view.ready = true;
      slot.ready_since = now;
    } else if (now - slot.ready_since >= options_.backoff.reset_after) {
      slot.next_backoff = options_.backoff.initial;
    }
  } else {
    slot.last_probe = probe.status != 0 ? "status " + std::to_string(probe.status) : probe.error;
    if (slot.view.ready && ++slot.failed_probes >= options_.unhealthy_after) {
      slot.view.ready = false;
      slot.started = now;
      log::warn("{} instance {}: not ready after {} failed health checks ({})", options_.name,
                slot.view.index, slot.failed_probes, slot.last_probe);
    }
  }
  slot.next_probe = now + (slot.view.ready ? options_.probe_interval : kTick);
  if (slot.view.ready || now - slot.started < options_.start_timeout) {
    return;
  }
  const std::string why = "not healthy within " + std::to_string(options_.start_timeout.count()) +
                          " ms (last check: " + slot.last_probe + ")";
  if (!started_) {
    fail_start(slot, "never became healthy: " + why);
    return;
  }
  log::warn("{} instance {} on port {}: {}; restarting it", options_.name, slot.view.index,
            slot.view.port, why);
  // Stopping waits up to the grace; the lock is not needed for it.
  lock.unlock();
  const auto status = slot.instance->stop(options_.grace);
  lock.lock();
  slot.view.last_exit = status;
  slot.view.pid = 0;
  slot.instance.reset();
  slot.restart_at = Clock::now();
}

void Supervisor::on_exit(Slot& slot, const ExitStatus& status, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  slot.view.ready = false;
  slot.view.last_exit = status;
  slot.view.pid = 0;
  if (!started_ && ++slot.start_attempts < options_.start_attempts) {
    // Perhaps it lost its port to another process (see Instance): again, on a fresh port.
    log::warn("{} instance {} on port {}: exited while starting ({}); starting it again",
              options_.name, slot.view.index, slot.view.port, status.text());
    slot.instance.reset();
    slot.restart_at = now;
    return;
  }
  if (!started_) {
    fail_start(slot, "exited before it was healthy (" + status.text() + ")");
    return;
  }
  slot.view.backoff = slot.next_backoff;
  slot.restart_at = now + slot.next_backoff;
  slot.next_backoff = std::min(slot.next_backoff * 2, options_.backoff.max);
  log::warn("{} instance {}: {}; restarting in {} ms", options_.name, slot.view.index,
            status.text(), slot.view.backoff.count());
  slot.instance.reset();
}

void Supervisor::restart(Slot& slot, Clock::time_point now) {
  auto instance = Instance::start(instance_options(slot.view.index));
  std::lock_guard lock(mutex_);
  if (started_) {
    count_restart(now);
    ++slot.view.restarts;
  } else if (!instance) {
    start_error_ = Error{instance.error().code, options_.name + " instance " +
                                                    std::to_string(slot.view.index) + ": " +
                                                    instance.error().message};
    return;
  }
  if (!instance) {
    // The command went away (a deleted binary, a removed workdir): keep trying, backing off.
    log::warn("{} instance {}: {}", options_.name, slot.view.index, instance.error().message);
    slot.view.backoff = slot.next_backoff;
    slot.restart_at = now + slot.next_backoff;
    slot.next_backoff = std::min(slot.next_backoff * 2, options_.backoff.max);
    return;
  }
  slot.instance = std::move(*instance);
  slot.view.pid = slot.instance->pid();
  slot.view.port = slot.instance->port();
  slot.view.started_at = slot.instance->started_at();
  slot.started = now;
  slot.next_probe = now;
  slot.failed_probes = 0;
}

void Supervisor::fail_start(Slot& slot, const std::string& why) {
  const auto lines = slot.instance ? slot.instance->log_tail(options_.error_log_lines)
                                   : std::vector<std::string>{};
  start_error_ =
      Error{Errc::kUnavailable, options_.name + " instance " + std::to_string(slot.view.index) +
                                    " on port " + std::to_string(slot.view.port) + ": " + why +
                                    "; its last log lines:" + join_lines(lines)};
}

void Supervisor::count_restart(Clock::time_point now) {
  ++restarts_;
  restart_times_.push_back(now);
  while (!restart_times_.empty() && restart_times_.front() < now - options_.churn.window) {
    restart_times_.pop_front();
  }
  if (restart_times_.size() == options_.churn.restarts + 1) {
    log::warn("{}: {} restarts within {} ms: the version is churning", options_.name,
              restart_times_.size(), options_.churn.window.count());
  }
}

void Supervisor::stop_all() {
  // In parallel, so that stopping n instances takes one grace, not n.
  std::vector<std::thread> stoppers;
  std::vector<std::optional<ExitStatus>> statuses(slots_.size());
  for (unsigned i = 0; i < slots_.size(); ++i) {
    if (slots_[i].instance) {
      stoppers.emplace_back(
          [this, i, &statuses] { statuses[i] = slots_[i].instance->stop(options_.grace); });
    }
  }
  for (auto& t : stoppers) {
    t.join();
  }
  std::lock_guard lock(mutex_);
  for (unsigned i = 0; i < slots_.size(); ++i) {
    slots_[i].instance.reset();
    slots_[i].view.ready = false;
    slots_[i].view.pid = 0;
    if (statuses[i]) {
      slots_[i].view.last_exit = statuses[i];
    }
  }
}

}  // namespace rampart::runner
