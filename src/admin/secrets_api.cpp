// The secret endpoints (docs/api.md, "Secrets"): put, list and delete a service's secrets
// through the SecretStore (secrets/secret_store.hpp). A value goes in (PUT's body) and never
// comes out: the answers hold names, versions and times, and no error message quotes the body.
//
// Roles: put and delete need deployer (a deploy pipeline rotates a key, seed 004; a deployer
// can already change what runs, which is as much as a secret gives); list needs read-only, as
// the audit log, which a read-only token reads, names every secret that changed.

#include "admin/api.hpp"
#include "admin/endpoints.hpp"
#include "secrets/secret_store.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

using model::Role;
using Verb = bhttp::verb;

json::object secret_json(const secrets::SecretInfo& info) {
  return {{"name", info.name}, {"version", info.version}, {"created_at", rfc3339(info.created_at)}};
}

// The 503 of a server that runs without a SecretStore.
Reply not_wired() {
  return admin::not_wired(
      "secrets are not available on this server: it runs without a secret store (no master key "
      "was loaded)");
}

// The value of PUT's body {"value": "..."}. The messages name the problem, never the body.
Result<std::string> value_of(const Call& call) {
  auto body = body_with(call.request, {"value"});
  if (!body) {
    return body.error();
  }
  auto value = string_field(*body, "value");
  if (!value) {
    return value.error();
  }
  if (!*value) {
    return make_error(Errc::kInvalidArgument,
                      "value: missing; send {\"value\": \"...\"} (the secret's value, a string)");
  }
  return std::move(**value);
}

Result<Reply> put_secret(const Call& call) {
  auto* store = call.extensions.secrets;
  if (store == nullptr) {
    return not_wired();
  }
  auto value = value_of(call);
  if (!value) {
    return value.error();
  }
  auto put = store->put(call.params[0], call.params[1], *value, call.actor);
  // The request's copy of the value stays in the request; this one is wiped.
  std::fill(value->begin(), value->end(), '\0');
  if (!put) {
    return put.error();
  }
  const auto status = put->version == 1 ? bhttp::status::created : bhttp::status::ok;
  return Reply{status, secret_json(*put)};
}

Result<Reply> list_secrets(const Call& call) {
  auto* store = call.extensions.secrets;
  if (store == nullptr) {
    return not_wired();
  }
  auto list = store->list(call.params[0]);
  if (!list) {
    return list.error();
  }
  json::array secrets;
  for (const auto& info : *list) {
    secrets.emplace_back(secret_json(info));
  }
  return Reply{bhttp::status::ok,
               json::object{{"service", call.params[0]}, {"secrets", std::move(secrets)}}};
}

Result<Reply> delete_secret(const Call& call) {
  auto* store = call.extensions.secrets;
  if (store == nullptr) {
    return not_wired();
  }
  auto removed = store->remove(call.params[0], call.params[1], call.actor);
  if (!removed) {
    return removed.error();
  }
  json::object o = secret_json(*removed);
  o["deleted"] = true;
  return Reply{bhttp::status::ok, std::move(o)};
}

constexpr std::array<Endpoint, 3> kSecretEndpoints = {{
    {Verb::get, "services/{service}/secrets", Role::kReadOnly, "", &list_secrets},
    {Verb::put, "services/{service}/secrets/{name}", Role::kDeployer, "", &put_secret},
    {Verb::delete_, "services/{service}/secrets/{name}", Role::kDeployer, "", &delete_secret},
}};

}  // namespace

std::span<const Endpoint> secret_endpoints() { return kSecretEndpoints; }

}  // namespace rampart::admin
