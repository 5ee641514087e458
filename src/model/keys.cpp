#include "model/keys.hpp"

#include "model/records.hpp"

#include <fmt/format.h>

#include <array>

namespace rampart::model::keys {

namespace {

constexpr std::string_view kServices = "/rampart/services/";
constexpr std::string_view kVersions = "/rampart/versions/";
constexpr std::string_view kDeployments = "/rampart/deployments/";
constexpr std::string_view kLatest = "/rampart/latest/";
constexpr std::string_view kCheckpoints = "/rampart/checkpoints/";
constexpr std::string_view kAudit = "/rampart/audit/";
constexpr std::string_view kTokens = "/rampart/tokens/";
constexpr std::string_view kAuditCounter = "/rampart/counters/audit";
constexpr std::string_view kCheckpointCounters = "/rampart/counters/checkpoints/";
constexpr std::string_view kRollouts = "/rampart/rollouts/";
constexpr std::string_view kRolloutEvents = "/rampart/rollout_events/";
constexpr std::string_view kRolloutCounters = "/rampart/counters/rollouts/";
constexpr std::string_view kWebhookDeliveries = "/rampart/webhook_deliveries/";
constexpr std::string_view kWebhookCursors = "/rampart/webhook_cursors/";
constexpr std::string_view kSecrets = "/rampart/secrets/";

std::string join(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out += a;
  out += b;
  return out;
}

bool is_segment(std::string_view s) { return !s.empty() && s.find('/') == std::string_view::npos; }

// `rest` split at its only '/': {"shop", "v1"}; nullopt unless both halves are segments.
std::optional<std::pair<std::string_view, std::string_view>> two_segments(std::string_view rest) {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  auto first = rest.substr(0, slash);
  auto second = rest.substr(slash + 1);
  if (!is_segment(first) || !is_segment(second)) {
    return std::nullopt;
  }
  return std::pair{first, second};
}

constexpr std::array<std::int64_t, kIdDigits + 1> kPowersOf10 = [] {
  std::array<std::int64_t, kIdDigits + 1> p{};
  p[0] = 1;
  for (std::size_t i = 1; i < p.size(); ++i) {
    p[i] = p[i - 1] * 10;
  }
  return p;
}();

}  // namespace

std::string service(std::string_view service) { return join(kServices, service); }
std::string services_prefix() { return std::string(kServices); }

std::string version(std::string_view service, std::string_view version) {
  return fmt::format("{}{}/{}", kVersions, service, version);
}
std::string versions_prefix(std::string_view service) {
  return fmt::format("{}{}/", kVersions, service);
}
std::string all_versions_prefix() { return std::string(kVersions); }

std::string deployment(std::string_view service, std::int64_t id) {
  return fmt::format("{}{}/{}", kDeployments, service, format_id(id));
}
std::string deployments_prefix(std::string_view service) {
  return fmt::format("{}{}/", kDeployments, service);
}

std::string latest(std::string_view service) { return join(kLatest, service); }
std::string all_latest_prefix() { return std::string(kLatest); }

std::string checkpoint(std::string_view service, std::int64_t id) {
  return fmt::format("{}{}/{}", kCheckpoints, service, format_id(id));
}
std::string checkpoints_prefix(std::string_view service) {
  return fmt::format("{}{}/", kCheckpoints, service);
}
std::string checkpoint_counter(std::string_view service) {
  return join(kCheckpointCounters, service);
}

std::string audit(std::int64_t seq) { return join(kAudit, format_id(seq)); }
std::string audit_prefix() { return std::string(kAudit); }
std::string audit_counter() { return std::string(kAuditCounter); }

std::string rollout(std::string_view service, std::int64_t id) {
  return fmt::format("{}{}/{}", kRollouts, service, format_id(id));
}
std::string rollouts_prefix(std::string_view service) {
  return fmt::format("{}{}/", kRollouts, service);
}
std::string rollout_counter(std::string_view service) { return join(kRolloutCounters, service); }
std::string rollout_event(std::string_view service, std::int64_t rollout, std::int64_t seq) {
  return fmt::format("{}{}/{}/{}", kRolloutEvents, service, format_id(rollout), format_id(seq));
}
std::string rollout_events_prefix(std::string_view service, std::int64_t rollout) {
  return fmt::format("{}{}/{}/", kRolloutEvents, service, format_id(rollout));
}

std::string service_rollout_events_prefix(std::string_view service) {
  return fmt::format("{}{}/", kRolloutEvents, service);
}

std::string webhook_delivery(std::string_view service, std::int64_t rollout, std::int64_t seq,
                             std::size_t hook) {
  return fmt::format("{}{}/{}/{}/{}", kWebhookDeliveries, service, format_id(rollout),
                     format_id(seq), hook);
}
std::string webhook_deliveries_prefix(std::string_view service, std::int64_t rollout) {
  return fmt::format("{}{}/{}/", kWebhookDeliveries, service, format_id(rollout));
}
std::string webhook_cursor(std::string_view service) { return join(kWebhookCursors, service); }

std::string token(std::string_view name) { return join(kTokens, name); }
std::string tokens_prefix() { return std::string(kTokens); }

std::string secret(std::string_view service, std::string_view name) {
  return fmt::format("{}{}/{}", kSecrets, service, name);
}
std::string secrets_prefix(std::string_view service) {
  return fmt::format("{}{}/", kSecrets, service);
}

std::string format_id(std::int64_t id) { return fmt::format("{:0{}}", id, kIdDigits); }

std::optional<std::int64_t> parse_id(std::string_view text) {
  if (text.size() != static_cast<std::size_t>(kIdDigits)) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > kMaxId) {
    return std::nullopt;
  }
  return value;
}

std::optional<ParsedKey> parse(std::string_view key) {
  auto after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (!key.starts_with(prefix)) {
      return std::nullopt;
    }
    return key.substr(prefix.size());
  };
  // Two-segment keys with an id: deployments and checkpoints.
  if (auto rest = after(kRolloutEvents)) {  // {service}/{rollout}/{seq}
    const auto slash = rest->find('/');
    auto tail =
        slash == std::string_view::npos ? std::nullopt : two_segments(rest->substr(slash + 1));
    if (!tail || !is_segment(rest->substr(0, slash))) {
      return std::nullopt;
    }
    auto id = parse_id(tail->first);
    auto seq = parse_id(tail->second);
    if (!id || !seq) {
      return std::nullopt;
    }
    return ParsedKey{KeyKind::kRolloutEvent, std::string(rest->substr(0, slash)), "", *id, *seq};
  }
  for (auto [prefix, kind] :
       {std::pair{kDeployments, KeyKind::kDeployment},
        std::pair{kCheckpoints, KeyKind::kCheckpoint}, std::pair{kRollouts, KeyKind::kRollout}}) {
    if (auto rest = after(prefix)) {
      auto parts = two_segments(*rest);
      if (!parts) {
        return std::nullopt;
      }
      auto id = parse_id(parts->second);
      if (!id) {
        return std::nullopt;
      }
      return ParsedKey{kind, std::string(parts->first), "", *id};
    }
  }
  for (auto [prefix, kind] :
       {std::pair{kVersions, KeyKind::kVersion}, std::pair{kSecrets, KeyKind::kSecret}}) {
    if (auto rest = after(prefix)) {
      auto parts = two_segments(*rest);
      if (!parts) {
        return std::nullopt;
      }
      return ParsedKey{kind, std::string(parts->first), std::string(parts->second), 0};
    }
  }
  if (auto rest = after(kAudit)) {
    auto id = parse_id(*rest);
    if (!id) {
      return std::nullopt;
    }
    return ParsedKey{KeyKind::kAudit, "", "", *id};
  }
  if (key == kAuditCounter) {
    return ParsedKey{KeyKind::kAuditCounter, "", "", 0};
  }
  // One-segment keys naming a service or a token.
  for (auto [prefix, kind] :
       {std::pair{kServices, KeyKind::kService}, std::pair{kLatest, KeyKind::kLatest},
        std::pair{kCheckpointCounters, KeyKind::kCheckpointCounter},
        std::pair{kRolloutCounters, KeyKind::kRolloutCounter}}) {
    if (auto rest = after(prefix)) {
      if (!is_segment(*rest)) {
        return std::nullopt;
      }
      return ParsedKey{kind, std::string(*rest), "", 0};
    }
  }
  if (auto rest = after(kTokens)) {
    if (!is_segment(*rest)) {
      return std::nullopt;
    }
    return ParsedKey{KeyKind::kToken, "", std::string(*rest), 0};
  }
  return std::nullopt;
}

std::vector<std::string> id_range_prefixes(std::string_view base, std::int64_t first,
                                           std::int64_t last) {
  std::vector<std::string> out;
  std::int64_t a = first;
  while (a <= last) {
    // The largest aligned decimal block [a, a + 10^k) that fits in [a, last].
    int k = 0;
    while (k < kIdDigits && a % kPowersOf10[k + 1] == 0 && a + kPowersOf10[k + 1] - 1 <= last) {
      ++k;
    }
    std::string digits = format_id(a);
    digits.resize(static_cast<std::size_t>(kIdDigits - k));
    out.push_back(join(base, digits));
    a += kPowersOf10[k];
  }
  return out;
}

}  // namespace rampart::model::keys
