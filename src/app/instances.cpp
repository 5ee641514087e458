#include "app/instances.hpp"

#include "common/log.hpp"
#include "model/run_codec.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace rampart::app {

namespace {

constexpr std::chrono::seconds kResync{1};
// How long a change waits for the instances it gives traffic to.
constexpr std::chrono::seconds kPrepareWait{30};

bool wanted_by_rollout(const std::string& version, const std::optional<model::Rollout>& r,
                       std::int64_t now_ms) {
  if (!r) {
    return false;
  }
  const auto phase = r->progress.phase;
  if (!rollout::is_final(phase)) {
    return version == r->plan.version || version == r->plan.stable;
  }
  return phase == rollout::Phase::kPromoted && version == r->plan.stable &&
         r->progress.ready_until_ms > now_ms;
}

}  // namespace

std::vector<model::Version> wanted_versions(const model::ServiceState& state,
                                            const std::optional<model::Rollout>& latest_rollout,
                                            std::int64_t now_ms) {
  std::set<std::string> in_split;
  if (state.latest) {
    for (const auto& entry : state.latest->split) {
      if (entry.basis_points > 0) {
        in_split.insert(entry.version);
      }
    }
  }
  std::vector<model::Version> out;
  for (const auto& v : state.versions) {
    if (v.run && (in_split.contains(v.name) || wanted_by_rollout(v.name, latest_rollout, now_ms))) {
      out.push_back(v);
    }
  }
  return out;
}

InstanceSync::InstanceSync(store::Store& store, control::RolloutService& rollouts,
                           runner::Fleet& fleet, Options options)
    : store_(store), rollouts_(rollouts), fleet_(fleet), options_(std::move(options)) {}

InstanceSync::~InstanceSync() { stop(); }

Status InstanceSync::start() {
  if (auto s = sync(); !s) {
    return s;
  }
  subscription_ = store_.subscribe([this](std::int64_t) {
    std::lock_guard lock(mutex_);
    dirty_ = true;
    cv_.notify_all();
  });
  thread_ = std::thread([this] { loop(); });
  return {};
}

void InstanceSync::stop() {
  subscription_.reset();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void InstanceSync::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, kResync, [this] { return dirty_ || stopping_; });
    if (stopping_) {
      break;
    }
    dirty_ = false;
    lock.unlock();
    if (auto s = sync(); !s && s.error().message != last_error_) {
      log::error("the instances keep their last desired state: {}", s.error().message);
      last_error_ = s.error().message;
    } else if (s) {
      last_error_.clear();
    }
    lock.lock();
  }
}

Status InstanceSync::sync() {
  std::lock_guard serial(sync_mutex_);
  auto snapshot = control::read_snapshot(store_);
  if (!snapshot) {
    return snapshot.error();
  }
  const std::int64_t now = options_.now_ms();
  std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> prepared;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(prepared_,
                  [](const auto& p) { return p.second < std::chrono::steady_clock::now(); });
    prepared = prepared_;
  }
  std::vector<runner::FleetVersion> desired;
  for (const auto& state : snapshot->services) {
    std::optional<model::Rollout> latest;
    if (auto r = rollouts_.latest(state.service.name)) {
      latest = std::move(*r);
    } else if (r.error().code != Errc::kNotFound) {
      return r.error();
    }
    auto wanted = wanted_versions(state, latest, now);
    for (const auto& v : state.versions) {
      const bool listed = std::any_of(wanted.begin(), wanted.end(),
                                      [&](const model::Version& w) { return w.name == v.name; });
      if (v.run && !listed && prepared.contains({v.service, v.name})) {
        wanted.push_back(v);
      }
    }
    for (const auto& v : wanted) {
      desired.push_back(fleet_version(v));
    }
  }
  fleet_.reconcile(std::move(desired));
  return {};
}

Status InstanceSync::prepare(const std::string& service, const std::vector<std::string>& versions) {
  auto snapshot = control::read_snapshot(store_);
  if (!snapshot) {
    return snapshot.error();
  }
  std::vector<std::string> run;
  for (const auto& state : snapshot->services) {
    if (state.service.name != service) {
      continue;
    }
    for (const auto& v : state.versions) {
      if (v.run && std::find(versions.begin(), versions.end(), v.name) != versions.end()) {
        run.push_back(v.name);
      }
    }
  }
  if (run.empty()) {
    return {};
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& v : run) {
      prepared_[{service, v}] = std::chrono::steady_clock::now() + kPreparedFor;
    }
  }
  if (auto s = sync(); !s) {
    return s;
  }
  const auto deadline = std::chrono::steady_clock::now() + kPrepareWait;
  const std::atomic<bool> never{false};
  for (const auto& v : run) {
    if (auto s = fleet_.wait_running(service, v, deadline, never); !s) {
      return make_error(Errc::kUnavailable,
                        fmt::format("version \"{}\" of service \"{}\" is not running, so it "
                                    "cannot take traffic: {}",
                                    v, service, s.error().message));
    }
  }
  return {};
}

runner::FleetVersion InstanceSync::fleet_version(const model::Version& v) const {
  const model::RunSpec& run = *v.run;
  runner::FleetVersion out;
  out.service = v.service;
  out.version = v.name;
  out.instances = run.instances;
  out.grace = std::chrono::milliseconds(run.grace_ms);
  out.fingerprint = boost::json::serialize(model::to_json(run)) + v.health_path;
  out.options = [v, log_dir = options_.log_root / v.service / v.name,
                 secrets = options_.secrets](unsigned) -> Result<runner::SupervisorOptions> {
    runner::SupervisorOptions o;
    o.name = v.service + "/" + v.name;
    o.command.argv = v.run->argv;
    o.command.workdir = v.run->workdir;
    auto env = runner::instance_env(v.service, *v.run, secrets);
    if (!env) {
      return make_error(env.error().code, o.name + ": " + env.error().message);
    }
    o.command.env = std::move(*env);
    o.health_path = v.health_path;
    o.grace = std::chrono::milliseconds(v.run->grace_ms);
    o.log_dir = log_dir;
    return o;
  };
  return out;
}

}  // namespace rampart::app
