#pragma once
// The admin API's router: tables of (method, path pattern) -> handler, one table per resource
// in its own file (admin/endpoints.hpp lists them), matched against a request's path. Each
// entry also names the least role its token must have and the query parameters it takes, so
// an endpoint is read in one place: its entry, next to its handler.
//
// A pattern is path segments under /api/v1; "{name}" matches any one segment (percent-decoded)
// and is handed to the handler, any other segment matches itself. The first entry whose
// pattern and method match serves the request (so a literal pattern goes before a {…} one that
// also matches it: "rollouts/latest" before "rollouts/{id}"); an entry for GET also serves
// HEAD. A path that entries match only with other methods gets a 405 whose Allow lists their
// methods, in table order.
//
// A handler only adapts: it parses the request, calls one service method and answers the
// status and JSON of its result, or its error, which the Api maps to 400/404/409/503 as for
// every endpoint. The Api checks the query parameters and the token's role before it calls
// the handler (admin/api.hpp).
//
// Thread safety: the tables are immutable; handlers may run on several threads at once.

#include "admin/admin_server.hpp"
#include "common/result.hpp"
#include "control/deployment_service.hpp"
#include "control/rollout_service.hpp"
#include "metrics/registry.hpp"
#include "model/records.hpp"

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

namespace rampart::gateway {
class Gateway;
}
namespace rampart::runner {
class Fleet;
}
namespace rampart::secrets {
class SecretStore;
}

namespace rampart::admin {

// The server's parts beyond the two services that some endpoints need; a null one is not
// wired (unit tests, or a part the server does not run) and its endpoints answer 503.
struct Extensions {
  secrets::SecretStore* secrets = nullptr;  // secret put, list, delete
  runner::Fleet* fleet = nullptr;           // instances, logs, restart
  gateway::Gateway* gateway = nullptr;      // live request events (tail)
  // Where the runner writes instance logs: {log_root}/{service}/{version}/instance-{i}.log
  // (rotated: .1 newer ... .N older). Empty: not wired.
  std::string log_root{};
  // Before a split or a rollback gives versions traffic: starts the ones rampart runs and
  // waits until they run (app::InstanceSync::prepare). Empty: nothing to prepare.
  std::function<Status(const std::string& service, const std::vector<std::string>& versions)>
      prepare{};
};

// What a handler answers when it succeeds. A 2xx answer to a request other than GET (a write)
// tells the Api the store works again (Api::store_error); another status is sent as it is.
struct Reply {
  boost::beast::http::status status = boost::beast::http::status::ok;
  boost::json::value body;
};

// The 503 of an endpoint whose part of the server is not wired (Extensions), saying why in
// `detail`. A reply, not a kUnavailable error, which the Api would take for a failing store
// (Api::store_error).
inline Reply not_wired(std::string_view detail) {
  return Reply{boost::beast::http::status::service_unavailable,
               boost::json::object{{"error", "unavailable"}, {"detail", detail}}};
}

// What a handler is given.
struct Call {
  const Request& request;
  std::vector<std::string> params;  // the segments the pattern's {…} matched, in order
  std::map<std::string, std::string, std::less<>> query;
  std::string actor;  // the token's name
  control::RolloutService& rollouts;
  control::DeploymentService& deployments;
  const metrics::Registry& registry;
  const Extensions& extensions;
};

using EndpointHandler = Result<Reply> (*)(const Call& call);

struct Endpoint {
  boost::beast::http::verb method;  // get also serves HEAD
  std::string_view pattern;         // "services/{service}/rollouts/{id}"
  model::Role role;                 // the least role the token must have
  std::string_view query;  // the query parameters it takes ("after, since, limit"), or none
  EndpointHandler handler;
};

// How a table's endpoints answer a request they do not serve. kCurrent: a 405 whose Allow names
// HEAD after GET (RFC 9110). kFirstRelease, the endpoints older than the tables, as clients have
// seen them since the first release: Allow names GET alone, and a query parameter is refused
// (400, as by an endpoint that takes none) before the 405 — and before the 404 of a path that no
// table has.
enum class Conventions { kCurrent, kFirstRelease };

// A resource's entries.
struct EndpointTable {
  std::span<const Endpoint> endpoints;
  Conventions conventions = Conventions::kCurrent;
};

struct EndpointMatch {
  const Endpoint* endpoint = nullptr;  // nullptr: no entry matches with this method
  std::vector<std::string> params;
  std::string allow;  // the methods of the entries the path matches ("GET, HEAD"); empty: none
  // Without an endpoint: whether the query parameters are checked before the 404 or 405
  // (Conventions::kFirstRelease, or no table matches the path).
  bool query_first = true;
};

// The entry that serves `method` on the path `parts` (segments, decoded), in the tables' order.
EndpointMatch match_endpoint(std::span<const EndpointTable> tables, boost::beast::http::verb method,
                             const std::vector<std::string>& parts);
// The same for one table of Conventions::kCurrent.
EndpointMatch match_endpoint(std::span<const Endpoint> table, boost::beast::http::verb method,
                             const std::vector<std::string>& parts);

// The path's segments, percent-decoded so that names are echoed as they were typed
// ("%C3%BCn" -> "ün"; a malformed escape is kept as it is). Empty segments are left out:
// "services/" is "services"; see has_empty_segment for the ones between two slashes.
std::vector<std::string> path_segments(std::string_view path);
// Whether the path has "//" (an empty name?), which no endpoint takes.
bool has_empty_segment(std::string_view path);

// The parameters of an entry's `query` list: "after, since, limit" -> {"after", "since", "limit"}.
std::vector<std::string_view> query_names(std::string_view list);

}  // namespace rampart::admin
