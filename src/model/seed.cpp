#include "model/seed.hpp"

#include "model/validate.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart::model {

namespace {

StickyKind from_config(config::StickyKind kind) {
  switch (kind) {
    case config::StickyKind::kIp:
      return StickyKind::kIp;
    case config::StickyKind::kHeader:
      return StickyKind::kHeader;
    case config::StickyKind::kCookie:
      return StickyKind::kCookie;
    case config::StickyKind::kNone:
      return StickyKind::kNone;
  }
  return StickyKind::kIp;
}

config::StickyKind to_config_kind(StickyKind kind) {
  switch (kind) {
    case StickyKind::kIp:
      return config::StickyKind::kIp;
    case StickyKind::kHeader:
      return config::StickyKind::kHeader;
    case StickyKind::kCookie:
      return config::StickyKind::kCookie;
    case StickyKind::kNone:
      return config::StickyKind::kNone;
  }
  return config::StickyKind::kIp;
}

Balance from_config(config::Balance balance) {
  return balance == config::Balance::kRoundRobin ? Balance::kRoundRobin : Balance::kLeastRequest;
}

config::Balance to_config_balance(Balance balance) {
  return balance == Balance::kRoundRobin ? config::Balance::kRoundRobin
                                         : config::Balance::kLeastRequest;
}

}  // namespace

std::vector<SeedService> seed_from_config(const config::Config& config) {
  std::vector<SeedService> out;
  out.reserve(config.services.size());
  for (const auto& cs : config.services) {
    SeedService seed;
    Service& s = seed.service;
    s.name = cs.name;
    for (const auto& route : cs.routes) {
      s.routes.push_back(Route{route.host, route.path_prefix});
    }
    s.sticky = Sticky{from_config(cs.sticky.kind), cs.sticky.name};
    s.salt = cs.salt;
    s.balance = from_config(cs.balance);
    s.eject_after = cs.eject_after;
    s.eject_for_ms = cs.eject_for_ms;
    s.rollout = cs.rollout;
    for (const auto& cv : cs.versions) {
      Version v;
      v.service = cs.name;
      v.name = cv.name;
      for (const auto& upstream : cv.upstreams) {
        v.upstreams.push_back(upstream.url);
      }
      v.health_path = cv.health_path;
      v.run = cv.run;
      seed.versions.push_back(std::move(v));
    }
    for (const auto& entry : cs.split) {
      seed.split.push_back(SplitEntry{entry.version, entry.basis_points});
    }
    out.push_back(std::move(seed));
  }
  return out;
}

namespace {

Status check_routes_and_sticky(const Service& s) {
  if (s.routes.empty()) {
    return make_error(Errc::kInternal, "it has no route");
  }
  for (const auto& route : s.routes) {
    if (route.path_prefix.empty() || route.path_prefix.front() != '/') {
      return make_error(Errc::kInternal,
                        fmt::format("route \"{}{}\" has a path prefix that does not start with /",
                                    route.host, route.path_prefix));
    }
  }
  const bool named = s.sticky.kind == StickyKind::kHeader || s.sticky.kind == StickyKind::kCookie;
  if (named && s.sticky.name.empty()) {
    return make_error(Errc::kInternal, "its sticky header or cookie has no name");
  }
  return {};
}

Result<config::Version> served_version(const Version& v, const InstanceAddresses& instances) {
  if (v.run) {
    // Its ready instances, which may be none yet: that share is answered 503 until one is.
    config::Version cv;
    cv.name = v.name;
    for (const auto& url : instances ? instances(v.service, v.name) : std::vector<std::string>{}) {
      if (auto upstream = config::parse_upstream(url)) {
        cv.upstreams.push_back(*upstream);
      }
    }
    return cv;
  }
  if (v.upstreams.empty()) {
    return make_error(Errc::kInternal, fmt::format("version \"{}\" has no upstreams", v.name));
  }
  config::Version cv;
  cv.name = v.name;
  for (const auto& url : v.upstreams) {
    auto upstream = config::parse_upstream(url);
    if (!upstream) {
      return make_error(Errc::kInternal,
                        fmt::format("version \"{}\": {}", v.name, upstream.error().message));
    }
    cv.upstreams.push_back(*upstream);
  }
  return cv;
}

// One deployed service as the gateway serves it. REQUIRES: state.latest.
Result<config::Service> served_service(const ServiceState& state,
                                       const InstanceAddresses& instances) {
  const Service& s = state.service;
  if (auto st = check_routes_and_sticky(s); !st) {
    return st.error();
  }
  if (auto st = validate_split(s.name, state.latest->split, state.versions); !st) {
    return make_error(Errc::kInternal,
                      fmt::format("deployment {}: {}", state.latest->id, st.error().message));
  }
  config::Service cs;
  cs.name = s.name;
  for (const auto& route : s.routes) {
    cs.routes.push_back(config::Route{route.host, route.path_prefix});
  }
  cs.sticky = config::Sticky{to_config_kind(s.sticky.kind), s.sticky.name};
  cs.salt = s.salt;
  cs.balance = to_config_balance(s.balance);
  cs.eject_after = s.eject_after;
  cs.eject_for_ms = s.eject_for_ms;
  cs.rollout = s.rollout;
  for (const auto& entry : state.latest->split) {
    auto v =
        std::find_if(state.versions.begin(), state.versions.end(),
                     [&](const Version& candidate) { return candidate.name == entry.version; });
    auto cv = served_version(*v, instances);  // validate_split() found it
    if (!cv) {
      return cv.error();
    }
    cs.versions.push_back(std::move(*cv));
    cs.split.push_back(config::SplitEntry{entry.version, entry.basis_points});
  }
  return cs;
}

}  // namespace

ServedConfig to_config(const Snapshot& snapshot, const config::Config& base,
                       const InstanceAddresses& instances) {
  ServedConfig out;
  out.config.server = base.server;
  out.config.limits = base.limits;
  out.problems = snapshot.problems;
  for (const auto& state : snapshot.services) {
    if (!state.latest) {
      continue;
    }
    auto cs = served_service(state, instances);
    if (!cs) {
      out.problems.push_back(ServiceProblem{state.service.name, cs.error().message});
      continue;
    }
    out.config.services.push_back(std::move(*cs));
  }
  std::stable_sort(
      out.problems.begin(), out.problems.end(),
      [](const ServiceProblem& a, const ServiceProblem& b) { return a.service < b.service; });
  return out;
}

}  // namespace rampart::model
