// The service endpoints (docs/api.md, "Services"): the services, their versions, one service's
// status (its latest deployment, analytics and live metrics), and apply, which declares them.

#include "admin/api.hpp"
#include "admin/endpoints.hpp"
#include "runner/fleet.hpp"

#include "config/config.hpp"
#include "model/policy_codec.hpp"

#include <fmt/format.h>

#include <array>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

using model::Role;
using Verb = bhttp::verb;

Result<Reply> list_services(const Call& call) {
  auto snapshot = call.deployments.snapshot();
  if (!snapshot) {
    return snapshot.error();
  }
  json::array a;
  for (const auto& s : snapshot->services) {
    a.emplace_back(api_summary(s.service, s.latest ? &*s.latest : nullptr));
  }
  return Reply{bhttp::status::ok, json::object{{"services", std::move(a)}}};
}

json::object analytics_json(const control::Analytics& a) {
  json::object o;
  o["deployments"] = a.deployments;
  o["rollbacks"] = a.rollbacks;
  o["rolled_back"] = a.rolled_back;
  o["success_rate"] = a.success_rate ? json::value(*a.success_rate) : json::value(nullptr);
  return o;
}

// One version's live counters: requests, responses by class, upstream failures, its upstreams'
// state and its latency quantiles (null before its first request).
json::object version_metrics_json(const metrics::VersionSnapshot& m) {
  json::object vm;
  vm["requests"] = m.requests();
  for (unsigned c = 1; c <= metrics::kStatusClassCount; ++c) {
    vm[fmt::format("{}xx", c)] = m.responses(c);
  }
  json::object failures;
  for (auto f : {metrics::UpstreamFailure::kConnect, metrics::UpstreamFailure::kReset,
                 metrics::UpstreamFailure::kTimeout}) {
    failures[metrics::to_string(f)] = m.upstream_failure_count(f);
  }
  vm["upstream_failures"] = std::move(failures);
  json::array upstreams;
  for (const auto& u : m.upstreams) {
    upstreams.push_back(json::object{
        {"upstream", u.upstream},
        {"state", u.problem.empty() ? "ok" : "unresolved"},
        {"problem", u.problem.empty() ? json::value(nullptr) : json::value(u.problem)}});
  }
  vm["upstreams"] = std::move(upstreams);
  for (auto [key, q] : {std::pair{"p50_ms", 0.50}, {"p95_ms", 0.95}, {"p99_ms", 0.99}}) {
    vm[key] = m.latency.count() == 0
                  ? json::value(nullptr)
                  : json::value(static_cast<double>(m.latency.quantile(q)) / 1e6);
  }
  return vm;
}

json::object service_metrics_json(const metrics::Registry& registry, std::string_view service) {
  json::object metrics;
  for (const auto& m : registry.snapshot_versions()) {
    if (m.service == service) {
      metrics[m.version] = version_metrics_json(m);
    }
  }
  return metrics;
}

Result<Reply> get_service(const Call& call) {
  const std::string& name = call.params[0];
  auto& deployments = call.deployments;
  auto service = deployments.service(name);
  if (!service) {
    return service.error();
  }
  auto versions = deployments.versions(name);
  if (!versions) {
    return versions.error();
  }
  auto latest = deployments.latest(name);
  if (!latest && latest.error().code != Errc::kNotFound) {
    return latest.error();
  }
  auto checkpoints = deployments.checkpoints(name);
  if (!checkpoints) {
    return checkpoints.error();
  }
  auto analytics = deployments.analytics(name);
  if (!analytics) {
    return analytics.error();
  }
  json::object o = api_summary(*service, latest ? &*latest : nullptr);
  o["rollout"] = model::to_json(service->rollout);  // what `deploy` runs and prints first
  o["versions"] = api_list(*versions);
  if (call.extensions.fleet != nullptr) {
    // A version rampart runs shows its instances (none yet: it is not running).
    for (auto& v : o["versions"].as_array()) {
      auto& version = v.as_object();
      if (!version.contains("run")) {
        continue;
      }
      auto status =
          call.extensions.fleet->status(name, std::string_view(version["name"].as_string()));
      version["instances"] =
          status ? json::value(fleet_version_json(*status, call.extensions.gateway)) : nullptr;
    }
  }
  o["checkpoints"] = checkpoints->size();
  o["analytics"] = analytics_json(*analytics);
  o["metrics"] = service_metrics_json(call.registry, name);
  return Reply{bhttp::status::ok, std::move(o)};
}

Result<Reply> list_versions(const Call& call) {
  auto versions = call.deployments.versions(call.params[0]);
  if (!versions) {
    return versions.error();
  }
  return Reply{bhttp::status::ok, json::object{{"versions", api_list(*versions)}}};
}

Result<Reply> get_version(const Call& call) {
  auto versions = call.deployments.versions(call.params[0]);
  if (!versions) {
    return versions.error();
  }
  for (const auto& v : *versions) {
    if (v.name == call.params[1]) {
      return Reply{bhttp::status::ok, api_json(v)};
    }
  }
  return make_error(Errc::kNotFound, fmt::format("service \"{}\" has no version \"{}\"",
                                                 call.params[0], call.params[1]));
}

Result<Reply> apply(const Call& call) {
  auto body = body_with(call.request, {"config", "source", "message"});
  if (!body) {
    return body.error();
  }
  auto text = string_field(*body, "config");
  if (!text) {
    return text.error();
  }
  if (!*text) {
    return make_error(Errc::kInvalidArgument, "config: missing; give the text of a config file");
  }
  auto source = string_field(*body, "source");
  if (!source) {
    return source.error();
  }
  auto message = string_field(*body, "message");
  if (!message) {
    return message.error();
  }
  auto cfg = config::parse_config(**text, source->value_or("config"));
  if (!cfg) {
    // Its own code: the detail is every problem of the file, one per line.
    return Reply{bhttp::status::bad_request, json::object{{"error", "invalid_config"},
                                                          {"field", "config"},
                                                          {"detail", cfg.error().message}}};
  }
  auto applied = call.deployments.apply(*cfg, call.actor, message->value_or(""));
  if (!applied) {
    return applied.error();
  }
  return Reply{bhttp::status::ok, json::object{{"changed", applied->changed},
                                               {"revision", applied->revision},
                                               {"deployments", api_list(applied->deployments)}}};
}

constexpr std::array<Endpoint, 5> kServiceEndpoints = {{
    {Verb::get, "services", Role::kReadOnly, "", &list_services},
    {Verb::get, "services/{service}", Role::kReadOnly, "", &get_service},
    {Verb::get, "services/{service}/versions", Role::kReadOnly, "", &list_versions},
    {Verb::get, "services/{service}/versions/{version}", Role::kReadOnly, "", &get_version},
    {Verb::post, "apply", Role::kDeployer, "", &apply},
}};

}  // namespace

std::span<const Endpoint> service_endpoints() { return kServiceEndpoints; }

}  // namespace rampart::admin
