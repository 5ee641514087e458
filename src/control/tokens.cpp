// DeploymentService's API tokens: creation, authentication, the bootstrap admin token.

#include "common/private_file.hpp"
#include "control/deployment_service.hpp"
#include "control/mutation.hpp"
#include "model/codec.hpp"
#include "model/keys.hpp"
#include "model/validate.hpp"

#include <boost/json/object.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <utility>
#include <vector>

namespace rampart::control {

namespace {

namespace keys = model::keys;
using detail::Plan;

constexpr std::size_t kSecretBytes = 32;

Result<std::string> random_secret() {
  std::array<unsigned char, kSecretBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return make_error(Errc::kInternal, "RAND_bytes failed: the system has no randomness to give");
  }
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

// Writes `content` to `path` with mode 0600, durably: a temporary file next to it (written,
// fsync'd), renamed over `path`, then the directory fsync'd.
Status write_secret_file(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  if (auto st = write_private_file(tmp, content, /*exclusive=*/false); !st) {
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot rename to", path, err);
  }
  return fsync_directory_of(path);
}

// A token in audit events: not the hash, for the audit log is readable by every role.
boost::json::object audit_json(const model::Token& t) {
  boost::json::object o{
      {"name", t.name}, {"role", model::to_string(t.role)}, {"created_at", t.created_at}};
  if (t.expires_at) {
    o["expires_at"] = *t.expires_at;
  }
  if (t.revoked_at) {
    o["revoked_at"] = *t.revoked_at;
  }
  return o;
}

// Neither revoked nor expired at `now`.
bool live(const model::Token& t, std::int64_t now) {
  return !t.revoked_at && (!t.expires_at || now < *t.expires_at);
}

}  // namespace

Result<NewToken> DeploymentService::create_token(std::string_view name, model::Role role,
                                                 std::string_view actor,
                                                 std::optional<std::int64_t> expires_at) {
  if (expires_at && *expires_at <= clock_()) {
    return make_error(Errc::kInvalidArgument,
                      "expires_at: it is not in the future; give a later time");
  }
  auto secret = random_secret();
  if (!secret) {
    return secret.error();
  }
  auto created = create_token_with_secret(name, role, actor, std::move(*secret), false, expires_at);
  if (!created) {
    return created.error();
  }
  return std::move(**created);
}

Result<std::optional<NewToken>> DeploymentService::create_token_with_secret(
    std::string_view name, model::Role role, std::string_view actor, std::string secret,
    bool only_without_admin, std::optional<std::int64_t> expires_at) {
  if (auto st = model::validate_token_name("name", name); !st) {
    return st.error();
  }
  if (auto st = model::validate_token_name("actor", actor); !st) {
    return st.error();
  }
  model::Token token;
  auto attempt = [&]() -> Result<std::optional<Plan>> {
    auto view = detail::read_view(
        store_, {store::RangeOp{.key = keys::tokens_prefix(), .options = {.prefix = true}}});
    if (!view) {
      return view.error();
    }
    for (const auto& kv : view->ranges[0].kvs) {
      auto stored = detail::decode_token(kv);
      if (!stored) {
        return stored.error();
      }
      if (only_without_admin && stored->role == model::Role::kAdmin) {
        return std::optional<Plan>{};
      }
      if (stored->name == name) {
        return make_error(Errc::kConflict,
                          fmt::format("name: a token named \"{}\" exists already", name));
      }
    }
    const std::int64_t now = clock_();
    token =
        model::Token{std::string(name), role, model::hash_token_secret(secret), now, expires_at};
    Plan plan(*view);
    plan.put(keys::token(name), model::encode(token), 0);
    plan.describe(now, actor, "token.create", fmt::format("token:{}", name), nullptr,
                  audit_json(token));
    return std::optional<Plan>{std::move(plan)};
  };
  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  if (!*committed) {
    return std::optional<NewToken>{};
  }
  return std::optional<NewToken>{NewToken{std::move(token), std::move(secret)}};
}

Result<std::optional<std::string>> DeploymentService::ensure_bootstrap_token(
    const std::string& path) {
  auto existing = tokens();
  if (!existing) {
    return existing.error();
  }
  for (const auto& token : *existing) {
    if (token.role == model::Role::kAdmin) {
      return std::optional<std::string>{};
    }
  }
  auto secret = random_secret();
  if (!secret) {
    return secret.error();
  }
  // The file first: a token whose secret nobody saved would lock the admin out for good.
  if (auto st = write_secret_file(path, *secret); !st) {
    return st.error();
  }
  auto created = create_token_with_secret(kBootstrapTokenName, model::Role::kAdmin, kSystemActor,
                                          *secret, true, std::nullopt);
  // On an error the file stays: a store write that failed may still have happened (see
  // docs/store.md), and then the file holds the only copy of the secret. If it did not
  // happen, the next start finds no admin token and replaces the file.
  if (!created) {
    return created.error();
  }
  if (!*created) {
    // An admin token appeared meanwhile: ours was not created, the file names no token.
    ::unlink(path.c_str());
    return std::optional<std::string>{};
  }
  return std::optional<std::string>{std::move((*created)->secret)};
}

Result<model::Token> DeploymentService::revoke_token(std::string_view name,
                                                     std::string_view actor) {
  if (auto st = model::validate_token_name("name", name); !st) {
    return st.error();
  }
  model::Token revoked;
  auto attempt = [&]() -> Result<std::optional<Plan>> {
    auto view = detail::read_view(
        store_, {store::RangeOp{.key = keys::tokens_prefix(), .options = {.prefix = true}}});
    if (!view) {
      return view.error();
    }
    const std::int64_t now = clock_();
    std::optional<model::Token> target;
    std::int64_t target_revision = 0;
    // The live admin tokens, kept unchanged by the commit: two revocations at once must not
    // leave none.
    std::vector<std::pair<std::string, std::int64_t>> live_admins;
    for (const auto& kv : view->ranges[0].kvs) {
      auto stored = detail::decode_token(kv);
      if (!stored) {
        return stored.error();
      }
      if (stored->role == model::Role::kAdmin && live(*stored, now)) {
        live_admins.emplace_back(kv.key, kv.mod_revision);
      }
      if (stored->name == name) {
        target = std::move(*stored);
        target_revision = kv.mod_revision;
      }
    }
    if (!target) {
      return make_error(Errc::kNotFound, fmt::format("no token named \"{}\"", name));
    }
    if (target->revoked_at) {
      return make_error(Errc::kConflict, fmt::format("token \"{}\" is revoked already", name));
    }
    if (target->role == model::Role::kAdmin && live(*target, now) && live_admins.size() == 1) {
      return make_error(Errc::kConflict,
                        fmt::format("token \"{}\" is the last admin token; create another "
                                    "admin token first",
                                    name));
    }
    const boost::json::object before = audit_json(*target);
    target->revoked_at = now;
    Plan plan(*view);
    plan.put(keys::token(name), model::encode(*target), target_revision);
    for (const auto& [key, mod_revision] : live_admins) {
      if (key != keys::token(name)) {
        plan.expect(key, mod_revision);
      }
    }
    plan.describe(now, actor, "token.revoke", fmt::format("token:{}", name), before,
                  audit_json(*target));
    revoked = std::move(*target);
    return std::optional<Plan>{std::move(plan)};
  };
  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  return revoked;
}

Result<model::Token> DeploymentService::authenticate(std::string_view secret) {
  auto all = tokens();
  if (!all) {
    return all.error();
  }
  const std::string hash = model::hash_token_secret(secret);
  for (auto& token : *all) {
    if (token.sha256.size() != hash.size() ||
        CRYPTO_memcmp(token.sha256.data(), hash.data(), hash.size()) != 0) {
      continue;
    }
    if (token.revoked_at) {
      return make_error(
          Errc::kNotFound,
          fmt::format("token \"{}\" was revoked; ask an admin for a new one", token.name));
    }
    if (token.expires_at && clock_() >= *token.expires_at) {
      return make_error(
          Errc::kNotFound,
          fmt::format("token \"{}\" has expired; ask an admin for a new one", token.name));
    }
    return std::move(token);
  }
  return make_error(Errc::kNotFound, "unknown token");
}

Result<std::vector<model::Token>> DeploymentService::tokens() {
  auto range = store_.range(keys::tokens_prefix(), {.prefix = true});
  if (!range) {
    return range.error();
  }
  std::vector<model::Token> out;
  out.reserve(range->kvs.size());
  for (const auto& kv : range->kvs) {
    auto token = detail::decode_token(kv);
    if (!token) {
      return token.error();
    }
    out.push_back(std::move(*token));
  }
  return out;
}

}  // namespace rampart::control
