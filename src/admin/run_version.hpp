#pragma once
// The deploy path's part for versions that rampart runs (docs/runner.md): the "run" field of a
// deploy request, and the environment gate a deploy of such a version passes before anything
// starts (seed 002's validation).

#include "admin/router.hpp"
#include "common/result.hpp"
#include "control/rollout_service.hpp"
#include "model/run_spec.hpp"

#include <boost/json/object.hpp>

#include <optional>

namespace rampart::admin {

// "run": {"argv": ["./server", "--port", "{port}"], "instances": 2, ...} of a deploy body:
// nullopt without one. Fields left out take RunSpec's defaults; an unknown one is refused
// (kInvalidArgument "run: ...").
Result<std::optional<model::RunSpec>> run_field(const boost::json::object& body);

// The environment the version would get (its env, the server's declared variables, the
// service's secrets) against its EnvSpec: kInvalidArgument naming every missing and malformed
// variable, never a value. A version served by upstreams passes. On success the result, with
// its warnings, joins req.pre, so the rollout's report shows it.
Status check_environment(const Call& call, control::DeployRequest& req);

}  // namespace rampart::admin
