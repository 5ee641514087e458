// The token endpoints (docs/api.md, "Tokens"): admin only.

#include "admin/api.hpp"
#include "admin/endpoints.hpp"

#include <fmt/format.h>

#include <array>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

using model::Role;
using Verb = bhttp::verb;

Error invalid(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

Result<Reply> list_tokens(const Call& call) {
  auto tokens = call.deployments.tokens();
  if (!tokens) {
    return tokens.error();
  }
  return Reply{bhttp::status::ok, json::object{{"tokens", api_list(*tokens)}}};
}

Result<model::Role> role_of(const json::object& body) {
  auto text = string_field(body, "role");
  if (!text) {
    return text.error();
  }
  if (!*text) {
    return invalid("role: missing; one of admin, deployer, read-only");
  }
  auto role = model::parse_role(**text);
  if (!role) {
    return invalid(
        fmt::format("role: \"{}\" is not a role; use admin, deployer or read-only", **text));
  }
  return *role;
}

Result<std::optional<std::int64_t>> expiry_of(const json::object& body) {
  auto text = string_field(body, "expires_at");
  if (!text) {
    return text.error();
  }
  if (!*text) {
    return std::optional<std::int64_t>{};
  }
  auto at = parse_rfc3339_utc(**text);
  if (!at) {
    return invalid(fmt::format(
        "expires_at: \"{}\" is not an RFC 3339 time in UTC, e.g. \"2026-12-31T00:00:00Z\"",
        **text));
  }
  return at;
}

Result<Reply> create_token(const Call& call) {
  auto body = body_with(call.request, {"name", "role", "expires_at"});
  if (!body) {
    return body.error();
  }
  auto name = string_field(*body, "name");
  if (!name) {
    return name.error();
  }
  // A role of the wrong type is named before a missing name.
  auto role_text = string_field(*body, "role");
  if (!role_text) {
    return role_text.error();
  }
  if (!*name) {
    return invalid("name: missing");
  }
  auto role = role_of(*body);
  if (!role) {
    return role.error();
  }
  auto expires_at = expiry_of(*body);
  if (!expires_at) {
    return expires_at.error();
  }
  auto created = call.deployments.create_token(**name, *role, call.actor, *expires_at);
  if (!created) {
    return created.error();
  }
  json::object o = api_json(created->token);
  o["token"] = created->secret;
  return Reply{bhttp::status::created, std::move(o)};
}

Result<Reply> revoke_token(const Call& call) {
  auto revoked = call.deployments.revoke_token(call.params[0], call.actor);
  if (!revoked) {
    return revoked.error();
  }
  return Reply{bhttp::status::ok, api_json(*revoked)};
}

constexpr std::array<Endpoint, 3> kTokenEndpoints = {{
    {Verb::get, "tokens", Role::kAdmin, "", &list_tokens},
    {Verb::post, "tokens", Role::kAdmin, "", &create_token},
    {Verb::delete_, "tokens/{name}", Role::kAdmin, "", &revoke_token},
}};

}  // namespace

std::span<const Endpoint> token_endpoints() { return kTokenEndpoints; }

}  // namespace rampart::admin
