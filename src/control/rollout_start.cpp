#include "control/rollout_start.hpp"

#include "common/duration.hpp"
#include "config/config.hpp"
#include "model/codec.hpp"
#include "rollout/strategy.hpp"

#include <fmt/format.h>

#include <set>

namespace rampart::control::detail {
namespace {

// `urls` normalized as apply stores a version's upstreams; kInvalidArgument "upstreams: ...".
Result<std::vector<std::string>> normalized_upstreams(const std::vector<std::string>& urls) {
  std::vector<std::string> out;
  for (const auto& url : urls) {
    auto parsed = config::parse_upstream(url);
    if (!parsed) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("upstreams: {}", parsed.error().message));
    }
    out.push_back(parsed->url);
  }
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : ", ") + i;
  }
  return out.empty() ? "none" : out;
}

// "pre-deploy commands: tests passed 1.2s, branch failed 10ms", or that they were skipped;
// empty when the CLI ran none.
std::string pre_text(const DeployRequest& req) {
  if (req.skip_checks) {
    return "pre-deploy commands skipped (--skip-checks)";
  }
  std::string out;
  for (const auto& p : req.pre) {
    out += fmt::format("{}{} {} {}", out.empty() ? "pre-deploy commands: " : ", ", p.name,
                       p.passed ? "passed" : "failed",
                       format_duration(std::chrono::milliseconds(p.ms)));
  }
  return out;
}

}  // namespace

// The version `req` declares: nullopt when it exists with the same upstreams (nothing to
// write), the new record otherwise; kConflict when it exists with other upstreams.
namespace {

Result<std::optional<model::Version>> declared_run_version(const DeployRequest& req,
                                                           const StoredService& stored,
                                                           std::int64_t now) {
  if (!req.upstreams.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "run: a version has either upstreams or a command to run, not both");
  }
  if (auto s = model::validate_run_spec(*req.run); !s) {
    return s.error();
  }
  if (req.health_path.empty() || req.health_path.front() != '/') {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("health_path: \"{}\" must start with '/'", req.health_path));
  }
  if (const auto* old = stored.find_version(req.version)) {
    if (old->version.run == req.run && old->version.health_path == req.health_path) {
      return std::optional<model::Version>{};
    }
    return make_error(Errc::kConflict,
                      fmt::format("run: version \"{}\" of service \"{}\" exists with another "
                                  "{}; versions are immutable: pick a new version name",
                                  req.version, req.service,
                                  old->version.run ? "command or settings" : "kind (upstreams)"));
  }
  model::Version v;
  v.service = req.service;
  v.name = req.version;
  v.ordinal = stored.next_ordinal();
  v.run = req.run;
  v.health_path = req.health_path;
  v.created_at = now;
  return std::optional(std::move(v));
}

}  // namespace

Result<std::optional<model::Version>> declared_version(const DeployRequest& req,
                                                       const StoredService& stored,
                                                       std::int64_t now) {
  if (req.run) {
    return declared_run_version(req, stored, now);
  }
  auto upstreams = normalized_upstreams(req.upstreams);
  if (!upstreams) {
    return upstreams.error();
  }
  if (const auto* old = stored.find_version(req.version)) {
    const auto& had = old->version.upstreams;
    if (std::set(had.begin(), had.end()) == std::set(upstreams->begin(), upstreams->end())) {
      return std::optional<model::Version>{};
    }
    return make_error(Errc::kConflict,
                      fmt::format("upstreams: version \"{}\" of service \"{}\" exists with "
                                  "upstreams {}, not {}; versions are immutable: pick a new "
                                  "version name for these upstreams",
                                  req.version, req.service, joined(had), joined(*upstreams)));
  }
  model::Version v;
  v.service = req.service;
  v.name = req.version;
  v.ordinal = stored.next_ordinal();
  v.upstreams = std::move(*upstreams);
  v.created_at = now;
  return std::optional(std::move(v));
}

// The audit event's details of a start: the rollout, and how its gates went.
boost::json::object start_details(const DeployRequest& req, const model::Rollout& r,
                                  const std::optional<model::Version>& declared,
                                  const std::optional<std::string>& refused) {
  boost::json::object o = model::to_json(r);
  boost::json::array pre;
  for (const auto& p : req.pre) {
    pre.push_back(boost::json::object{{"name", p.name}, {"passed", p.passed}, {"ms", p.ms}});
  }
  o["pre"] = std::move(pre);
  o["skip_checks"] = req.skip_checks;
  o["forced"] = refused ? boost::json::value(*refused) : boost::json::value(nullptr);
  o["declared_version"] =
      declared ? boost::json::value(model::to_json(*declared)) : boost::json::value(nullptr);
  return o;
}

std::string created_reason(const DeployRequest& req, const model::Rollout& r, bool declared,
                           const std::optional<std::string>& refused) {
  std::string out = fmt::format("{} from {}: {}", r.plan.version, r.plan.stable,
                                rollout::describe(r.plan.strategy.steps));
  if (declared && req.run) {
    out += fmt::format("; version {} declared to run {} instance(s) of {}", r.plan.version,
                       req.run->instances, req.run->argv.front());
  } else if (declared) {
    out += fmt::format("; version {} declared with upstreams {}", r.plan.version,
                       joined(req.upstreams));
  }
  if (const std::string pre = pre_text(req); !pre.empty()) {
    out += "; " + pre;
  }
  if (refused) {
    out += "; forced: " + *refused;
  }
  return out;
}

std::string start_action(const DeployRequest& req, bool forced) {
  if (forced) {
    return "rollout.start.forced";
  }
  return req.skip_checks ? "rollout.start.unchecked" : "rollout.start";
}

}  // namespace rampart::control::detail
