#pragma once
// Where each /api/v1 endpoint lives: a table of (method, path pattern) -> handler per resource
// (admin/router.hpp), each in its own file next to its handlers. docs/api.md documents them.
//
//   services_api.cpp     services, versions, a service's status and analytics, apply
//   deployments_api.cpp  deployments (splits), rollback, checkpoints
//   tokens_api.cpp       tokens
//   audit_api.cpp        the audit log
//   instances_api.cpp    the instances of the versions rampart runs, rolling restart
//   rollouts_api.cpp     rollouts and their commands (admin/rollouts_api.hpp)
//   run_version.cpp      a deploy's "run" field and its environment gate (admin/run_version.hpp)
//   secrets_api.cpp      a service's secrets (put, list, delete; never a value out)
//   tail_api.cpp         a service's live request events (the gateway's tail)
//   logs_api.cpp         a service's instance logs (the runner's log files)

#include "admin/router.hpp"

#include <boost/json/object.hpp>

#include <span>

namespace rampart::gateway {
class Gateway;
}
namespace rampart::runner {
struct FleetStatus;
}

namespace rampart::admin {

std::span<const Endpoint> service_endpoints();
std::span<const Endpoint> deployment_endpoints();
std::span<const Endpoint> token_endpoints();
std::span<const Endpoint> audit_endpoints();
std::span<const Endpoint> instance_endpoints();

// A version the fleet runs, as the instances endpoint and a service's status show it:
// {"version", "phase", "error", "restarts", "churning", "instances": [...]}; each instance's
// "requests" are asked of `gw` (null without one).
boost::json::object fleet_version_json(const runner::FleetStatus& status, gateway::Gateway* gw);
std::span<const Endpoint> secret_endpoints();
std::span<const Endpoint> tail_endpoints();
std::span<const Endpoint> log_endpoints();

}  // namespace rampart::admin
