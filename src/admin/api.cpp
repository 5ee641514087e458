#include "admin/api.hpp"

#include "admin/endpoints.hpp"
#include "admin/rollouts_api.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <utility>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

// Lists answer at most this many items per call (`limit`).
constexpr std::size_t kDefaultListLimit = 1000;
constexpr std::size_t kMaxListLimit = 10000;

}  // namespace

Response error_response(bhttp::status status, std::string_view code, std::string_view detail,
                        unsigned version, bool keep_alive, std::string_view field) {
  json::object o;
  o["error"] = code;
  if (!field.empty()) {
    o["field"] = field;
  }
  o["detail"] = detail;
  auto res = json_response(status, json::serialize(o), version, keep_alive);
  if (status == bhttp::status::unauthorized) {
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"rampart\"");
  }
  if (status == bhttp::status::service_unavailable) {
    res.set(bhttp::field::retry_after, "1");
  }
  return res;
}

std::string_view field_of(std::string_view message) {
  const auto colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0 || colon > 64) {
    return {};
  }
  const auto field = message.substr(0, colon);
  const bool ok = std::all_of(field.begin(), field.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '[' ||
           c == ']';
  });
  return ok ? field : std::string_view{};
}

Result<json::object> body_object(const Request& req) {
  if (req.body().empty()) {
    return json::object{};
  }
  auto v = parse_json(req.body());
  if (!v) {
    // A duplicate key's message starts with its path, the field.
    if (v.error().message.starts_with("not valid JSON")) {
      return make_error(Errc::kInvalidArgument, "body: " + v.error().message);
    }
    return v.error();
  }
  if (!v->is_object()) {
    return make_error(Errc::kInvalidArgument, "body: must be a JSON object");
  }
  return std::move(v->as_object());
}

Result<std::optional<std::string>> string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return std::optional<std::string>{};
  }
  if (!v->is_string()) {
    return make_error(Errc::kInvalidArgument, fmt::format("{}: must be a string", key));
  }
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::optional<std::int64_t>> int_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return std::optional<std::int64_t>{};
  }
  if (v->is_int64()) {
    return std::optional<std::int64_t>(v->as_int64());
  }
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->as_uint64()));
  }
  return make_error(Errc::kInvalidArgument, fmt::format("{}: must be an integer", key));
}

Result<std::optional<bool>> bool_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return std::optional<bool>{};
  }
  if (!v->is_bool()) {
    return make_error(Errc::kInvalidArgument, fmt::format("{}: must be true or false", key));
  }
  return std::optional<bool>(v->as_bool());
}

Status no_unknown_fields(const json::object& o, std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : o) {
    if (std::find(known.begin(), known.end(), std::string_view(k)) == known.end()) {
      std::string list;
      for (auto n : known) {
        list += (list.empty() ? "" : ", ") + std::string(n);
      }
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("{}: unknown field; this endpoint takes {}", std::string_view(k), list));
    }
  }
  return {};
}

Result<json::object> body_with(const Request& req, std::initializer_list<std::string_view> known) {
  auto body = body_object(req);
  if (!body) {
    return body.error();
  }
  if (auto s = no_unknown_fields(*body, known); !s) {
    return s.error();
  }
  return body;
}

Api::Api(control::DeploymentService& service, const metrics::Registry& registry,
         control::RolloutService& rollouts, Extensions extensions)
    : service_(service),
      registry_(registry),
      rollouts_(rollouts),
      extensions_(std::move(extensions)) {}

std::string Api::store_error() const {
  std::lock_guard lock(mutex_);
  return store_error_;
}

void Api::note_store_error(std::string reason) {
  std::lock_guard lock(mutex_);
  store_error_ = std::move(reason);
}

void Api::observe(const Error& error) {
  if (error.code == Errc::kUnavailable) {
    note_store_error(error.message);
  }
}

void Api::observe_success() {
  std::lock_guard lock(mutex_);
  store_error_.clear();
}

Response Api::failure(const Request& req, const Error& error) {
  observe(error);
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  switch (error.code) {
    case Errc::kInvalidArgument:
      return error_response(bhttp::status::bad_request, "invalid_argument", error.message, v, keep,
                            field_of(error.message));
    case Errc::kNotFound:
      return error_response(bhttp::status::not_found, "not_found", error.message, v, keep);
    case Errc::kConflict:
      return error_response(bhttp::status::conflict, "conflict", error.message, v, keep);
    case Errc::kUnavailable:
    case Errc::kIo:
      return error_response(bhttp::status::service_unavailable, "unavailable",
                            "the store cannot serve this change now; the gateway keeps serving "
                            "the last published state: " +
                                error.message,
                            v, keep);
    case Errc::kInternal:
      break;
  }
  log::error("admin API {} {}: {}", std::string_view(req.method_string()),
             std::string_view(req.target()), error.message);
  return error_response(bhttp::status::internal_server_error, "internal", error.message, v, keep);
}

Result<model::Token> Api::authorize(const Request& req, model::Role need,
                                    std::optional<Response>& refusal) {
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  auto it = req.find(bhttp::field::authorization);
  std::string_view header = it == req.end() ? std::string_view{} : std::string_view(it->value());
  constexpr std::string_view kBearer = "bearer ";
  const bool bearer = header.size() > kBearer.size() &&
                      std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                                 [](char a, char b) { return a == std::tolower(b); });
  if (!bearer) {
    refusal = error_response(bhttp::status::unauthorized, "unauthorized",
                             "this endpoint needs a token: send Authorization: Bearer TOKEN "
                             "(the CLI reads --token, $RAMPART_TOKEN or DATA/admin.token)",
                             v, keep);
    return make_error(Errc::kInvalidArgument, "no token");
  }
  std::string_view secret = header.substr(kBearer.size());
  while (!secret.empty() && secret.front() == ' ') {
    secret.remove_prefix(1);
  }
  auto token = service_.authenticate(secret);
  if (!token) {
    if (token.error().code == Errc::kNotFound) {
      const std::string& why = token.error().message;
      refusal = error_response(
          bhttp::status::unauthorized, "unauthorized",
          why == "unknown token" ? "unknown token: it was never created on this server" : why, v,
          keep);
    } else {
      refusal = failure(req, token.error());
    }
    return token.error();
  }
  if (!model::role_allows(token->role, need)) {
    refusal = error_response(
        bhttp::status::forbidden, "forbidden",
        fmt::format("token \"{}\" has role {}; this needs role {} or higher", token->name,
                    model::to_string(token->role), model::to_string(need)),
        v, keep);
    return make_error(Errc::kInvalidArgument, "forbidden");
  }
  return token;
}

std::map<std::string, std::string, std::less<>> query_of(const Request& req) {
  std::map<std::string, std::string, std::less<>> query;
  if (auto u = boost::urls::parse_origin_form(req.target()); u) {
    for (auto p : u->params()) {
      query[std::string(p.key)] = std::string(p.value);
    }
  }
  return query;
}

Status query_is(const Request& req, std::string_view known) {
  const auto names = query_names(known);
  for (const auto& [name, value] : query_of(req)) {
    if (std::find(names.begin(), names.end(), std::string_view(name)) != names.end()) {
      continue;
    }
    std::string list;
    for (auto n : names) {
      list += (list.empty() ? "" : ", ") + std::string(n);
    }
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: unknown query parameter; {}", name,
                                  list.empty() ? std::string("this endpoint takes none")
                                               : "this endpoint takes " + list));
  }
  return {};
}

std::string_view query_text(const Call& call, std::string_view key) {
  auto it = call.query.find(key);
  return it == call.query.end() ? std::string_view{} : std::string_view(it->second);
}

Result<std::optional<std::int64_t>> query_int(const Call& call, std::string_view key) {
  auto it = call.query.find(key);
  if (it == call.query.end()) {
    return std::optional<std::int64_t>{};
  }
  const std::string& text = it->second;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || p != text.data() + text.size() || n < 0) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: \"{}\" is not a non-negative integer", key, text));
  }
  return std::optional<std::int64_t>(n);
}

Result<std::size_t> query_limit(const Call& call) {
  auto limit = query_int(call, "limit");
  if (!limit) {
    return limit.error();
  }
  if (!*limit) {
    return kDefaultListLimit;
  }
  if (**limit < 1 || **limit > static_cast<std::int64_t>(kMaxListLimit)) {
    return make_error(Errc::kInvalidArgument, fmt::format("limit: {} is out of range; give 1 to {}",
                                                          **limit, kMaxListLimit));
  }
  return static_cast<std::size_t>(**limit);
}

namespace {

// ?detailed=: true/1 -> true, false/0 or absent -> false, anything else nullopt.
std::optional<bool> detailed_value(const Request& req) {
  const auto query = query_of(req);
  const auto it = query.find("detailed");
  if (it == query.end()) {
    return false;
  }
  if (it->second == "true" || it->second == "1") {
    return true;
  }
  if (it->second == "false" || it->second == "0") {
    return false;
  }
  return std::nullopt;
}

// A 405 for `req`, with the Allow header listing `allow`.
Response method_not_allowed(const Request& req, std::string_view allow) {
  auto res =
      error_response(bhttp::status::method_not_allowed, "method_not_allowed",
                     fmt::format("{} does not take {}; use {}", std::string_view(req.target()),
                                 std::string_view(req.method_string()), allow),
                     req.version(), req.keep_alive());
  res.set(bhttp::field::allow, allow);
  return res;
}

// A 404 for `req`: "no API endpoint GET /api/v1/x" and `why`.
Response no_endpoint(const Request& req, std::string_view why) {
  return error_response(
      bhttp::status::not_found, "not_found",
      fmt::format("no API endpoint {} {}{}", std::string_view(req.method_string()),
                  std::string_view(req.target()), why),
      req.version(), req.keep_alive());
}

// The listener's endpoints outside /api/v1 and their methods (docs/api.md).
struct OtherEndpoint {
  std::string_view path;
  std::string_view allow;
  bool get;                // GET and HEAD; else POST only
  std::string_view query;  // the one query parameter it takes, or none
};
constexpr std::array<OtherEndpoint, 3> kOtherEndpoints = {{
    {"/health", "GET, HEAD", true, "detailed"},
    {"/metrics", "GET, HEAD", true, ""},
    {"/reload", "POST", false, ""},
}};

// Every /api/v1 endpoint, by resource. The tables of the first release keep its answers to
// what they do not serve (router.hpp, Conventions).
std::span<const EndpointTable> endpoint_tables() {
  constexpr auto kFirstRelease = Conventions::kFirstRelease;
  static const std::array<EndpointTable, 9> kTables = {{
      {token_endpoints(), kFirstRelease},
      {audit_endpoints(), kFirstRelease},
      {service_endpoints(), kFirstRelease},
      {deployment_endpoints(), kFirstRelease},
      {rollout_endpoints(), Conventions::kCurrent},
      {secret_endpoints(), Conventions::kCurrent},
      {instance_endpoints(), Conventions::kCurrent},
      {tail_endpoints(), Conventions::kCurrent},
      {log_endpoints(), Conventions::kCurrent},
  }};
  return kTables;
}

}  // namespace

bool wants_detail(const Request& req) { return detailed_value(req).value_or(false); }

std::optional<Response> Api::handle(const Request& req) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& endpoint : kOtherEndpoints) {
    if (path != endpoint.path) {
      continue;
    }
    const auto m = req.method();
    const bool allowed =
        endpoint.get ? (m == bhttp::verb::get || m == bhttp::verb::head) : m == bhttp::verb::post;
    if (!allowed) {
      return method_not_allowed(req, endpoint.allow);
    }
    auto s = query_is(req, endpoint.query);
    if (s && !endpoint.query.empty()) {
      s = detailed_value(req).has_value()
              ? Status{}
              : make_error(Errc::kInvalidArgument,
                           "detailed: give true or 1 (the components), false or 0 (the status)");
    }
    if (!s) {
      return error_response(bhttp::status::bad_request, "invalid_argument", s.error().message,
                            req.version(), req.keep_alive(), field_of(s.error().message));
    }
    return std::nullopt;
  }
  constexpr std::string_view kPrefix = "/api/v1";
  if (path.substr(0, kPrefix.size()) != kPrefix ||
      (path.size() > kPrefix.size() && path[kPrefix.size()] != '/')) {
    return std::nullopt;
  }
  return route(req, path.substr(kPrefix.size()));
}

Response Api::route(const Request& req, std::string_view path) {
  const auto parts = path_segments(path);
  if (parts.empty()) {
    return no_endpoint(req, "; docs/api.md lists them");
  }
  if (has_empty_segment(path)) {
    return no_endpoint(req, ": a path segment is empty (an empty name?)");
  }
  auto match = match_endpoint(endpoint_tables(), req.method(), parts);
  if (match.endpoint == nullptr && match.query_first) {
    if (auto s = query_is(req, ""); !s) {
      return failure(req, s.error());
    }
  }
  if (match.allow.empty()) {
    return no_endpoint(req, "; docs/api.md lists them");
  }
  if (match.endpoint == nullptr) {
    return method_not_allowed(req, match.allow);
  }
  return serve(req, *match.endpoint, std::move(match.params));
}

Response Api::serve(const Request& req, const Endpoint& entry, std::vector<std::string> params) {
  if (auto s = query_is(req, entry.query); !s) {
    return failure(req, s.error());
  }
  std::optional<Response> refusal;
  auto who = authorize(req, entry.role, refusal);
  if (!who) {
    return std::move(*refusal);
  }
  auto reply = entry.handler(Call{req, std::move(params), query_of(req), std::move(who->name),
                                  rollouts_, service_, registry_, extensions_});
  if (!reply) {
    return failure(req, reply.error());
  }
  // A write that succeeded: the store works (again).
  if (entry.method != bhttp::verb::get &&
      bhttp::to_status_class(reply->status) == bhttp::status_class::successful) {
    observe_success();
  }
  return json_response(reply->status, to_json_text(reply->body), req.version(), req.keep_alive());
}

}  // namespace rampart::admin
