#include "admin/api.hpp"

#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/time_text.hpp"
#include "config/config.hpp"
#include "model/codec.hpp"
#include "model/policy_codec.hpp"
#include "model/seed.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

std::string rfc3339(std::int64_t unix_ms) { return format_rfc3339(unix_ms); }

std::optional<std::int64_t> parse_rfc3339_utc(std::string_view text) {
  // Stricter than parse_rfc3339: a full time ("T"), in UTC ("Z"), not before 1970.
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't') ||
      (!text.ends_with('Z') && !text.ends_with('z'))) {
    return std::nullopt;
  }
  auto ms = parse_rfc3339(text);
  if (!ms || *ms < 0) {
    return std::nullopt;
  }
  return *ms;
}

namespace {

json::object split_json(const std::vector<model::SplitEntry>& split) {
  json::object o;
  for (const auto& e : split) {
    o[e.version] = model::percent_json(e.basis_points);
  }
  return o;
}

std::string route_text(const model::Route& r) { return r.host + r.path_prefix; }

}  // namespace

json::object api_json(const model::Deployment& d) {
  json::object o;
  o["service"] = d.service;
  o["id"] = d.id;
  o["split"] = split_json(d.split);
  o["cause"] = d.cause;
  o["message"] = d.message;
  o["author"] = d.author;
  o["created_at"] = rfc3339(d.created_at);
  o["revision"] = d.revision;
  if (d.rolled_back_from) {
    o["rolled_back_from"] = *d.rolled_back_from;
  }
  if (d.rolled_back_to) {
    o["rolled_back_to"] = *d.rolled_back_to;
  }
  return o;
}

json::object api_json(const model::Version& v) {
  json::object o;
  o["service"] = v.service;
  o["name"] = v.name;
  o["ordinal"] = v.ordinal;
  json::array ups;
  for (const auto& u : v.upstreams) {
    ups.emplace_back(u);
  }
  o["upstreams"] = std::move(ups);
  o["health_path"] = v.health_path;
  o["created_at"] = rfc3339(v.created_at);
  return o;
}

json::object api_json(const model::Checkpoint& c) {
  json::object o;
  o["service"] = c.service;
  o["id"] = c.id;
  o["deployment_id"] = c.deployment_id;
  o["note"] = c.note;
  o["author"] = c.author;
  o["created_at"] = rfc3339(c.created_at);
  return o;
}

namespace {

// A record embedded in an audit event, as stored (model/codec.hpp), in the API's format: no
// "schema", times in RFC 3339, splits as {version: percent}, routes as "host/prefix", an
// absent rolled_back_from/to left out. Applied to every object inside `stored`.
json::value api_record(const json::value& stored) {
  if (const auto* a = stored.if_array()) {
    json::array out;
    for (const auto& item : *a) {
      out.push_back(api_record(item));
    }
    return out;
  }
  const auto* o = stored.if_object();
  if (o == nullptr) {
    return stored;
  }
  json::object out;
  for (const auto& [key, value] : *o) {
    const std::string_view k = key;
    if (k == "schema" || ((k == "rolled_back_from" || k == "rolled_back_to") && value.is_null())) {
      continue;
    }
    if (k.ends_with("_at") && value.is_int64()) {
      out[k] = rfc3339(value.as_int64());
    } else if (k == "split" && value.is_array()) {
      json::object split;
      for (const auto& e : value.as_array()) {
        const auto* entry = e.if_object();
        const auto* version = entry ? entry->if_contains("version") : nullptr;
        const auto* bp = entry ? entry->if_contains("basis_points") : nullptr;
        if (version && version->is_string() && bp && bp->is_int64()) {
          split[version->as_string()] =
              model::percent_json(static_cast<std::uint32_t>(bp->as_int64()));
        }
      }
      out[k] = std::move(split);
    } else if (k == "routes" && value.is_array()) {
      json::array routes;
      for (const auto& r : value.as_array()) {
        const auto* route = r.if_object();
        const auto* host = route ? route->if_contains("host") : nullptr;
        const auto* prefix = route ? route->if_contains("path_prefix") : nullptr;
        if (host && host->is_string() && prefix && prefix->is_string()) {
          routes.emplace_back(std::string(host->as_string()) + std::string(prefix->as_string()));
        } else {
          routes.push_back(api_record(r));
        }
      }
      out[k] = std::move(routes);
    } else {
      out[k] = api_record(value);
    }
  }
  return out;
}

}  // namespace

json::object api_json(const model::AuditEvent& e) {
  json::object o;
  o["seq"] = e.seq;
  o["at"] = rfc3339(e.at);
  o["actor"] = e.actor;
  o["action"] = e.action;
  o["target"] = e.target;
  o["before"] = api_record(e.before);
  o["after"] = api_record(e.after);
  o["revision"] = e.revision;
  return o;
}

json::object api_json(const model::Token& t) {
  json::object o;
  o["name"] = t.name;
  o["role"] = model::to_string(t.role);
  o["created_at"] = rfc3339(t.created_at);
  o["expires_at"] = t.expires_at ? json::value(rfc3339(*t.expires_at)) : json::value(nullptr);
  o["revoked_at"] = t.revoked_at ? json::value(rfc3339(*t.revoked_at)) : json::value(nullptr);
  return o;
}

json::object api_summary(const model::Service& s, const model::Deployment* latest) {
  json::object o;
  o["name"] = s.name;
  json::array routes;
  for (const auto& r : s.routes) {
    routes.emplace_back(route_text(r));
  }
  o["routes"] = std::move(routes);
  o["sticky"] = model::to_string(s.sticky);
  o["balance"] = model::to_string(s.balance);
  o["latest"] = latest ? json::value(api_json(*latest)) : json::value(nullptr);
  return o;
}

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

namespace {

// [api_json(item), ...]
template <class T>
json::array api_array(const std::vector<T>& items) {
  json::array a;
  a.reserve(items.size());
  for (const auto& item : items) {
    a.emplace_back(api_json(item));
  }
  return a;
}

// Lists answer at most this many items per call (`limit`).
constexpr std::size_t kDefaultListLimit = 1000;
constexpr std::size_t kMaxListLimit = 10000;

Response ok(const Request& req, bhttp::status status, const json::value& body) {
  return json_response(status, to_json_text(body), req.version(), req.keep_alive());
}

}  // namespace

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

namespace {

// "%C3%BCn" -> "ün"; a malformed escape is kept as it is.
std::string percent_decoded(std::string_view part) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  std::string out;
  out.reserve(part.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part[i] == '%' && i + 2 < part.size() && hex(part[i + 1]) >= 0 && hex(part[i + 2]) >= 0) {
      out += static_cast<char>(hex(part[i + 1]) * 16 + hex(part[i + 2]));
      i += 2;
    } else {
      out += part[i];
    }
  }
  return out;
}

// The path's segments, percent-decoded, so that names are echoed as they were typed.
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty()) {
      parts.push_back(percent_decoded(part));
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

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

namespace {

// {"v1": 90, "v2": 10} -> split entries in basis points (order as given; the service stores
// them in ordinal order).
Result<std::vector<model::SplitEntry>> parse_split(const json::object& o) {
  const auto* v = o.if_contains("split");
  if (v == nullptr) {
    return make_error(Errc::kInvalidArgument,
                      "split: missing; give an object of version to percent, e.g. "
                      "{\"v1\": 90, \"v2\": 10}");
  }
  if (!v->is_object()) {
    return make_error(Errc::kInvalidArgument,
                      "split: must be an object of version to percent, e.g. {\"v1\": 90, "
                      "\"v2\": 10}");
  }
  std::vector<model::SplitEntry> split;
  for (const auto& [name, value] : v->as_object()) {
    double percent = 0;
    if (value.is_int64()) {
      percent = static_cast<double>(value.as_int64());
    } else if (value.is_uint64()) {
      percent = static_cast<double>(value.as_uint64());
    } else if (value.is_double()) {
      percent = value.as_double();
    } else {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("split: the share of \"{}\" must be a number (percent)",
                                    std::string_view(name)));
    }
    const double bp = std::round(percent * 100.0);
    if (!std::isfinite(percent) || percent < 0 || percent > 100) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("split: the share of \"{}\" is {}; a share is a percent "
                                    "from 0 to 100",
                                    std::string_view(name), percent));
    }
    if (std::abs(bp - percent * 100.0) > 1e-6) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("split: the share of \"{}\" ({}) has more than two "
                                    "decimals; 0.01% is the finest step",
                                    std::string_view(name), percent));
    }
    split.push_back({std::string(name), static_cast<std::uint32_t>(bp)});
  }
  return split;
}

}  // namespace

Api::Api(control::DeploymentService& service, const metrics::Registry& registry,
         control::RolloutService& rollouts)
    : service_(service), registry_(registry), rollouts_(rollouts) {}

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

Status query_is(const Request& req, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : query_of(req)) {
    if (std::find(known.begin(), known.end(), std::string_view(name)) != known.end()) {
      continue;
    }
    std::string list;
    for (auto n : known) {
      list += (list.empty() ? "" : ", ") + std::string(n);
    }
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: unknown query parameter; {}", name,
                                  list.empty() ? std::string("this endpoint takes none")
                                               : "this endpoint takes " + list));
  }
  return {};
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
    auto s = endpoint.query.empty() ? query_is(req, {}) : query_is(req, {endpoint.query});
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
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  const auto method = req.method();
  const bool get = method == bhttp::verb::get || method == bhttp::verb::head;
  const bool post = method == bhttp::verb::post;
  const auto parts = split_path(path);
  auto not_found = [&] {
    return error_response(
        bhttp::status::not_found, "not_found",
        fmt::format("no API endpoint {} {}; docs/api.md lists them",
                    std::string_view(req.method_string()), std::string_view(req.target())),
        v, keep);
  };
  auto not_allowed = [&](std::string_view allow) { return method_not_allowed(req, allow); };
  std::optional<Response> refusal;
  auto need = [&](model::Role role) -> std::optional<model::Token> {
    auto t = authorize(req, role, refusal);
    if (!t) {
      return std::nullopt;
    }
    return std::move(*t);
  };

  const auto query = query_of(req);
  auto query_int = [&](std::string_view key) -> Result<std::optional<std::int64_t>> {
    auto it = query.find(key);
    if (it == query.end()) {
      return std::optional<std::int64_t>{};
    }
    auto n = parse_int(it->second);
    if (!n || *n < 0) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("{}: \"{}\" is not a non-negative integer", key, it->second));
    }
    return std::optional<std::int64_t>(*n);
  };

  // A list's length: `limit` (1..kMaxListLimit), kDefaultListLimit without it.
  auto list_limit = [&]() -> Result<std::size_t> {
    auto limit = query_int("limit");
    if (!limit) {
      return limit.error();
    }
    if (!*limit) {
      return kDefaultListLimit;
    }
    if (**limit < 1 || **limit > static_cast<std::int64_t>(kMaxListLimit)) {
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("limit: {} is out of range; give 1 to {}", **limit, kMaxListLimit));
    }
    return static_cast<std::size_t>(**limit);
  };

  if (parts.empty()) {
    return not_found();
  }
  if (path.find("//") != std::string_view::npos) {
    return error_response(
        bhttp::status::not_found, "not_found",
        fmt::format("no API endpoint {} {}: a path segment is empty (an empty name?)",
                    std::string_view(req.method_string()), std::string_view(req.target())),
        v, keep);
  }
  if (auto served = serve_table(req, parts)) {
    return std::move(*served);
  }
  // Only the lists take query parameters.
  const bool audit_list = get && parts.size() == 1 && parts[0] == "audit";
  const bool deployment_list =
      get && parts.size() == 3 && parts[0] == "services" && parts[2] == "deployments";
  if (auto s = query_is(
          req, audit_list ? std::initializer_list<std::string_view>{"after", "since", "limit"}
               : deployment_list ? std::initializer_list<std::string_view>{"limit"}
                                 : std::initializer_list<std::string_view>{});
      !s) {
    return failure(req, s.error());
  }

  // /tokens
  if (parts[0] == "tokens" && parts.size() == 1) {
    if (!get && !post) {
      return not_allowed("GET, POST");
    }
    auto who = need(model::Role::kAdmin);
    if (!who) {
      return std::move(*refusal);
    }
    if (get) {
      auto tokens = service_.tokens();
      if (!tokens) {
        return failure(req, tokens.error());
      }
      return ok(req, bhttp::status::ok, json::object{{"tokens", api_array(*tokens)}});
    }
    auto body = body_object(req);
    if (!body) {
      return failure(req, body.error());
    }
    if (auto s = no_unknown_fields(*body, {"name", "role", "expires_at"}); !s) {
      return failure(req, s.error());
    }
    auto name = string_field(*body, "name");
    if (!name) {
      return failure(req, name.error());
    }
    auto role_text = string_field(*body, "role");
    if (!role_text) {
      return failure(req, role_text.error());
    }
    if (!*name) {
      return failure(req, make_error(Errc::kInvalidArgument, "name: missing"));
    }
    if (!*role_text) {
      return failure(req, make_error(Errc::kInvalidArgument,
                                     "role: missing; one of admin, deployer, read-only"));
    }
    auto role = model::parse_role(**role_text);
    if (!role) {
      return failure(req, make_error(Errc::kInvalidArgument,
                                     fmt::format("role: \"{}\" is not a role; use admin, "
                                                 "deployer or read-only",
                                                 **role_text)));
    }
    auto expires_text = string_field(*body, "expires_at");
    if (!expires_text) {
      return failure(req, expires_text.error());
    }
    std::optional<std::int64_t> expires_at;
    if (*expires_text) {
      expires_at = parse_rfc3339_utc(**expires_text);
      if (!expires_at) {
        return failure(req, make_error(Errc::kInvalidArgument,
                                       fmt::format("expires_at: \"{}\" is not an RFC 3339 time in "
                                                   "UTC, e.g. \"2026-12-31T00:00:00Z\"",
                                                   **expires_text)));
      }
    }
    auto created = service_.create_token(**name, *role, who->name, expires_at);
    if (!created) {
      return failure(req, created.error());
    }
    observe_success();
    json::object o = api_json(created->token);
    o["token"] = created->secret;
    return ok(req, bhttp::status::created, std::move(o));
  }

  // /tokens/{name}
  if (parts[0] == "tokens" && parts.size() == 2) {
    if (method != bhttp::verb::delete_) {
      return not_allowed("DELETE");
    }
    auto who = need(model::Role::kAdmin);
    if (!who) {
      return std::move(*refusal);
    }
    auto revoked = service_.revoke_token(parts[1], who->name);
    if (!revoked) {
      return failure(req, revoked.error());
    }
    observe_success();
    return ok(req, bhttp::status::ok, api_json(*revoked));
  }

  // /audit
  if (parts[0] == "audit" && parts.size() == 1) {
    if (!get) {
      return not_allowed("GET");
    }
    if (!need(model::Role::kReadOnly)) {
      return std::move(*refusal);
    }
    control::AuditQuery q;
    auto after = query_int("after");
    auto since = query_int("since");
    auto limit = list_limit();
    for (auto* r : {&after, &since}) {
      if (!*r) {
        return failure(req, r->error());
      }
    }
    if (!limit) {
      return failure(req, limit.error());
    }
    q.after_seq = after->value_or(0);
    q.since_ms = since->value_or(0);
    q.limit = *limit;
    auto events = service_.audit(q);
    if (!events) {
      return failure(req, events.error());
    }
    return ok(req, bhttp::status::ok, json::object{{"events", api_array(*events)}});
  }

  // /apply
  if (parts[0] == "apply" && parts.size() == 1) {
    if (!post) {
      return not_allowed("POST");
    }
    auto who = need(model::Role::kDeployer);
    if (!who) {
      return std::move(*refusal);
    }
    auto body = body_object(req);
    if (!body) {
      return failure(req, body.error());
    }
    if (auto s = no_unknown_fields(*body, {"config", "source", "message"}); !s) {
      return failure(req, s.error());
    }
    auto text = string_field(*body, "config");
    if (!text) {
      return failure(req, text.error());
    }
    if (!*text) {
      return failure(req, make_error(Errc::kInvalidArgument,
                                     "config: missing; give the text of a config file"));
    }
    auto source = string_field(*body, "source");
    if (!source) {
      return failure(req, source.error());
    }
    auto message = string_field(*body, "message");
    if (!message) {
      return failure(req, message.error());
    }
    auto cfg = config::parse_config(**text, source->value_or("config"));
    if (!cfg) {
      return error_response(bhttp::status::bad_request, "invalid_config", cfg.error().message, v,
                            keep, "config");
    }
    auto applied = service_.apply(*cfg, who->name, message->value_or(""));
    if (!applied) {
      return failure(req, applied.error());
    }
    observe_success();
    return ok(req, bhttp::status::ok,
              json::object{{"changed", applied->changed},
                           {"revision", applied->revision},
                           {"deployments", api_array(applied->deployments)}});
  }

  if (parts[0] != "services") {
    return not_found();
  }

  // /services
  if (parts.size() == 1) {
    if (!get) {
      return not_allowed("GET");
    }
    if (!need(model::Role::kReadOnly)) {
      return std::move(*refusal);
    }
    auto snapshot = service_.snapshot();
    if (!snapshot) {
      return failure(req, snapshot.error());
    }
    json::array a;
    for (const auto& s : snapshot->services) {
      a.emplace_back(api_summary(s.service, s.latest ? &*s.latest : nullptr));
    }
    return ok(req, bhttp::status::ok, json::object{{"services", std::move(a)}});
  }

  const std::string& service_name = parts[1];
  // /services/{s}
  if (parts.size() == 2) {
    if (!get) {
      return not_allowed("GET");
    }
    if (!need(model::Role::kReadOnly)) {
      return std::move(*refusal);
    }
    auto service = service_.service(service_name);
    if (!service) {
      return failure(req, service.error());
    }
    auto versions = service_.versions(service_name);
    if (!versions) {
      return failure(req, versions.error());
    }
    auto latest = service_.latest(service_name);
    if (!latest && latest.error().code != Errc::kNotFound) {
      return failure(req, latest.error());
    }
    auto checkpoints = service_.checkpoints(service_name);
    if (!checkpoints) {
      return failure(req, checkpoints.error());
    }
    auto analytics = service_.analytics(service_name);
    if (!analytics) {
      return failure(req, analytics.error());
    }

    json::object o = api_summary(*service, latest ? &*latest : nullptr);
    o["rollout"] = model::to_json(service->rollout);  // what `deploy` runs and prints first
    o["versions"] = api_array(*versions);
    o["checkpoints"] = checkpoints->size();
    json::object an;
    an["deployments"] = analytics->deployments;
    an["rollbacks"] = analytics->rollbacks;
    an["rolled_back"] = analytics->rolled_back;
    an["success_rate"] =
        analytics->success_rate ? json::value(*analytics->success_rate) : json::value(nullptr);
    o["analytics"] = std::move(an);
    json::object metrics;
    for (const auto& m : registry_.snapshot_versions()) {
      if (m.service != service_name) {
        continue;
      }
      json::object vm;
      vm["requests"] = m.requests();
      for (unsigned c = 1; c <= metrics::kStatusClassCount; ++c) {
        vm[fmt::format("{}xx", c)] = m.responses(c);
      }
      json::object failures;
      for (auto f : {metrics::UpstreamFailure::kConnect, metrics::UpstreamFailure::kReset,
                     metrics::UpstreamFailure::kTimeout}) {
        failures[metrics::to_string(f)] = m.upstream_failure_count(f);
      }
      vm["upstream_failures"] = std::move(failures);
      json::array upstreams;
      for (const auto& u : m.upstreams) {
        upstreams.push_back(json::object{
            {"upstream", u.upstream},
            {"state", u.problem.empty() ? "ok" : "unresolved"},
            {"problem", u.problem.empty() ? json::value(nullptr) : json::value(u.problem)}});
      }
      vm["upstreams"] = std::move(upstreams);
      for (auto [key, q] : {std::pair{"p50_ms", 0.50}, {"p95_ms", 0.95}, {"p99_ms", 0.99}}) {
        vm[key] = m.latency.count() == 0
                      ? json::value(nullptr)
                      : json::value(static_cast<double>(m.latency.quantile(q)) / 1e6);
      }
      metrics[m.version] = std::move(vm);
    }
    o["metrics"] = std::move(metrics);
    return ok(req, bhttp::status::ok, std::move(o));
  }

  const std::string_view section = parts[2];
  // /services/{s}/versions[/{v}]
  if (section == "versions" && parts.size() <= 4) {
    if (!get) {
      return not_allowed("GET");
    }
    if (!need(model::Role::kReadOnly)) {
      return std::move(*refusal);
    }
    auto versions = service_.versions(service_name);
    if (!versions) {
      return failure(req, versions.error());
    }
    if (parts.size() == 4) {
      for (const auto& ver : *versions) {
        if (ver.name == parts[3]) {
          return ok(req, bhttp::status::ok, api_json(ver));
        }
      }
      return failure(req,
                     make_error(Errc::kNotFound, fmt::format("service \"{}\" has no version \"{}\"",
                                                             service_name, parts[3])));
    }
    return ok(req, bhttp::status::ok, json::object{{"versions", api_array(*versions)}});
  }

  // /services/{s}/deployments[/{id}]
  if (section == "deployments" && parts.size() == 4) {
    if (!get) {
      return not_allowed("GET");
    }
    if (!need(model::Role::kReadOnly)) {
      return std::move(*refusal);
    }
    auto id = parse_int(parts[3]);
    if (!id || *id < 1) {
      return failure(req, make_error(Errc::kNotFound,
                                     fmt::format("\"{}\" is not a deployment id; ids are 1, 2, "
                                                 "3, ...",
                                                 parts[3])));
    }
    auto d = service_.deployment(service_name, *id);
    if (!d) {
      return failure(req, d.error());
    }
    return ok(req, bhttp::status::ok, api_json(*d));
  }
  if (section == "deployments" && parts.size() == 3) {
    if (get) {
      if (!need(model::Role::kReadOnly)) {
        return std::move(*refusal);
      }
      auto limit = list_limit();
      if (!limit) {
        return failure(req, limit.error());
      }
      auto list = service_.deployments(service_name, *limit);
      if (!list) {
        return failure(req, list.error());
      }
      return ok(req, bhttp::status::ok, json::object{{"deployments", api_array(*list)}});
    }
    if (!post) {
      return not_allowed("GET, POST");
    }
    auto who = need(model::Role::kDeployer);
    if (!who) {
      return std::move(*refusal);
    }
    auto body = body_object(req);
    if (!body) {
      return failure(req, body.error());
    }
    if (auto s = no_unknown_fields(*body, {"split", "message", "expected_revision", "force"}); !s) {
      return failure(req, s.error());
    }
    auto split = parse_split(*body);
    if (!split) {
      return failure(req, split.error());
    }
    auto message = string_field(*body, "message");
    if (!message) {
      return failure(req, message.error());
    }
    auto expected = int_field(*body, "expected_revision");
    if (!expected) {
      return failure(req, expected.error());
    }
    auto force = bool_field(*body, "force");
    if (!force) {
      return failure(req, force.error());
    }
    // Versions the body does not name get 0 (set_split fills them in).
    auto d = service_.set_split(service_name, *split, who->name, message->value_or(""), *expected,
                                force->value_or(false));
    if (!d) {
      return failure(req, d.error());
    }
    observe_success();
    json::object o = api_json(d->deployment);
    o["changed"] = d->changed;
    return ok(req, d->changed ? bhttp::status::created : bhttp::status::ok, std::move(o));
  }

  // /services/{s}/rollback
  if (section == "rollback" && parts.size() == 3) {
    if (!post) {
      return not_allowed("POST");
    }
    auto who = need(model::Role::kDeployer);
    if (!who) {
      return std::move(*refusal);
    }
    auto body = body_object(req);
    if (!body) {
      return failure(req, body.error());
    }
    if (auto s = no_unknown_fields(*body, {"deployment_id", "checkpoint_id", "message"}); !s) {
      return failure(req, s.error());
    }
    auto deployment_id = int_field(*body, "deployment_id");
    if (!deployment_id) {
      return failure(req, deployment_id.error());
    }
    auto checkpoint_id = int_field(*body, "checkpoint_id");
    if (!checkpoint_id) {
      return failure(req, checkpoint_id.error());
    }
    auto message = string_field(*body, "message");
    if (!message) {
      return failure(req, message.error());
    }
    control::RollbackTarget target{*deployment_id, *checkpoint_id};
    auto d = service_.rollback(service_name, target, who->name, message->value_or(""));
    if (!d) {
      return failure(req, d.error());
    }
    observe_success();
    return ok(req, bhttp::status::created, api_json(*d));
  }

  // /services/{s}/checkpoints
  if (section == "checkpoints" && parts.size() == 3) {
    if (get) {
      if (!need(model::Role::kReadOnly)) {
        return std::move(*refusal);
      }
      auto list = service_.checkpoints(service_name);
      if (!list) {
        return failure(req, list.error());
      }
      return ok(req, bhttp::status::ok, json::object{{"checkpoints", api_array(*list)}});
    }
    if (!post) {
      return not_allowed("GET, POST");
    }
    auto who = need(model::Role::kDeployer);
    if (!who) {
      return std::move(*refusal);
    }
    auto body = body_object(req);
    if (!body) {
      return failure(req, body.error());
    }
    if (auto s = no_unknown_fields(*body, {"note"}); !s) {
      return failure(req, s.error());
    }
    auto note = string_field(*body, "note");
    if (!note) {
      return failure(req, note.error());
    }
    auto c = service_.checkpoint(service_name, note->value_or(""), who->name);
    if (!c) {
      return failure(req, c.error());
    }
    observe_success();
    return ok(req, bhttp::status::created, api_json(*c));
  }

  return not_found();
}

}  // namespace rampart::admin
