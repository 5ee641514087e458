#pragma once
// The records rampart keeps in the store: services, versions, deployments, checkpoints, audit
// events and API tokens. Plain, copyable data; docs/model.md describes each record, its key in
// the store, its schema history and the invariants the control layer keeps.
//
// Every record is encoded as one JSON object carrying `"schema": N` (model/codec.hpp). Fields
// marked "not encoded" are filled in by readers from the store (the key's mod_revision).

#include "model/run_spec.hpp"
#include "rollout/policy.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::model {

// The schema each record is written with today. Readers accept 1..N and refuse newer ones.
inline constexpr int kServiceSchema = 2;     // 2 added rollout
inline constexpr int kVersionSchema = 3;     // 2 added health_path, 3 run
inline constexpr int kDeploymentSchema = 2;  // 2 added rolled_back_from, rolled_back_to
inline constexpr int kCheckpointSchema = 1;
inline constexpr int kAuditEventSchema = 1;
inline constexpr int kTokenSchema = 2;

// 100% of a service's traffic, in basis points (1 bp = 0.01%).
inline constexpr std::uint32_t kTotalBasisPoints = 10000;

// Deployment, checkpoint and audit ids run 1, 2, 3, ... and are written with 10 digits in keys.
inline constexpr std::int64_t kMaxId = 9'999'999'999;

// "shop.example.com/" -> {host "shop.example.com", prefix "/"}; an empty host matches any host.
struct Route {
  std::string host{};
  std::string path_prefix{};

  friend bool operator==(const Route&, const Route&) = default;
};

// What a request is hashed on to pick its version. `name` is the header or cookie name for
// kHeader / kCookie, else empty. Encoded as "ip", "none", "header:NAME", "cookie:NAME".
enum class StickyKind { kIp, kHeader, kCookie, kNone };
struct Sticky {
  StickyKind kind = StickyKind::kIp;
  std::string name{};

  friend bool operator==(const Sticky&, const Sticky&) = default;
};

enum class Balance { kLeastRequest, kRoundRobin };

// A service: its routes and how the gateway treats its traffic. Versions and the split are
// records of their own. Key: /rampart/services/{name}.
struct Service {
  std::string name{};  // [a-z0-9][a-z0-9_-]{0,62}
  std::vector<Route> routes{};
  Sticky sticky{};
  std::string salt{};  // the sticky hash's salt
  Balance balance = Balance::kLeastRequest;
  std::uint32_t eject_after = 3;
  std::uint32_t eject_for_ms = 5000;
  // How `rampart deploy` rolls a new version out (schema 2; schema-1 records read the default).
  rollout::Policy rollout = rollout::default_policy();

  friend bool operator==(const Service&, const Service&) = default;
};

inline constexpr std::string_view kDefaultHealthPath = "/health";

// A version of a service. Key: /rampart/versions/{service}/{name}.
struct Version {
  std::string service{};
  std::string name{};  // [A-Za-z0-9][A-Za-z0-9._-]{0,62}
  // 1 for the service's first version, 2 for the next, ...; assigned once, when the version is
  // created. Splits list their versions in this order (model/validate.hpp).
  std::int64_t ordinal = 0;
  std::vector<std::string> upstreams{};         // normalized base URLs, "http://host:port"
  std::int64_t created_at = 0;                  // unix ms
  std::string health_path{kDefaultHealthPath};  // schema 2; schema-1 records read "/health"
  // Schema 3: the command rampart runs for this version (then `upstreams` is empty: its
  // instances' addresses are joined in when routes are published); none: served by upstreams.
  std::optional<RunSpec> run{};

  friend bool operator==(const Version&, const Version&) = default;
};

// One version's share of a service's traffic.
struct SplitEntry {
  std::string version{};
  std::uint32_t basis_points = 0;

  friend bool operator==(const SplitEntry&, const SplitEntry&) = default;
};

// Why a deployment was made. A string so that later causes (rollout steps, promote) are an
// additive change: readers keep causes they do not know as they are.
inline constexpr std::string_view kCauseApply = "apply";        // `rampart apply` / the seed
inline constexpr std::string_view kCauseSplit = "split";        // an explicit split change
inline constexpr std::string_view kCauseRollback = "rollback";  // a copy of an earlier split

// An immutable, numbered traffic split of one service; the latest one is what the gateway
// serves. Key: /rampart/deployments/{service}/{id:010}; the latest is also at
// /rampart/latest/{service}.
struct Deployment {
  std::string service{};
  std::int64_t id = 0;  // 1, 2, 3, ... per service, without gaps
  // Sums to kTotalBasisPoints; each version once; ordered by version ordinal.
  std::vector<SplitEntry> split{};
  std::string author{};         // the actor (token name) that made it
  std::int64_t created_at = 0;  // unix ms
  std::string message{};
  std::string cause{};
  // Rollbacks only (schema 2; absent from schema-1 records): the deployment that was the
  // latest when the rollback was made (always id - 1), and the one whose split it restores.
  std::optional<std::int64_t> rolled_back_from{};
  std::optional<std::int64_t> rolled_back_to{};
  // Not encoded: the store revision that created this deployment (its key's mod_revision).
  // It is what set_split's expected_revision is compared with.
  std::int64_t revision = 0;

  friend bool operator==(const Deployment&, const Deployment&) = default;
};

// A named marker of a deployment, to roll back to. Key: /rampart/checkpoints/{service}/{id:010}.
struct Checkpoint {
  std::string service{};
  std::int64_t id = 0;  // 1, 2, 3, ... per service
  std::int64_t deployment_id = 0;
  std::string note{};
  std::string author{};
  std::int64_t created_at = 0;  // unix ms

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// One mutation of the store, written in the same transaction as the mutation itself.
// Key: /rampart/audit/{seq:010}.
struct AuditEvent {
  std::int64_t seq = 0;         // 1, 2, 3, ... over the whole store, without gaps
  std::int64_t at = 0;          // unix ms
  std::string actor{};          // the token name that asked for the change ("rampart" for itself)
  std::string action{};         // "apply", "split", "rollback", "checkpoint", "token.create"
  std::string target{};         // what changed: "service:shop", "services:shop,api", "token:ci"
  boost::json::value before{};  // the records as they were (null: none)
  boost::json::value after{};   // the records as they are now
  // Not encoded: the store revision of the mutation (the key's mod_revision).
  std::int64_t revision = 0;

  friend bool operator==(const AuditEvent&, const AuditEvent&) = default;
};

// What a token may do; each role includes the ones after it.
enum class Role { kAdmin, kDeployer, kReadOnly };

// An admin API token. Only the SHA-256 of the secret is kept. Key: /rampart/tokens/{name}.
struct Token {
  std::string name{};  // [A-Za-z0-9][A-Za-z0-9._-]{0,62}; the actor name in audit events
  Role role = Role::kReadOnly;
  std::string sha256{};  // lower-case hex of SHA-256(secret)
  std::int64_t created_at = 0;
  // Schema 2. Unix ms after which the token is refused; none: it does not expire.
  std::optional<std::int64_t> expires_at{};
  // Schema 2. When it was revoked (refused from then on); none: it was not.
  std::optional<std::int64_t> revoked_at{};

  friend bool operator==(const Token&, const Token&) = default;
};

std::string_view to_string(StickyKind kind);
std::string to_string(const Sticky& sticky);  // "ip", "none", "header:X-User", "cookie:sid"
std::string_view to_string(Balance balance);  // "least_request", "round_robin"
std::string_view to_string(Role role);        // "admin", "deployer", "read-only"

// Parsers of the strings above; std::nullopt for anything else. parse_sticky checks that a
// header or cookie name is an HTTP token.
std::optional<Sticky> parse_sticky(std::string_view text);
std::optional<Balance> parse_balance(std::string_view text);
std::optional<Role> parse_role(std::string_view text);

// True when a token of role `have` may do what needs `need` (admin > deployer > read-only).
bool role_allows(Role have, Role need);

// Lower-case hex of SHA-256(secret): what a Token keeps of its secret.
std::string hash_token_secret(std::string_view secret);

}  // namespace rampart::model
