#pragma once
// The admin API's rollout endpoints (docs/api.md, "Rollouts"), as a table of (method, path
// pattern) -> handler served by the admin router (admin/router.hpp). A handler only adapts: it
// parses the request, calls one RolloutService method and answers the status and JSON of its
// result, or its error, which the Api maps to 400/404/409/503 as for every other endpoint.
//
// Thread safety: the table is immutable; handlers may run on several threads at once.

#include "admin/admin_server.hpp"
#include "admin/router.hpp"
#include "common/result.hpp"
#include "control/rollout_service.hpp"
#include "model/records.hpp"
#include "model/rollout_record.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::admin {

// The rollout endpoints, in match order (a literal pattern before a {…} one that also matches
// it: "rollouts/latest" before "rollouts/{id}").
std::span<const Endpoint> rollout_endpoints();

// The JSON of a rollout and of its events in the API's conventions: times in RFC 3339,
// weights in percent, durations as "5m", the step 1-based.
boost::json::object api_json(const model::Rollout& rollout);
boost::json::object api_json(const model::RolloutEvent& event);

// The body of POST /services/{s}/rollouts -> the request to start it. kInvalidArgument
// "FIELD: ..." for a body it cannot read.
Result<control::DeployRequest> deploy_request(std::string_view service,
                                              const boost::json::object& body, std::string actor);

// "promote", "promote-full", "pause", "resume", "abort", "retry" -> the command.
std::optional<rollout::Command> parse_command(std::string_view name);

}  // namespace rampart::admin
