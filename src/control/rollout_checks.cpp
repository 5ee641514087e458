#include "control/rollout_checks.hpp"

#include "config/config.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rampart::control {

namespace {

std::string answer_text(const ProbeResult& r) {
  return r.status == 0 ? r.error : fmt::format("{} in {} ms", r.status, r.latency.count());
}

// The upstream's health path, tried up to `tries` times with doubling backoff; "" when it
// answered 2xx, else why not.
std::string check_health(const rollout::HealthCheck& health, const std::string& url,
                         const Probe& probe, const Sleep& sleep, CheckOutcome& out) {
  auto up = config::parse_upstream(url);
  if (!up) {
    return fmt::format("health {} on {}: {}", health.path, url, up.error().message);
  }
  auto backoff = health.backoff;
  ProbeResult last;
  for (uint32_t attempt = 1; attempt <= health.tries; ++attempt) {
    last = probe(up->host, up->port, health.path, {});
    out.lines.push_back(fmt::format("health {} on {}:{} try {}/{}: {}", health.path, up->host,
                                    up->port, attempt, health.tries, answer_text(last)));
    if (last.status >= 200 && last.status < 300) {
      return "";
    }
    if (attempt < health.tries) {
      if (!sleep(backoff)) {
        return fmt::format("health {} on {}:{}: cancelled", health.path, up->host, up->port);
      }
      backoff *= 2;
    }
  }
  return fmt::format("health {} on {}:{}: {} after {} {}", health.path, up->host, up->port,
                     answer_text(last), health.tries, health.tries == 1 ? "try" : "tries");
}

std::string check_verify(const rollout::VerifyCheck& v, const CheckTargets& t, const Probe& probe,
                         CheckOutcome& out) {
  std::map<std::string, std::string> headers{{"X-Rampart-Version", t.version}};
  if (!t.route_host.empty()) {
    headers["Host"] = t.route_host;
  }
  const ProbeResult r = probe(t.gateway_host, t.gateway_port, v.path, headers);
  out.lines.push_back(
      fmt::format("verify {} (pinned to {}): {}", v.path, t.version, answer_text(r)));
  if (r.status != v.status) {
    return fmt::format("verify {}: {}, expected {}", v.path, answer_text(r), v.status);
  }
  if (v.max_latency && r.latency > *v.max_latency) {
    return fmt::format("verify {}: {} ms, over its budget of {} ms", v.path, r.latency.count(),
                       v.max_latency->count());
  }
  return "";
}

// `v` tried up to `tries` times, waiting `backoff` (doubled each time, up to kMaxVerifyBackoff)
// between tries; "" once it passes, else the last try's failure.
std::string check_verify_tries(const rollout::VerifyCheck& v, uint32_t tries,
                               std::chrono::milliseconds backoff, const CheckTargets& t,
                               const Probe& probe, const Sleep& sleep, CheckOutcome& out) {
  std::string failed;
  for (uint32_t attempt = 1; attempt <= tries; ++attempt) {
    failed = check_verify(v, t, probe, out);
    if (failed.empty()) {
      return "";
    }
    if (attempt < tries) {
      if (!sleep(backoff)) {
        return fmt::format("verify {}: cancelled", v.path);
      }
      backoff = std::min(backoff * 2, kMaxVerifyBackoff);
    }
  }
  return fmt::format("{} (after {} {})", failed, tries, tries == 1 ? "try" : "tries");
}

}  // namespace

CheckOutcome run_verify(const rollout::Policy& policy, const CheckTargets& targets,
                        const Probe& probe, const Sleep& sleep) {
  CheckOutcome out;
  const uint32_t tries = std::max<uint32_t>(1, policy.verify_tries);
  for (const auto& v : policy.verify) {
    auto failed = check_verify_tries(v, tries, policy.health.backoff, targets, probe, sleep, out);
    if (!failed.empty()) {
      out.reason = failed;
      return out;
    }
  }
  out.passed = true;
  out.reason = fmt::format("{} verify {} passed", policy.verify.size(),
                           policy.verify.size() == 1 ? "endpoint" : "endpoints");
  return out;
}

CheckOutcome run_checks(const rollout::Policy& policy, const CheckTargets& targets,
                        const Probe& probe, const Sleep& sleep) {
  CheckOutcome out;
  for (const auto& url : targets.upstreams) {
    if (auto failed = check_health(policy.health, url, probe, sleep, out); !failed.empty()) {
      out.reason = failed;
      return out;
    }
  }
  for (const auto& v : policy.verify) {
    if (auto failed = check_verify(v, targets, probe, out); !failed.empty()) {
      out.reason = failed;
      return out;
    }
  }
  out.passed = true;
  out.reason = policy.verify.empty() ? "health passed" : "health and verify passed";
  return out;
}

Probe http_probe() {
  return [](const std::string& host, unsigned short port, const std::string& path,
            const std::map<std::string, std::string>& headers) {
    return http_get(host, port, path, headers, std::chrono::milliseconds(2000));
  };
}

}  // namespace rampart::control
