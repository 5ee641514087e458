// The JSON of the API's objects (docs/api.md, "Objects"): times in RFC 3339, splits as
// {version: percent}, routes as "host/prefix".

#include "admin/api.hpp"

#include "model/run_codec.hpp"

#include "common/time_text.hpp"
#include "model/codec.hpp"

namespace rampart::admin {

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
  if (v.run) {
    o["run"] = model::to_json(*v.run);
  }
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

}  // namespace rampart::admin
