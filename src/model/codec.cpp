#include "model/codec.hpp"

#include "model/fields.hpp"
#include "model/policy_codec.hpp"
#include "model/run_codec.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <optional>

namespace rampart::model {

namespace json = boost::json;

using detail::Fields;
using detail::kInt64Max;
using detail::kUint32Max;
using detail::open_record;
using detail::read_string_array;
using detail::string_array;

namespace {

json::value optional_id(const std::optional<std::int64_t>& id) {
  if (id) {
    return json::value(*id);
  }
  return json::value(nullptr);
}

}  // namespace

// --- Service --------------------------------------------------------------------------------

json::object to_json(const Service& service) {
  json::array routes;
  for (const auto& route : service.routes) {
    routes.push_back(json::object{{"host", route.host}, {"path_prefix", route.path_prefix}});
  }
  return json::object{
      {"schema", kServiceSchema},
      {"name", service.name},
      {"routes", std::move(routes)},
      {"sticky", to_string(service.sticky)},
      {"salt", service.salt},
      {"balance", to_string(service.balance)},
      {"eject_after", static_cast<std::int64_t>(service.eject_after)},
      {"eject_for_ms", static_cast<std::int64_t>(service.eject_for_ms)},
      {"rollout", to_json(service.rollout)},
  };
}

Result<Service> decode_service(std::string_view text) {
  auto record = open_record(text, "service", kServiceSchema);
  if (!record) {
    return record.error();
  }
  Fields f(record->first, "service record");
  Service s;
  s.name = f.string("name");
  if (const json::array* routes = f.array("routes")) {
    for (std::size_t i = 0; i < routes->size(); ++i) {
      const json::object* r = f.element_object("routes", i, (*routes)[i]);
      if (r == nullptr) {
        break;
      }
      Fields rf(*r, fmt::format("service record: routes[{}]", i));
      s.routes.push_back(Route{rf.string("host"), rf.string("path_prefix")});
      f.adopt(rf);
    }
  }
  const std::string sticky = f.string("sticky");
  if (auto parsed = parse_sticky(sticky)) {
    s.sticky = *parsed;
  } else if (!f.error()) {
    f.fail("sticky",
           fmt::format("is \"{}\"; expected ip, none, header:NAME or cookie:NAME", sticky));
  }
  s.salt = f.string("salt");
  const std::string balance = f.string("balance");
  if (auto parsed = parse_balance(balance)) {
    s.balance = *parsed;
  } else if (!f.error()) {
    f.fail("balance", fmt::format("is \"{}\"; expected least_request or round_robin", balance));
  }
  s.eject_after = static_cast<std::uint32_t>(f.integer("eject_after", 0, kUint32Max));
  s.eject_for_ms = static_cast<std::uint32_t>(f.integer("eject_for_ms", 0, kUint32Max));
  if (record->second >= 2) {
    if (const json::object* policy = f.object("rollout")) {
      auto p = policy_from_json(*policy, "service record: rollout");
      if (!p) {
        return p.error();
      }
      s.rollout = std::move(*p);
    }
  }
  if (auto e = f.error()) {
    return *e;
  }
  return s;
}

// --- Version --------------------------------------------------------------------------------

json::object to_json(const Version& version) {
  json::object o{
      {"schema", kVersionSchema},
      {"service", version.service},
      {"name", version.name},
      {"ordinal", version.ordinal},
      {"upstreams", string_array(version.upstreams)},
      {"created_at", version.created_at},
      {"health_path", version.health_path},
  };
  if (version.run) {
    o["run"] = to_json(*version.run);
  }
  return o;
}

Result<Version> decode_version(std::string_view text) {
  auto record = open_record(text, "version", kVersionSchema);
  if (!record) {
    return record.error();
  }
  const int schema = record->second;
  Fields f(record->first, "version record");
  Version v;
  v.service = f.string("service");
  v.name = f.string("name");
  v.ordinal = f.integer("ordinal", 1, kInt64Max);
  v.upstreams = read_string_array(f, "upstreams");
  v.created_at = f.integer("created_at", 0, kInt64Max);
  if (schema >= 2) {
    v.health_path = f.string("health_path");
  }  // else: the default, kDefaultHealthPath
  if (schema >= 3 && f.has("run")) {
    if (const json::object* run = f.object("run")) {
      auto spec = run_spec_from_json(*run, "version record: run");
      if (!spec) {
        return spec.error();
      }
      v.run = std::move(*spec);
    }
  }
  if (auto e = f.error()) {
    return *e;
  }
  return v;
}

// --- Deployment -----------------------------------------------------------------------------

json::object to_json(const Deployment& deployment) {
  json::array split;
  for (const auto& entry : deployment.split) {
    split.push_back(json::object{{"version", entry.version},
                                 {"basis_points", static_cast<std::int64_t>(entry.basis_points)}});
  }
  return json::object{
      {"schema", kDeploymentSchema},
      {"service", deployment.service},
      {"id", deployment.id},
      {"split", std::move(split)},
      {"author", deployment.author},
      {"created_at", deployment.created_at},
      {"message", deployment.message},
      {"cause", deployment.cause},
      {"rolled_back_from", optional_id(deployment.rolled_back_from)},
      {"rolled_back_to", optional_id(deployment.rolled_back_to)},
  };
}

Result<Deployment> decode_deployment(std::string_view text) {
  auto record = open_record(text, "deployment", kDeploymentSchema);
  if (!record) {
    return record.error();
  }
  const int schema = record->second;
  Fields f(record->first, "deployment record");
  Deployment d;
  d.service = f.string("service");
  d.id = f.integer("id", 1, kMaxId);
  if (const json::array* split = f.array("split")) {
    for (std::size_t i = 0; i < split->size(); ++i) {
      const json::object* e = f.element_object("split", i, (*split)[i]);
      if (e == nullptr) {
        break;
      }
      Fields ef(*e, fmt::format("deployment record: split[{}]", i));
      SplitEntry entry;
      entry.version = ef.string("version");
      entry.basis_points =
          static_cast<std::uint32_t>(ef.integer("basis_points", 0, kTotalBasisPoints));
      d.split.push_back(std::move(entry));
      f.adopt(ef);
    }
  }
  d.author = f.string("author");
  d.created_at = f.integer("created_at", 0, kInt64Max);
  d.message = f.string("message");
  d.cause = f.string("cause");
  if (!f.error() && d.cause.empty()) {
    f.fail("cause", "is empty");
  }
  // Schema 2 writes both links (null when not a rollback); schema 1 has neither.
  const bool links_required = schema >= 2;
  d.rolled_back_from = f.optional_integer("rolled_back_from", 1, kMaxId, links_required);
  d.rolled_back_to = f.optional_integer("rolled_back_to", 1, kMaxId, links_required);
  if (auto e = f.error()) {
    return *e;
  }
  return d;
}

// --- Checkpoint -----------------------------------------------------------------------------

json::object to_json(const Checkpoint& checkpoint) {
  return json::object{
      {"schema", kCheckpointSchema},
      {"service", checkpoint.service},
      {"id", checkpoint.id},
      {"deployment_id", checkpoint.deployment_id},
      {"note", checkpoint.note},
      {"author", checkpoint.author},
      {"created_at", checkpoint.created_at},
  };
}

Result<Checkpoint> decode_checkpoint(std::string_view text) {
  auto record = open_record(text, "checkpoint", kCheckpointSchema);
  if (!record) {
    return record.error();
  }
  Fields f(record->first, "checkpoint record");
  Checkpoint c;
  c.service = f.string("service");
  c.id = f.integer("id", 1, kMaxId);
  c.deployment_id = f.integer("deployment_id", 1, kMaxId);
  c.note = f.string("note");
  c.author = f.string("author");
  c.created_at = f.integer("created_at", 0, kInt64Max);
  if (auto e = f.error()) {
    return *e;
  }
  return c;
}

// --- AuditEvent -----------------------------------------------------------------------------

json::object to_json(const AuditEvent& event) {
  return json::object{
      {"schema", kAuditEventSchema}, {"seq", event.seq},       {"at", event.at},
      {"actor", event.actor},        {"action", event.action}, {"target", event.target},
      {"before", event.before},      {"after", event.after},
  };
}

Result<AuditEvent> decode_audit_event(std::string_view text) {
  auto record = open_record(text, "audit event", kAuditEventSchema);
  if (!record) {
    return record.error();
  }
  Fields f(record->first, "audit event record");
  AuditEvent a;
  a.seq = f.integer("seq", 1, kMaxId);
  a.at = f.integer("at", 0, kInt64Max);
  a.actor = f.string("actor");
  a.action = f.string("action");
  a.target = f.string("target");
  if (const json::value* before = f.any("before")) {
    a.before = *before;
  }
  if (const json::value* after = f.any("after")) {
    a.after = *after;
  }
  if (auto e = f.error()) {
    return *e;
  }
  return a;
}

// --- Token ----------------------------------------------------------------------------------

json::object to_json(const Token& token) {
  return json::object{
      {"schema", kTokenSchema},
      {"name", token.name},
      {"role", to_string(token.role)},
      {"sha256", token.sha256},
      {"created_at", token.created_at},
      {"expires_at", optional_id(token.expires_at)},
      {"revoked_at", optional_id(token.revoked_at)},
  };
}

Result<Token> decode_token(std::string_view text) {
  auto record = open_record(text, "token", kTokenSchema);
  if (!record) {
    return record.error();
  }
  Fields f(record->first, "token record");
  Token t;
  t.name = f.string("name");
  const std::string role = f.string("role");
  if (auto parsed = parse_role(role)) {
    t.role = *parsed;
  } else if (!f.error()) {
    f.fail("role", fmt::format("is \"{}\"; expected admin, deployer or read-only", role));
  }
  t.sha256 = f.string("sha256");
  if (!f.error() && t.sha256.size() != 64) {
    f.fail("sha256", "must be 64 hex digits");
  }
  t.created_at = f.integer("created_at", 0, kInt64Max);
  const bool schema2 = record->second >= 2;  // else: neither expires nor was revoked
  t.expires_at = f.optional_integer("expires_at", 0, kInt64Max, schema2);
  t.revoked_at = f.optional_integer("revoked_at", 0, kInt64Max, schema2);
  if (auto e = f.error()) {
    return *e;
  }
  return t;
}

// --- encode ---------------------------------------------------------------------------------

std::string encode(const Service& service) { return json::serialize(to_json(service)); }
std::string encode(const Version& version) { return json::serialize(to_json(version)); }
std::string encode(const Deployment& deployment) { return json::serialize(to_json(deployment)); }
std::string encode(const Checkpoint& checkpoint) { return json::serialize(to_json(checkpoint)); }
std::string encode(const AuditEvent& event) { return json::serialize(to_json(event)); }
std::string encode(const Token& token) { return json::serialize(to_json(token)); }

boost::json::value percent_json(std::uint32_t basis_points) {
  if (basis_points % 100 == 0) {
    return boost::json::value(static_cast<std::int64_t>(basis_points / 100));
  }
  return boost::json::value(basis_points / 100.0);
}

}  // namespace rampart::model
