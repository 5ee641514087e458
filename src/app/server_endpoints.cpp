#include "app/server.hpp"
#include "app/server_state.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "metrics/prometheus.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <array>
#include <optional>
#include <utility>

namespace rampart::app {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view kVersion = "0.1.0";

json::value nullable(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

// One admin request as the endpoints below see it.
struct Call {
  const admin::Request& req;
  Server& server;
  std::string_view path;

  admin::Response error(bhttp::status st, std::string_view code, std::string_view detail) const {
    return admin::error_response(st, code, detail, req.version(), req.keep_alive());
  }
  admin::Response json(std::string body) const {
    return admin::json_response(bhttp::status::ok, std::move(body), req.version(),
                                req.keep_alive());
  }
};

// Each active rollout's phase (1 for the phase it is in), step and the new version's weight,
// as flagger_canary_status does for Flagger.
std::string rollout_metrics(Server& server) {
  auto active = server.rollouts.all_active();
  std::string out =
      "# HELP rampart_rollout_active 1 for each service's active rollout, by phase.\n"
      "# TYPE rampart_rollout_active gauge\n";
  std::string steps =
      "# HELP rampart_rollout_step The active rollout's step, from 1.\n"
      "# TYPE rampart_rollout_step gauge\n";
  std::string weights =
      "# HELP rampart_rollout_weight_percent The share the active rollout gives its new "
      "version.\n# TYPE rampart_rollout_weight_percent gauge\n";
  if (!active) {
    return out + steps + weights;
  }
  for (const model::Rollout& r : *active) {
    const std::string labels = fmt::format("service=\"{}\",rollout=\"{}\",version=\"{}\"",
                                           r.service, r.id, r.plan.version);
    out += fmt::format("rampart_rollout_active{{{},phase=\"{}\"}} 1\n", labels,
                       rollout::to_string(r.progress.phase));
    steps += fmt::format("rampart_rollout_step{{{}}} {}\n", labels, r.progress.step + 1);
    const bool serving = r.progress.phase != rollout::Phase::kPending;
    weights += fmt::format("rampart_rollout_weight_percent{{{}}} {:g}\n", labels,
                           serving ? rollout::weight_at(r.plan, r.progress.step) / 100.0 : 0.0);
  }
  return out + steps + weights;
}

// Every transition this process committed, by service and event: how often rollouts step,
// pause, promote and roll back (flagger_canary_total's counterpart).
std::string decision_metrics(const Server& server) {
  std::string out =
      "# HELP rampart_rollout_decisions_total Rollout transitions since start, by service and "
      "decision.\n# TYPE rampart_rollout_decisions_total counter\n";
  for (const auto& [key, n] : server.rollouts.decisions()) {
    out += fmt::format("rampart_rollout_decisions_total{{service=\"{}\",decision=\"{}\"}} {}\n",
                       key.first, key.second, n);
  }
  return out;
}

// The versions rampart runs (seed 001's churn watch): instances by state, and restarts since
// each instance started (an instance that keeps crashing shows here long before a rollback).
std::string instance_metrics(const Server& server) {
  std::string out =
      "# HELP rampart_instances Instances of the versions rampart runs, by state.\n"
      "# TYPE rampart_instances gauge\n";
  std::string restarts =
      "# HELP rampart_instance_restarts_total Restarts of a version's instances since they "
      "were started.\n# TYPE rampart_instance_restarts_total counter\n";
  std::string churning =
      "# HELP rampart_instance_churning 1 while a version restarts more often than its churn "
      "limit.\n# TYPE rampart_instance_churning gauge\n";
  for (const auto& v : server.fleet.all()) {
    const std::string labels = fmt::format("service=\"{}\",version=\"{}\"", v.service, v.version);
    std::size_t ready = 0;
    for (const auto& i : v.instances) {
      ready += i.state.ready ? 1 : 0;
    }
    out += fmt::format("rampart_instances{{{},state=\"ready\"}} {}\n", labels, ready);
    out += fmt::format("rampart_instances{{{},state=\"not_ready\"}} {}\n", labels,
                       v.instances.size() - ready);
    restarts += fmt::format("rampart_instance_restarts_total{{{}}} {}\n", labels, v.restarts);
    churning += fmt::format("rampart_instance_churning{{{}}} {}\n", labels, v.churning ? 1 : 0);
  }
  return out + restarts + churning;
}

admin::Response metrics_endpoint(const Call& c) {
  admin::Response res{bhttp::status::ok, c.req.version()};
  res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = metrics::render_prometheus(c.server.registry);
  const auto pub = c.server.publisher.stats();
  res.body() += fmt::format(
      "# HELP rampart_store_revision The store revision the gateway serves.\n"
      "# TYPE rampart_store_revision gauge\nrampart_store_revision {}\n"
      "# HELP rampart_route_publications_total Route snapshots published to the workers.\n"
      "# TYPE rampart_route_publications_total counter\n"
      "rampart_route_publications_total {}\n"
      "# HELP rampart_services_unservable Services the gateway cannot serve as stored.\n"
      "# TYPE rampart_services_unservable gauge\nrampart_services_unservable {}\n",
      pub.revision, pub.publications, pub.problems.size());
  res.body() += rollout_metrics(c.server);
  res.body() += decision_metrics(c.server);
  res.body() += instance_metrics(c.server);
  res.keep_alive(c.req.keep_alive());
  res.prepare_payload();
  return res;
}

// Every service the gateway cannot serve as stored, and every upstream without an address.
json::array gateway_problems(const Server& server, const control::RoutePublisher::Stats& pub) {
  json::array problems;
  for (const auto& p : pub.problems) {
    json::object o;
    o["service"] = p.service;
    o["problem"] = p.problem;
    problems.push_back(std::move(o));
  }
  for (const auto& v : server.registry.snapshot_versions()) {
    for (const auto& u : v.upstreams) {
      if (u.problem.empty()) {
        continue;
      }
      json::object o;
      o["service"] = v.service;
      o["version"] = v.version;
      o["upstream"] = u.upstream;
      o["problem"] = "upstream " + u.upstream + " " + u.problem;
      problems.push_back(std::move(o));
    }
  }
  return problems;
}

json::object health_components(const Server& server, const control::RoutePublisher::Stats& pub,
                               const std::string& store_error, json::array problems) {
  std::string reload_error;
  uint64_t reloads = 0;
  {
    std::lock_guard lock(server.reload.mutex);
    reload_error = server.reload.last_error;
    reloads = server.reload.reloads;
  }
  auto routes = server.gw.routes();
  json::object gateway;
  gateway["status"] = pub.last_error.empty() && problems.empty() ? "ok" : "degraded";
  gateway["workers"] = server.gw.worker_count();
  gateway["active_connections"] = server.gw.active_connections();
  gateway["routes_generation"] = routes ? routes->generation : 0;
  gateway["services"] = routes ? routes->services.size() : 0;
  gateway["last_publish_error"] = nullable(pub.last_error);
  gateway["problems"] = std::move(problems);
  json::object store;
  store["status"] = store_error.empty() ? "ok" : "degraded";
  store["path"] = server.db_path;
  store["revision"] = pub.revision;
  store["last_error"] = nullable(store_error);
  json::object config;
  config["status"] = reload_error.empty() ? "ok" : "degraded";
  config["source"] = server.config_path;
  config["reloads"] = reloads;
  config["last_reload_error"] = nullable(reload_error);
  json::array rollouts;
  if (auto active = server.rollouts.all_active()) {
    for (const model::Rollout& r : *active) {
      rollouts.push_back(json::object{{"service", r.service},
                                      {"rollout", r.id},
                                      {"version", r.plan.version},
                                      {"phase", rollout::to_string(r.progress.phase)},
                                      {"step", r.progress.step + 1},
                                      {"reason", r.progress.reason}});
    }
  }
  json::object components;
  components["rollouts"] = std::move(rollouts);
  components["gateway"] = std::move(gateway);
  components["store"] = std::move(store);
  components["config"] = std::move(config);
  return components;
}

admin::Response health_endpoint(const Call& c) {
  const std::string store_error = c.server.api.store_error();
  const auto pub = c.server.publisher.stats();
  json::array problems = gateway_problems(c.server, pub);
  const bool degraded = !store_error.empty() || !pub.last_error.empty() || !problems.empty();
  json::object o;
  o["status"] = degraded ? "degraded" : "ok";
  o["version"] = kVersion;
  if (admin::wants_detail(c.req)) {
    o["components"] = health_components(c.server, pub, store_error, std::move(problems));
  }
  return c.json(json::serialize(o));
}

admin::Response reload_endpoint(const Call& c) {
  std::optional<admin::Response> refusal;
  auto who = c.server.api.authorize(c.req, model::Role::kAdmin, refusal);
  if (!who) {
    return std::move(*refusal);
  }
  auto s = reload(c.server, who->name);
  if (!s) {
    log::error("reload refused, the previous configuration stays: {}", s.error().message);
    const bool unavailable = s.error().code == Errc::kUnavailable;
    return c.error(unavailable ? bhttp::status::service_unavailable : bhttp::status::bad_request,
                   unavailable ? "unavailable" : "invalid_config", s.error().message);
  }
  log::info("configuration reloaded (generation {})", c.server.gw.generation());
  json::object o;
  o["status"] = "reloaded";
  o["generation"] = c.server.gw.generation();
  return c.json(json::serialize(o));
}

struct Endpoint {
  std::string_view path;
  admin::Response (*handle)(const Call&);
};

constexpr std::array<Endpoint, 3> kEndpoints = {{
    {"/health", health_endpoint},
    {"/metrics", metrics_endpoint},
    {"/reload", reload_endpoint},
}};

}  // namespace

Status reload(Server& server, std::string_view actor) {
  auto remember = [&](const Error& e) {
    std::lock_guard lock(server.reload.mutex);
    server.reload.last_error = e.message;
    return Status(e);
  };
  if (server.config_path.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "this server was never started with --config; change it with `rampart "
                      "apply -f FILE`");
  }
  auto cfg = config::load_config(server.config_path);
  if (!cfg) {
    return remember(cfg.error());
  }
  if (auto s = apply_overrides(*cfg, server.options); !s) {
    return remember(s.error());
  }
  // The new limits go out with the apply's publication (one swap for the whole reload), or
  // by the refresh below when the apply changed nothing in the store.
  config::Config previous = server.publisher.base();
  server.publisher.set_base(*cfg);
  auto applied = server.service.apply(*cfg, actor, "reload of " + server.config_path);
  if (!applied) {
    if (applied.error().code == Errc::kUnavailable) {
      server.api.note_store_error(applied.error().message);
    }
    // Back to the old limits (republished: a commit meanwhile may have served the new ones).
    server.publisher.set_base(std::move(previous));
    (void)server.publisher.refresh();
    return remember(applied.error());
  }
  if (auto s = server.publisher.refresh(); !s) {
    return remember(s.error());
  }
  server.admin_server.set_limits(cfg->limits);
  std::lock_guard lock(server.reload.mutex);
  server.reload.last_error.clear();
  ++server.reload.reloads;
  return {};
}

admin::Response handle_admin(const admin::Request& req, Server& server) {
  // The API answers what is not for these endpoints: /api/v1, and a method or query parameter
  // that /health, /metrics or /reload does not take (405 with Allow, 400).
  if (auto res = server.api.handle(req)) {
    return std::move(*res);
  }
  const std::string_view target = req.target();
  const Call c{req, server, target.substr(0, target.find('?'))};
  for (const Endpoint& e : kEndpoints) {
    if (c.path == e.path) {
      return e.handle(c);
    }
  }
  return c.error(bhttp::status::not_found, "not_found",
                 fmt::format("no admin endpoint {}; try /api/v1/..., /health, "
                             "/health?detailed=true, /metrics or POST /reload",
                             c.path));
}

}  // namespace rampart::app
