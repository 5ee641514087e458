#pragma once
// Where each record lives in the store: every key rampart writes is built and parsed here.
// docs/model.md has the table.
//
//   /rampart/services/{service}                    Service
//   /rampart/versions/{service}/{version}          Version
//   /rampart/deployments/{service}/{id:010}        Deployment (immutable)
//   /rampart/latest/{service}                      the latest Deployment (a copy)
//   /rampart/checkpoints/{service}/{id:010}        Checkpoint (immutable)
//   /rampart/audit/{seq:010}                       AuditEvent (immutable)
//   /rampart/tokens/{name}                         Token
//   /rampart/counters/audit                        the last audit seq (decimal)
//   /rampart/counters/checkpoints/{service}        the service's last checkpoint id (decimal)
//   /rampart/rollouts/{service}/{id:010}           Rollout (its progress changes)
//   /rampart/rollout_events/{service}/{id:010}/{seq:010}   RolloutEvent (immutable)
//   /rampart/counters/rollouts/{service}           the service's last rollout id (decimal)
//   /rampart/webhook_deliveries/{service}/{rollout:010}/{seq:010}/{hook}   a delivery's outcome
//   /rampart/webhook_cursors/{service}             the last rollout event the webhooks handled
//   /rampart/secrets/{service}/{name}              a secret's latest version, sealed (secrets/)
//
// Ids are zero-padded to 10 digits so that a prefix range lists them in id order. Names never
// contain '/', so "/rampart/versions/shop/" does not match the versions of "shop2".
// REQUIRES (all builders): names are valid (model/validate.hpp), ids in [1, kMaxId].

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::model::keys {

inline constexpr std::string_view kRoot = "/rampart/";
inline constexpr int kIdDigits = 10;

std::string service(std::string_view service);
std::string services_prefix();

std::string version(std::string_view service, std::string_view version);
std::string versions_prefix(std::string_view service);
std::string all_versions_prefix();

std::string deployment(std::string_view service, std::int64_t id);
std::string deployments_prefix(std::string_view service);

std::string latest(std::string_view service);
std::string all_latest_prefix();

std::string checkpoint(std::string_view service, std::int64_t id);
std::string checkpoints_prefix(std::string_view service);
std::string checkpoint_counter(std::string_view service);

std::string audit(std::int64_t seq);
std::string audit_prefix();
std::string audit_counter();

std::string rollout(std::string_view service, std::int64_t id);
std::string rollouts_prefix(std::string_view service);
std::string rollout_counter(std::string_view service);
std::string rollout_event(std::string_view service, std::int64_t rollout, std::int64_t seq);
std::string rollout_events_prefix(std::string_view service, std::int64_t rollout);
// Every event of every rollout of the service.
std::string service_rollout_events_prefix(std::string_view service);

// `hook` is the webhook's index in the service's policy (0, 1, ...).
std::string webhook_delivery(std::string_view service, std::int64_t rollout, std::int64_t seq,
                             std::size_t hook);
std::string webhook_deliveries_prefix(std::string_view service, std::int64_t rollout);
std::string webhook_cursor(std::string_view service);

std::string token(std::string_view name);
std::string tokens_prefix();

// `name` is a secret's name (an environment variable name, secrets/secret_store.hpp).
std::string secret(std::string_view service, std::string_view name);
std::string secrets_prefix(std::string_view service);

// The id written with kIdDigits digits ("0000000042").
std::string format_id(std::int64_t id);
// The inverse of format_id: exactly kIdDigits digits, value in [1, kMaxId]; else nullopt.
std::optional<std::int64_t> parse_id(std::string_view text);

enum class KeyKind {
  kService,
  kVersion,
  kDeployment,
  kLatest,
  kCheckpoint,
  kAudit,
  kToken,
  kAuditCounter,
  kCheckpointCounter,
  kRollout,
  kRolloutEvent,
  kRolloutCounter,
  kSecret,
};

// A key taken apart. `service` is set for service-scoped keys, `name` for versions (the
// version name), tokens (the token name) and secrets (the secret name), `id` for deployments,
// checkpoints and audit events.
struct ParsedKey {
  KeyKind kind = KeyKind::kService;
  std::string service;
  std::string name;
  std::int64_t id = 0;
  std::int64_t seq = 0;  // rollout events: the event's seq (id is the rollout's)

  friend bool operator==(const ParsedKey&, const ParsedKey&) = default;
};

// The inverse of the builders above; std::nullopt for a key none of them makes (a foreign
// key, an empty or '/'-containing name segment, a malformed id). The webhook keys are not
// records of the model (only control/webhook_notifier reads them) and are not parsed.
std::optional<ParsedKey> parse(std::string_view key);

// The prefixes that together cover exactly the keys `base + format_id(id)` for id in
// [first, last], as few as decimal alignment allows (at most 18 per digit position), in id order.
// Prefix-ranging each of them reads that id interval without reading the rest of `base`.
// An empty interval (first > last) gives none. REQUIRES: 1 <= first, last <= kMaxId.
std::vector<std::string> id_range_prefixes(std::string_view base, std::int64_t first,
                                           std::int64_t last);

}  // namespace rampart::model::keys
