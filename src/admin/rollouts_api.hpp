#pragma once
// The admin API's rollout endpoints (docs/api.md, "Rollouts"), as a table of (method, path
// pattern) -> handler. A handler only adapts: it parses the request, calls one RolloutService
// method and answers the status and JSON of its result, or its error, which the Api maps to
// 400/404/409/503 as for every other endpoint. The Api checks the token's role and the query
// parameters the entry names before it calls the handler.
//
// A pattern is path segments under /api/v1; "{name}" matches any one segment (percent-decoded)
// and is handed to the handler, any other segment matches itself. The first entry whose
// pattern and method match serves the request; a path that entries match only with other
// methods gets a 405 whose Allow lists their methods.
//
// Thread safety: the table is immutable; handlers may run on several threads at once.

#include "admin/admin_server.hpp"
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

// What a handler answers on success.
struct Reply {
  boost::beast::http::status status = boost::beast::http::status::ok;
  boost::json::value body;
};

// What a handler is given.
struct Call {
  const Request& request;
  std::vector<std::string> params;  // the segments the pattern's {…} matched, in order
  std::map<std::string, std::string, std::less<>> query;
  std::string actor;  // the token's name
  control::RolloutService& rollouts;
};

using EndpointHandler = Result<Reply> (*)(const Call& call);

struct Endpoint {
  boost::beast::http::verb method;  // get also serves HEAD
  std::string_view pattern;         // "services/{service}/rollouts/{id}"
  model::Role role;                 // the least role the token must have
  std::string_view query;           // the one query parameter it takes ("limit"), or none
  EndpointHandler handler;
};

// The rollout endpoints, in match order (a literal pattern before a {…} one that also matches
// it: "rollouts/latest" before "rollouts/{id}").
std::span<const Endpoint> rollout_endpoints();

struct EndpointMatch {
  const Endpoint* endpoint = nullptr;  // nullptr: no entry matches with this method
  std::vector<std::string> params;
  std::string allow;  // the methods of the entries the path matches ("GET, HEAD"); empty: none
};

// The entry of `table` that serves `method` on the path `parts` (segments, decoded).
EndpointMatch match_endpoint(std::span<const Endpoint> table, boost::beast::http::verb method,
                             const std::vector<std::string>& parts);

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
