#pragma once
// A service's rollout policy: everything `[service.rollout]` says (docs/configuration.md), as
// plain data that the config file fills in, the store keeps with the service (so `apply`
// changes it, audited), and `rampart deploy` can override piece by piece.

#include "rollout/analysis.hpp"
#include "rollout/strategy.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rampart::rollout {

// Days on which a deploy is refused (seed 002's "never deploy on Friday"), in a fixed UTC
// offset. Days are 0 = Sunday .. 6 = Saturday.
struct DeployWindows {
  std::vector<int> deny_days;
  int utc_offset_minutes = 0;  // "+02:00" = 120

  friend bool operator==(const DeployWindows&, const DeployWindows&) = default;
};

// A command `rampart deploy` runs on the deploying machine before it asks the server.
struct PreCheck {
  std::string name;
  std::string run;  // given to /bin/sh -c, in the working directory

  friend bool operator==(const PreCheck&, const PreCheck&) = default;
};

// The new version's own health check, before any traffic (seed 003's staging gate).
struct HealthCheck {
  std::string path = "/health";
  uint32_t tries = 3;
  std::chrono::milliseconds backoff{1000};  // doubled after each failed try

  friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

// An endpoint requested through the gateway, pinned to the new version (X-Rampart-Version),
// before traffic and again after full promotion (seed 000's smoke test, seed 002's
// verification with a latency budget).
struct VerifyCheck {
  std::string path;
  unsigned status = 200;
  std::optional<std::chrono::milliseconds> max_latency;

  friend bool operator==(const VerifyCheck&, const VerifyCheck&) = default;
};

// A URL told about a service's rollouts (control/webhook_notifier.hpp delivers them).
struct Webhook {
  std::string url;
  std::vector<std::string> events;  // of kWebhookEvents; empty = all but confirm-promotion
  // The name of an environment variable of the server process that holds the HMAC key of
  // X-Rampart-Signature; "" = unsigned. The key itself is never in the config or the store.
  std::string secret_env;
  std::chrono::milliseconds timeout{5000};  // per attempt
  uint32_t tries = 3;                       // attempts, retries included

  friend bool operator==(const Webhook&, const Webhook&) = default;
};

inline constexpr std::chrono::milliseconds kMaxWebhookTimeout{60'000};
inline constexpr uint32_t kMaxWebhookTries = 10;

inline constexpr std::string_view kWebhookEvents[] = {"pre-rollout", "confirm-promotion",
                                                      "post-rollout", "rollback", "event"};

struct Policy {
  std::string strategy_name = "canary";  // as written; "custom" for explicit steps
  Strategy strategy;                     // expanded
  std::chrono::milliseconds rollback_window{15 * 60 * 1000};
  DeployWindows deploy_windows;
  std::chrono::milliseconds interval{30 * 1000};  // the analysis window
  AnalysisPolicy analysis;                        // no checks: default_checks()
  std::vector<PreCheck> pre;
  HealthCheck health;
  std::vector<VerifyCheck> verify;
  uint32_t verify_tries = 5;
  std::vector<Webhook> webhooks;

  friend bool operator==(const Policy&, const Policy&) = default;
};

// The policy of a service whose config says nothing: the "canary" strategy, seed 004's checks.
Policy default_policy();

// Whether a deploy at `unix_ms` falls on a day `windows` denies: nullopt when it may go ahead,
// else why not and when it may ("deploys are refused on Fri (UTC+02:00); the next allowed
// time is Sat 00:00 UTC+02:00").
std::optional<std::string> deploy_refused(const DeployWindows& windows, int64_t unix_ms);

}  // namespace rampart::rollout
