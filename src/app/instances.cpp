#include "app/instances.hpp"

#include "common/log.hpp"
#include "model/run_codec.hpp"

#include <boost/json/serialize.hpp>

#include <set>

namespace rampart::app {

namespace {

constexpr std::chrono::seconds kResync{1};

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
    if (v.run &&
        (in_split.contains(v.name) || wanted_by_rollout(v.name, latest_rollout, now_ms))) {
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
  auto snapshot = control::read_snapshot(store_);
  if (!snapshot) {
    return snapshot.error();
  }
  const std::int64_t now = options_.now_ms();
  std::vector<runner::FleetVersion> desired;
  for (const auto& state : snapshot->services) {
    std::optional<model::Rollout> latest;
    if (auto r = rollouts_.latest(state.service.name)) {
      latest = std::move(*r);
    } else if (r.error().code != Errc::kNotFound) {
      return r.error();
    }
    for (const auto& v : wanted_versions(state, latest, now)) {
      desired.push_back(fleet_version(v));
    }
  }
  fleet_.reconcile(std::move(desired));
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
