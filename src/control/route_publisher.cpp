#include "control/route_publisher.hpp"

#include "common/log.hpp"
#include "control/deployment_service.hpp"

#include <chrono>
#include <utility>

namespace rampart::control {

RoutePublisher::RoutePublisher(store::Store& store, config::Config base, Sink sink)
    : store_(store), sink_(std::move(sink)), base_(std::move(base)) {
  base_.services.clear();
}

RoutePublisher::~RoutePublisher() { subscription_.reset(); }

Status RoutePublisher::start() {
  {
    std::lock_guard lock(mutex_);
    if (auto s = refresh_locked(/*force=*/true); !s) {
      return s;
    }
  }
  subscription_ = store_.subscribe([this](std::int64_t) {
    // Errors are kept in last_error_ (and logged) by refresh_locked.
    std::lock_guard lock(mutex_);
    (void)refresh_locked(/*force=*/false);
  });
  // A commit between the first read and the subscription would otherwise wait for the next.
  std::lock_guard lock(mutex_);
  return refresh_locked(/*force=*/false);
}

void RoutePublisher::set_base(config::Config base) {
  base.services.clear();
  std::lock_guard lock(mutex_);
  base_ = std::move(base);
  base_changed_ = true;
}

void RoutePublisher::set_instances(model::InstanceAddresses instances) {
  std::lock_guard lock(mutex_);
  instances_ = std::move(instances);
}

config::Config RoutePublisher::base() const {
  std::lock_guard lock(mutex_);
  return base_;
}

Status RoutePublisher::refresh(bool force) {
  std::lock_guard lock(mutex_);
  return refresh_locked(force);
}

RoutePublisher::Stats RoutePublisher::stats() const {
  std::lock_guard lock(mutex_);
  Stats s;
  s.revision = served_ ? served_->revision : 0;
  s.publications = publications_;
  s.last_error = last_error_;
  s.problems = problems_;
  s.durations = durations_;
  return s;
}

Status RoutePublisher::refresh_locked(bool force) {
  const auto started = std::chrono::steady_clock::now();
  force = force || base_changed_;
  auto fail = [&](const Error& e) -> Status {
    if (last_error_ != e.message) {
      log::error("the gateway keeps serving store revision {}: {}", served_ ? served_->revision : 0,
                 e.message);
    }
    last_error_ = e.message;
    return e;
  };
  auto snapshot = read_snapshot(store_);
  if (!snapshot) {
    return fail(snapshot.error());
  }
  if (served_ && snapshot->revision <= served_->revision && !force) {
    return {};  // a coalesced or racing notification: already served
  }
  if (!force && served_ && served_->services == snapshot->services &&
      served_->problems == snapshot->problems) {
    served_->revision = snapshot->revision;  // the commit did not touch what is served
    last_error_.clear();
    return {};
  }
  model::ServedConfig served = model::to_config(*snapshot, base_, instances_);
  keep_last_good(served);
  sink_(served.config);
  if (served.problems != problems_) {
    for (const auto& p : served.problems) {
      log::error("service \"{}\" cannot be served as stored at revision {}: {}", p.service,
                 snapshot->revision, p.problem);
    }
  }
  problems_ = std::move(served.problems);
  served_ = std::move(*snapshot);
  base_changed_ = false;
  ++publications_;
  last_error_.clear();
  durations_.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now() - started)
                                                   .count()));
  return {};
}

void RoutePublisher::keep_last_good(model::ServedConfig& served) {
  std::map<std::string, config::Service, std::less<>> good;
  for (const auto& s : served.config.services) {
    good.emplace(s.name, s);
  }
  for (auto& p : served.problems) {
    auto it = last_good_.find(p.service);
    if (it == last_good_.end() || good.contains(p.service)) {
      continue;
    }
    p.problem += "; it is served as it was last published";
    good.emplace(it->first, it->second);
    served.config.services.push_back(it->second);
  }
  last_good_ = std::move(good);
}

}  // namespace rampart::control
