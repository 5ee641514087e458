#pragma once
// The admin API under /api/v1/ (docs/api.md): an adapter from HTTP to the DeploymentService and
// the RolloutService. The endpoints are entries in tables by resource (admin/endpoints.hpp,
// admin/router.hpp); the Api matches the request to its entry, checks its query parameters and
// the bearer token's role, calls the entry's handler and maps its error to a response; the
// rules live in the services.
//
// Thread safety: handle() may be called from several threads at once (the service and the
// registry are thread-safe; the API's own state is behind a mutex).

#include "admin/admin_server.hpp"
#include "admin/router.hpp"
#include "control/deployment_service.hpp"
#include "control/rollout_service.hpp"
#include "metrics/registry.hpp"
#include "model/records.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::admin {

class Api {
 public:
  // REQUIRES: all of them (and what `extensions` points to) outlive this object.
  Api(control::DeploymentService& service, const metrics::Registry& registry,
      control::RolloutService& rollouts, Extensions extensions = {});

  // The response for a request under /api/v1/. For /health, /metrics and /reload (served by
  // the caller) a 405 with Allow when the method is not theirs, a 400 for a query parameter
  // /health does not take, else std::nullopt; std::nullopt for any other path.
  std::optional<Response> handle(const Request& request);

  // Authenticates the request's bearer token and checks that its role allows `need`: the
  // token, or the 401/403/503 response to send.
  Result<model::Token> authorize(const Request& request, model::Role need,
                                 std::optional<Response>& refusal);

  // The store's state as the API has seen it: empty while writes succeed, else the reason
  // the last write failed (kUnavailable) — cleared by the next write that succeeds.
  std::string store_error() const;
  void note_store_error(std::string reason);

 private:
  Response route(const Request& request, std::string_view path);
  // The query parameters and the role `entry` needs, then its handler's answer.
  Response serve(const Request& request, const Endpoint& entry, std::vector<std::string> params);
  Response failure(const Request& request, const Error& error);
  void observe(const Error& error);
  void observe_success();

  control::DeploymentService& service_;
  const metrics::Registry& registry_;
  control::RolloutService& rollouts_;
  const Extensions extensions_;
  mutable std::mutex mutex_;
  std::string store_error_;
};

// Whether a GET /health asks for its components: ?detailed=true or ?detailed=1 (Api::handle
// has refused any other value with a 400).
bool wants_detail(const Request& request);

// The JSON of the API's objects (docs/api.md).
std::string rfc3339(std::int64_t unix_ms);
// "2026-12-31T00:00:00Z" or with a fraction ("...00.5Z", milliseconds kept) -> unix ms; only
// UTC ('Z'), from 1970 on; std::nullopt for anything else.
std::optional<std::int64_t> parse_rfc3339_utc(std::string_view text);
boost::json::object api_json(const model::Deployment& d);
boost::json::object api_json(const model::Version& v);
boost::json::object api_json(const model::Checkpoint& c);
boost::json::object api_json(const model::AuditEvent& e);
boost::json::object api_json(const model::Token& t);
boost::json::object api_summary(const model::Service& s, const model::Deployment* latest);

// What every handler reads of a request, shared by the endpoint files.
// The body as a JSON object; an empty body is an empty object. kInvalidArgument otherwise.
Result<boost::json::object> body_object(const Request& request);
// A member of the body: absent or null is std::nullopt; another type is kInvalidArgument
// "KEY: must be ...".
Result<std::optional<std::string>> string_field(const boost::json::object& o, std::string_view key);
Result<std::optional<std::int64_t>> int_field(const boost::json::object& o, std::string_view key);
Result<std::optional<bool>> bool_field(const boost::json::object& o, std::string_view key);
// kInvalidArgument "KEY: unknown field; this endpoint takes ..." for a member not in `known`.
Status no_unknown_fields(const boost::json::object& o,
                         std::initializer_list<std::string_view> known);
// body_object() whose members are all in `known` (no_unknown_fields).
Result<boost::json::object> body_with(const Request& request,
                                      std::initializer_list<std::string_view> known);
// The request's query parameters, decoded (the last of a repeated name wins).
std::map<std::string, std::string, std::less<>> query_of(const Request& request);
// kInvalidArgument "NAME: unknown query parameter; ..." for a parameter not in `known`
// ("after, since, limit"; empty: none).
Status query_is(const Request& request, std::string_view known);
// A query parameter's text; empty when absent.
std::string_view query_text(const Call& call, std::string_view key);
// A query parameter that is a non-negative integer: std::nullopt when absent, kInvalidArgument
// "KEY: \"x\" is not a non-negative integer" otherwise.
Result<std::optional<std::int64_t>> query_int(const Call& call, std::string_view key);
// A list's length: `limit` (1 to 10000), 1000 without it.
Result<std::size_t> query_limit(const Call& call);
// [api_json(item), ...]
template <class T>
boost::json::array api_list(const std::vector<T>& items) {
  boost::json::array a;
  a.reserve(items.size());
  for (const auto& item : items) {
    a.emplace_back(api_json(item));
  }
  return a;
}
// "split: sums to ..." -> "split"; empty when the message does not start with a field name.
std::string_view field_of(std::string_view message);

// {"error": code, "detail": detail[, "field": field]} with the status that goes with it.
Response error_response(boost::beast::http::status status, std::string_view code,
                        std::string_view detail, unsigned version, bool keep_alive,
                        std::string_view field = {});

}  // namespace rampart::admin
