// The endpoints of the versions rampart runs (docs/api.md, "Instances"): what the fleet runs
// of a service, instance by instance, and the rolling restart (runner/fleet.hpp).
//
// Roles: the list needs read-only, as a service's status; a restart needs deployer (it changes
// nothing that is stored, but replaces every instance, as a deploy would).

#include "admin/api.hpp"
#include "admin/endpoints.hpp"
#include "gateway/gateway.hpp"
#include "runner/fleet.hpp"

#include <boost/json/array.hpp>

#include <array>
#include <chrono>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

using model::Role;
using Verb = bhttp::verb;

Reply not_wired() { return admin::not_wired("this server runs no versions itself (no runner)"); }

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The requests the gateway has sent the instance (seed 001: how much a young instance has
// served yet); null without a gateway or when a worker did not answer.
json::value requests_of(const runner::FleetInstance& i, gateway::Gateway* gw) {
  if (gw == nullptr || i.state.port == 0) {
    return nullptr;
  }
  const boost::asio::ip::tcp::endpoint at(boost::asio::ip::address_v4::loopback(), i.state.port);
  const auto n = gw->requests_to(at);
  return n ? json::value(*n) : json::value(nullptr);
}

json::object instance_json(const runner::FleetInstance& i, gateway::Gateway* gw) {
  json::object o{{"id", i.id},
                 {"pid", i.state.pid},
                 {"port", i.state.port},
                 {"ready", i.state.ready},
                 {"routed", i.routed},
                 {"restarts", i.state.restarts},
                 {"started_at", i.state.pid != 0 ? json::value(rfc3339(unix_ms(i.state.started_at)))
                                                 : json::value(nullptr)}};
  o["last_exit"] = i.state.last_exit ? json::value(i.state.last_exit->text()) : nullptr;
  o["requests"] = requests_of(i, gw);
  return o;
}

}  // namespace

json::object fleet_version_json(const runner::FleetStatus& s, gateway::Gateway* gw) {
  json::array instances;
  for (const auto& i : s.instances) {
    instances.push_back(instance_json(i, gw));
  }
  return {{"version", s.version},
          {"phase", runner::to_string(s.phase)},
          {"error", s.error.empty() ? json::value(nullptr) : json::value(s.error)},
          {"restarts", s.restarts},
          {"churning", s.churning},
          {"instances", std::move(instances)}};
}

namespace {

Result<Reply> list_instances(const Call& call) {
  if (call.extensions.fleet == nullptr) {
    return not_wired();
  }
  json::array versions;
  for (const auto& s : call.extensions.fleet->list(call.params[0])) {
    versions.push_back(fleet_version_json(s, call.extensions.gateway));
  }
  return Reply{bhttp::status::ok,
               json::object{{"service", call.params[0]}, {"versions", std::move(versions)}}};
}

Result<Reply> restart_service(const Call& call) {
  if (call.extensions.fleet == nullptr) {
    return not_wired();
  }
  const std::string_view version = query_text(call, "version");
  if (auto s = call.extensions.fleet->restart(call.params[0], version); !s) {
    return s.error();
  }
  json::array versions;
  for (const auto& s : call.extensions.fleet->list(call.params[0])) {
    if (version.empty() || s.version == version) {
      versions.push_back(fleet_version_json(s, call.extensions.gateway));
    }
  }
  return Reply{bhttp::status::accepted,
               json::object{{"service", call.params[0]}, {"versions", std::move(versions)}}};
}

constexpr std::array<Endpoint, 2> kInstanceEndpoints = {{
    {Verb::get, "services/{service}/instances", Role::kReadOnly, "", &list_instances},
    {Verb::post, "services/{service}/restart", Role::kDeployer, "version", &restart_service},
}};

}  // namespace

std::span<const Endpoint> instance_endpoints() { return kInstanceEndpoints; }

}  // namespace rampart::admin
