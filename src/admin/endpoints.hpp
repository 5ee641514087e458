#pragma once
// Where each /api/v1 endpoint lives: a table of (method, path pattern) -> handler per resource
// (admin/router.hpp), each in its own file next to its handlers. docs/api.md documents them.
//
//   services_api.cpp     services, versions, a service's status and analytics, apply
//   deployments_api.cpp  deployments (splits), rollback, checkpoints
//   tokens_api.cpp       tokens
//   audit_api.cpp        the audit log
//   rollouts_api.cpp     rollouts and their commands (admin/rollouts_api.hpp)
//   secrets_api.cpp      a service's secrets (put, list, delete; never a value out)

#include "admin/router.hpp"

#include <span>

namespace rampart::admin {

std::span<const Endpoint> service_endpoints();
std::span<const Endpoint> deployment_endpoints();
std::span<const Endpoint> token_endpoints();
std::span<const Endpoint> audit_endpoints();
std::span<const Endpoint> secret_endpoints();

}  // namespace rampart::admin
