#include "runner/fleet.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart::runner {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kWatchTick{100};
constexpr milliseconds kDrainPoll{20};
constexpr milliseconds kFirstRetry{1000};
constexpr milliseconds kMaxRetry{30000};

std::string url_of(unsigned short port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace

std::string_view to_string(FleetPhase phase) {
  switch (phase) {
    case FleetPhase::kStarting:
      return "starting";
    case FleetPhase::kRunning:
      return "running";
    case FleetPhase::kFailed:
      return "failed";
    case FleetPhase::kRestarting:
      return "restarting";
    case FleetPhase::kStopping:
      return "stopping";
  }
  return "unknown";
}

struct Fleet::Member {
  unsigned id = 0;
  std::unique_ptr<Supervisor> supervisor;
  bool routed = false;  // guarded by Fleet::mutex_
};

struct Fleet::Entry {
  FleetVersion want;                             // what it runs, or is moving to
  std::string running_fingerprint;               // what its members run
  std::string failed_fingerprint;                // a spec whose restart failed: not retried
  std::vector<std::shared_ptr<Member>> members;  // guarded by mutex_
  FleetPhase phase = FleetPhase::kStarting;
  std::string error;
  unsigned next_id = 0;
  unsigned retired_restarts = 0;  // of the members replaced or stopped: restarts only grow
  bool restart = false;           // asked for: launched by the watcher once nothing else runs
  bool busy = false;              // an operation runs on `op`
  bool remove = false;            // stopped: the watcher erases it
  Clock::time_point retry_at{};
  milliseconds retry_backoff{kFirstRetry};
  std::thread op;
};

Fleet::Fleet(Hooks hooks) : hooks_(std::move(hooks)) {}

Fleet::~Fleet() { stop(); }

void Fleet::start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) {
    return;
  }
  started_ = true;
  act_on_desired();
  watcher_ = std::thread([this] { watch(); });
}

void Fleet::reconcile(std::vector<FleetVersion> desired) {
  std::lock_guard lock(mutex_);
  desired_.clear();
  for (auto& d : desired) {
    Key key{d.service, d.version};
    desired_.emplace(std::move(key), std::move(d));
  }
  if (started_ && !stopping_) {
    act_on_desired();
  }
}

void Fleet::act_on_desired() {
  const auto now = Clock::now();
  for (const auto& [key, want] : desired_) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      auto entry = std::make_unique<Entry>();
      entry->want = want;
      Entry& e = *entry;
      entries_.emplace(key, std::move(entry));
      launch(e, [this](Entry& x) { run_start(x); });
      continue;
    }
    Entry& e = *it->second;
    if (e.busy || e.remove) {
      continue;
    }
    if (e.restart) {
      e.restart = false;
      e.want = want;
      launch(e, [this](Entry& x) { run_restart(x); });
    } else if (e.phase == FleetPhase::kFailed && now >= e.retry_at) {
      e.want = want;
      launch(e, [this](Entry& x) { run_start(x); });
    } else if (e.phase == FleetPhase::kRunning && want.fingerprint != e.running_fingerprint &&
               want.fingerprint != e.failed_fingerprint) {
      e.want = want;
      launch(e, [this](Entry& x) { run_restart(x); });
    } else if (e.phase == FleetPhase::kRunning) {
      e.want.options = want.options;  // the same spec, fresh values (a rotated secret)
    }
  }
  for (auto& [key, entry] : entries_) {
    if (!desired_.contains(key) && !entry->busy && !entry->remove) {
      launch(*entry, [this](Entry& x) { run_stop(x); });
    }
  }
}

void Fleet::launch(Entry& entry, std::function<void(Entry&)> op) {
  entry.busy = true;
  if (entry.op.joinable()) {
    finished_.push_back(std::move(entry.op));
  }
  entry.op = std::thread([this, &entry, op = std::move(op)] {
    op(entry);
    std::lock_guard lock(mutex_);
    entry.busy = false;
    cv_.notify_all();
  });
}

Result<std::shared_ptr<Fleet::Member>> Fleet::start_member(Entry& entry, const FleetVersion& want) {
  unsigned id = 0;
  {
    std::lock_guard lock(mutex_);
    id = entry.next_id++;
  }
  auto made = want.options(id);
  if (!made) {
    return made.error();
  }
  SupervisorOptions options = std::move(*made);
  options.instances = 1;
  options.first_index = id;
  auto member = std::make_shared<Member>();
  member->id = id;
  member->supervisor = std::make_unique<Supervisor>(std::move(options));
  if (auto s = member->supervisor->start(); !s) {
    return s.error();
  }
  return member;
}

void Fleet::run_start(Entry& entry) {
  FleetVersion want;
  {
    std::lock_guard lock(mutex_);
    want = entry.want;
    entry.phase = FleetPhase::kStarting;
  }
  std::vector<Result<std::shared_ptr<Member>>> results(want.instances,
                                                       make_error(Errc::kInternal, "not started"));
  std::vector<std::thread> starters;
  starters.reserve(want.instances);
  for (unsigned i = 0; i < want.instances; ++i) {
    starters.emplace_back([&, i] { results[i] = start_member(entry, want); });
  }
  for (auto& t : starters) {
    t.join();
  }
  std::vector<std::shared_ptr<Member>> started;
  std::optional<Error> failure;
  for (auto& r : results) {
    if (r) {
      started.push_back(*r);
    } else if (!failure) {
      failure = r.error();
    }
  }
  if (failure) {
    for (auto& m : started) {
      m->supervisor->stop();
    }
    std::lock_guard lock(mutex_);
    entry.phase = FleetPhase::kFailed;
    entry.error = failure->message;
    entry.retry_at = Clock::now() + entry.retry_backoff;
    log::warn("{}/{}: start failed (next try in {} ms): {}", want.service, want.version,
              entry.retry_backoff.count(), failure->message);
    entry.retry_backoff = std::min(entry.retry_backoff * 2, kMaxRetry);
    cv_.notify_all();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    for (auto& m : started) {
      m->routed = true;
    }
    entry.members = std::move(started);
  }
  // The routes list the instances before the version counts as running: whoever waits for it
  // (a rollout's checks, the server's start-up) finds it served.
  notify_changed();
  {
    std::lock_guard lock(mutex_);
    entry.phase = FleetPhase::kRunning;
    entry.running_fingerprint = want.fingerprint;
    entry.error.clear();
    entry.retry_backoff = kFirstRetry;
    cv_.notify_all();
  }
  log::info("{}/{}: {} instance(s) running", want.service, want.version, want.instances);
}

void Fleet::run_restart(Entry& entry) {
  FleetVersion want;
  std::vector<std::shared_ptr<Member>> old;
  {
    std::lock_guard lock(mutex_);
    want = entry.want;
    old = entry.members;
    entry.phase = FleetPhase::kRestarting;
  }
  // As many instances as the spec wants: one old one leaves for each new one while both last.
  for (unsigned i = 0; i < std::max<std::size_t>(want.instances, old.size()); ++i) {
    if (i < want.instances) {
      auto fresh = start_member(entry, want);
      if (!fresh) {
        std::lock_guard lock(mutex_);
        entry.phase = FleetPhase::kRunning;
        entry.failed_fingerprint = want.fingerprint;
        entry.error = "restart: " + fresh.error().message;
        log::warn("{}/{}: restart stopped, the old instances keep serving: {}", want.service,
                  want.version, fresh.error().message);
        cv_.notify_all();
        return;
      }
      {
        std::lock_guard lock(mutex_);
        (*fresh)->routed = true;
        entry.members.push_back(*fresh);
      }
      notify_changed();
    }
    if (i < old.size()) {
      retire(entry, {old[i]}, /*drain=*/true);
    }
  }
  std::lock_guard lock(mutex_);
  entry.phase = FleetPhase::kRunning;
  entry.running_fingerprint = want.fingerprint;
  entry.error.clear();
  cv_.notify_all();
}

void Fleet::run_stop(Entry& entry) {
  std::vector<std::shared_ptr<Member>> all;
  {
    std::lock_guard lock(mutex_);
    entry.phase = FleetPhase::kStopping;
    all = entry.members;
  }
  retire(entry, all, /*drain=*/true);
  std::lock_guard lock(mutex_);
  entry.remove = true;
}

void Fleet::retire(Entry& entry, const std::vector<std::shared_ptr<Member>>& old, bool drain) {
  std::vector<std::string> addresses;
  milliseconds grace{0};
  {
    std::lock_guard lock(mutex_);
    for (const auto& m : old) {
      m->routed = false;
    }
    grace = entry.want.grace;
  }
  for (const auto& m : old) {
    for (const auto& i : m->supervisor->snapshot().instances) {
      if (i.port != 0) {
        addresses.push_back(url_of(i.port));
      }
    }
  }
  notify_changed();
  const auto until = Clock::now() + grace;
  while (drain && hooks_.drained && !hooks_.drained(addresses) && Clock::now() < until) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        break;
      }
    }
    std::this_thread::sleep_for(kDrainPoll);
  }
  unsigned restarts = 0;
  for (const auto& m : old) {
    restarts += m->supervisor->snapshot().restarts;
    m->supervisor->stop();  // SIGTERM, SIGKILL after the grace
  }
  std::lock_guard lock(mutex_);
  entry.retired_restarts += restarts;
  std::erase_if(entry.members, [&](const std::shared_ptr<Member>& m) {
    return std::find(old.begin(), old.end(), m) != old.end();
  });
}

std::vector<std::string> Fleet::routed_addresses(const Entry& entry) const {
  std::vector<std::string> out;
  for (const auto& m : entry.members) {
    if (!m->routed) {
      continue;
    }
    for (const auto& i : m->supervisor->snapshot().instances) {
      if (i.ready && i.pid != 0) {
        out.push_back(url_of(i.port));
      }
    }
  }
  return out;
}

std::vector<std::string> Fleet::addresses(const std::string& service,
                                          const std::string& version) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(Key{service, version});
  return it == entries_.end() ? std::vector<std::string>{} : routed_addresses(*it->second);
}

void Fleet::notify_changed() {
  if (hooks_.changed) {
    hooks_.changed();
  }
}

void Fleet::watch() {
  std::map<Key, std::vector<std::string>> seen;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, kWatchTick);
    if (stopping_) {
      break;
    }
    act_on_desired();
    std::map<Key, std::vector<std::string>> now;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second->remove && !it->second->busy) {
        if (it->second->op.joinable()) {
          finished_.push_back(std::move(it->second->op));
        }
        it = entries_.erase(it);
        continue;
      }
      now.emplace(it->first, routed_addresses(*it->second));
      ++it;
    }
    auto done = std::move(finished_);
    finished_.clear();
    lock.unlock();
    for (auto& t : done) {
      t.join();
    }
    if (now != seen) {
      seen = std::move(now);
      notify_changed();
    }
    lock.lock();
  }
}

std::optional<FleetStatus> Fleet::status(std::string_view service, std::string_view version) const {
  for (auto& s : list(service)) {
    if (s.version == version) {
      return std::move(s);
    }
  }
  return std::nullopt;
}

std::vector<FleetStatus> Fleet::list(std::string_view service) const {
  auto out = all();
  std::erase_if(out, [&](const FleetStatus& s) { return s.service != service; });
  return out;
}

std::vector<FleetStatus> Fleet::all() const {
  std::lock_guard lock(mutex_);
  std::vector<FleetStatus> out;
  for (const auto& [key, entry] : entries_) {
    FleetStatus s{key.first, key.second, entry->phase, entry->error, entry->retired_restarts,
                  false,     {}};
    for (const auto& m : entry->members) {
      const auto snap = m->supervisor->snapshot();
      s.restarts += snap.restarts;
      s.churning = s.churning || snap.churning;
      for (const auto& i : snap.instances) {
        s.instances.push_back(FleetInstance{i.index, i, m->routed});
      }
    }
    std::sort(s.instances.begin(), s.instances.end(),
              [](const FleetInstance& a, const FleetInstance& b) { return a.id < b.id; });
    out.push_back(std::move(s));
  }
  return out;
}

Status Fleet::wait_running(std::string_view service, std::string_view version,
                           Clock::time_point deadline, const std::atomic<bool>& cancelled) const {
  std::unique_lock lock(mutex_);
  const Key key{std::string(service), std::string(version)};
  while (true) {
    if (auto it = entries_.find(key); it != entries_.end()) {
      const Entry& e = *it->second;
      if (e.phase == FleetPhase::kRunning || e.phase == FleetPhase::kRestarting) {
        return {};
      }
      if (e.phase == FleetPhase::kFailed) {
        return make_error(Errc::kUnavailable, e.error);
      }
    }
    if (cancelled || stopping_) {
      return make_error(Errc::kUnavailable, "stopped waiting for the instances");
    }
    if (Clock::now() >= deadline) {
      return make_error(
          Errc::kUnavailable,
          fmt::format("{}/{}: the instances did not start in time", service, version));
    }
    cv_.wait_until(lock, std::min(deadline, Clock::now() + milliseconds(50)));
  }
}

bool Fleet::wait_started(Clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_until(lock, deadline, [this] {
    for (const auto& [key, want] : desired_) {
      auto it = entries_.find(key);
      if (it == entries_.end() || it->second->phase == FleetPhase::kStarting) {
        return false;
      }
    }
    return true;
  });
}

Status Fleet::restart(std::string_view service, std::string_view version) {
  std::lock_guard lock(mutex_);
  if (stopping_) {
    return make_error(Errc::kUnavailable, "the server is stopping");
  }
  std::vector<Entry*> chosen;
  for (auto& [key, entry] : entries_) {
    if (key.first == service && (version.empty() || key.second == version) && !entry->remove) {
      if (entry->phase != FleetPhase::kRunning) {
        return make_error(Errc::kConflict,
                          fmt::format("{}/{} is {}; restart it once it is running", key.first,
                                      key.second, to_string(entry->phase)));
      }
      chosen.push_back(entry.get());
    }
  }
  if (chosen.empty()) {
    return make_error(
        Errc::kNotFound,
        version.empty()
            ? fmt::format("service \"{}\" has no version that rampart runs", service)
            : fmt::format("rampart runs no version \"{}\" of service \"{}\"", version, service));
  }
  for (auto* entry : chosen) {
    entry->restart = true;  // the watcher starts it (at once when nothing else runs)
    entry->phase = FleetPhase::kRestarting;
  }
  cv_.notify_all();
  return {};
}

void Fleet::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) {
    watcher_.join();
  }
  std::vector<std::thread> ops;
  std::vector<std::shared_ptr<Member>> members;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, entry] : entries_) {
      if (entry->op.joinable()) {
        ops.push_back(std::move(entry->op));
      }
    }
    for (auto& t : finished_) {
      ops.push_back(std::move(t));
    }
    finished_.clear();
  }
  for (auto& t : ops) {
    t.join();
  }
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, entry] : entries_) {
      members.insert(members.end(), entry->members.begin(), entry->members.end());
    }
  }
  std::vector<std::thread> stoppers;
  stoppers.reserve(members.size());
  for (auto& m : members) {
    stoppers.emplace_back([m] { m->supervisor->stop(); });
  }
  for (auto& t : stoppers) {
    t.join();
  }
  std::lock_guard lock(mutex_);
  entries_.clear();
}

}  // namespace rampart::runner
