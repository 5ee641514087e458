#pragma once
// DeploymentService: every change to services, versions, deployments, checkpoints and tokens,
// and the reads the admin API and the CLI need. Plain logic over a store::Store and a clock:
// no HTTP, no threads of its own. docs/model.md describes the records, their keys and the
// invariants kept here.
//
// Mutations. Each one is ONE store transaction that writes the change and its AuditEvent
// (who: the actor passed in, what, when, before and after) under one revision. Each reads what
// it needs together with the audit counter (/rampart/counters/audit) in one read, and its
// transaction compares that counter's mod_revision (and the mod_revision of every key it
// writes) with what it read. So mutations are serializable: a transaction commits only if no
// other mutation committed since its read; otherwise it is retried from the read, up to
// kMaxAttempts times. A caller that passes an expected revision that is stale gets kConflict
// instead of a retry.
//
// Errors: unknown service, version, deployment, checkpoint or token -> kNotFound; invalid input
// -> kInvalidArgument whose message starts with the field ("split: sums to 9000 bp ...");
// stale expected revision, an existing token name, or retries exhausted -> kConflict; store
// failures pass through (kUnavailable); a stored record this build cannot decode -> kInternal
// naming its key.
//
// Thread safety: a DeploymentService keeps no state besides its references; any method may be
// called from several threads at once (the store is thread-safe; the clock must be too). Every
// method blocks on the store: call it from the control thread or a blocking pool.

#include "common/result.hpp"
#include "config/config.hpp"
#include "model/records.hpp"
#include "model/seed.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::control {

// Unix time in milliseconds: the seam tests replace.
using UnixClock = std::function<std::int64_t()>;
std::int64_t system_unix_ms();

// How often a mutation re-reads and retries after another mutation committed first.
inline constexpr int kMaxAttempts = 64;
// The actor of changes rampart makes by itself (the bootstrap token).
inline constexpr std::string_view kSystemActor = "rampart";
inline constexpr std::string_view kBootstrapTokenName = "bootstrap";

struct ApplyResult {
  bool changed = false;  // false: the store already held the config; nothing was written
  // The revision of the apply's transaction; the store's current revision when !changed.
  std::int64_t revision = 0;
  std::vector<model::Deployment> deployments{};  // the deployments created, in config order
};

struct SplitResult {
  bool changed = false;  // false: the split was the one served; nothing was written
  // The deployment created; the latest one when !changed.
  model::Deployment deployment{};
};

// A token just created: the record as stored, and the secret, which only its creator sees.
struct NewToken {
  model::Token token;
  std::string secret;
};

// What a rollback restores: a deployment, the deployment of a checkpoint, or (neither set) the
// deployment before the latest one. Setting both is an error.
struct RollbackTarget {
  std::optional<std::int64_t> deployment_id{};
  std::optional<std::int64_t> checkpoint_id{};
};

struct AuditQuery {
  std::int64_t after_seq = 0;  // events with seq > after_seq ...
  std::int64_t since_ms = 0;   // ... and at >= since_ms (unix ms; 0: any time)
  std::size_t limit = 0;       // at most this many, oldest first; 0: all
};

// Deployment analytics of one service (seed 004's "deployment success rate"); docs/model.md
// defines each number.
struct Analytics {
  std::int64_t deployments = 0;  // all deployments, rollbacks included
  std::int64_t rollbacks = 0;    // deployments with cause "rollback"
  // Non-rollback deployments that the next deployment rolled back.
  std::int64_t rolled_back = 0;
  // (deployments - rollbacks - rolled_back) / (deployments - rollbacks), in [0, 1];
  // nullopt when the service has no non-rollback deployment.
  std::optional<double> success_rate{};
};

// Everything the gateway serves (services, their versions, each latest deployment), read in
// one read-only transaction, i.e. at one revision, which the snapshot carries. Services are
// sorted by name, versions by ordinal. model::to_config() turns it into a config::Config.
// A service with a record that cannot be decoded is left out and named in `problems`; only a
// failed read fails it.
Result<model::Snapshot> read_snapshot(store::Store& store);

class DeploymentService {
 public:
  // REQUIRES: `store` outlives this object. An empty clock means system_unix_ms.
  explicit DeploymentService(store::Store& store, UnixClock clock = {});

  // --- Mutations ----------------------------------------------------------------------------

  // Upserts the config's services and versions (a new version gets the next ordinal of its
  // service; an existing one keeps its ordinal and gets the config's upstreams), and creates a
  // deployment with cause "apply" for each service whose split (in ordinal order) differs from
  // its latest deployment or that has none. Never deletes. Idempotent: applying what the store
  // holds writes nothing (changed = false, no audit event). kInvalidArgument when a route is
  // claimed by a service of the store that the config does not hold, or when the change needs
  // more than store::kMaxOpsPerTxn writes (apply the services in parts).
  Result<ApplyResult> apply(const config::Config& config, std::string_view actor,
                            std::string_view message);

  // A new deployment of `service` with `split` (cause "split"), stored in ordinal order.
  // Versions of the service that `split` does not name get 0 bp, so the deployment names every
  // version the service has when it is made. When that split equals the latest deployment's,
  // nothing is written (as apply() of an unchanged file) and the answer is the latest
  // deployment with changed = false, unless `force`. With `expected_revision`, the service's
  // latest deployment must still be the one created at that revision (Deployment::revision; 0:
  // the service has no deployment yet), else kConflict, changed or not.
  Result<SplitResult> set_split(std::string_view service,
                                const std::vector<model::SplitEntry>& split, std::string_view actor,
                                std::string_view message,
                                std::optional<std::int64_t> expected_revision = {},
                                bool force = false);

  // A new deployment (cause "rollback") with the split of the target, rolled_back_from = the
  // latest deployment's id, rolled_back_to = the target's id. The target must be an earlier
  // deployment than the latest. An empty message becomes "rollback to deployment N" (plus the
  // checkpoint and its note when the target was a checkpoint).
  Result<model::Deployment> rollback(std::string_view service, const RollbackTarget& target,
                                     std::string_view actor, std::string_view message);

  // A checkpoint of the service's latest deployment, numbered 1, 2, 3, ... per service.
  Result<model::Checkpoint> checkpoint(std::string_view service, std::string_view note,
                                       std::string_view actor);

  // Creates a token and answers it as stored, with its secret: 32 random bytes (OpenSSL
  // RAND_bytes) as 64 hex digits. Only its SHA-256 is stored; the secret cannot be read back.
  // kConflict when a token of that name exists (revoked or not). With `expires_at` (unix ms,
  // later than now, else kInvalidArgument) the token is refused from that time on.
  Result<NewToken> create_token(std::string_view name, model::Role role, std::string_view actor,
                                std::optional<std::int64_t> expires_at = {});

  // Revokes the token: it is kept (its name stays taken, the audit log names it) with
  // revoked_at = now, and authenticate() refuses it from the commit on. Audited as
  // "token.revoke". kNotFound for no such token; kConflict when it is revoked already or is the
  // last admin token that is neither revoked nor expired (create another admin token first).
  Result<model::Token> revoke_token(std::string_view name, std::string_view actor);

  // When no admin token exists: creates the admin token "bootstrap" (actor "rampart") and
  // writes its secret to `path` (exactly the 64 hex digits, no newline; mode 0600, replacing
  // any file there, fsync'd before the token is committed, so a token never exists whose
  // secret was not saved) and answers the secret. When an admin token exists: writes nothing
  // and answers std::nullopt. File errors answer kIo naming the path (and create no token); a
  // store error leaves the file in place (the next call replaces it if no token was created).
  Result<std::optional<std::string>> ensure_bootstrap_token(const std::string& path);

  // --- Reads --------------------------------------------------------------------------------

  // The token whose secret this is; kNotFound for any other string ("unknown token"), and for
  // a token that was revoked ("token \"ci\" was revoked; ...") or has expired ("token \"ci\"
  // expired; ...").
  Result<model::Token> authenticate(std::string_view secret);
  Result<std::vector<model::Token>> tokens();  // by name

  Result<std::vector<model::Service>> services();  // by name
  Result<model::Service> service(std::string_view name);
  Result<std::vector<model::Version>> versions(std::string_view service);  // by ordinal
  // Newest first; at most `limit` (0: all). Each carries its revision.
  Result<std::vector<model::Deployment>> deployments(std::string_view service,
                                                     std::size_t limit = 0);
  Result<model::Deployment> deployment(std::string_view service, std::int64_t id);
  // kNotFound when the service does not exist or has no deployment.
  Result<model::Deployment> latest(std::string_view service);
  Result<std::vector<model::Checkpoint>> checkpoints(std::string_view service);  // by id
  // Each event carries its revision.
  Result<std::vector<model::AuditEvent>> audit(const AuditQuery& query = {});
  Result<Analytics> analytics(std::string_view service);
  Result<model::Snapshot> snapshot() { return read_snapshot(store_); }

 private:
  // Creates the token with this secret. only_without_admin: answers std::nullopt, writing
  // nothing, when an admin token exists (checked in the same transaction).
  Result<std::optional<NewToken>> create_token_with_secret(std::string_view name, model::Role role,
                                                           std::string_view actor,
                                                           std::string secret,
                                                           bool only_without_admin,
                                                           std::optional<std::int64_t> expires_at);

  store::Store& store_;
  UnixClock clock_;
};

}  // namespace rampart::control
