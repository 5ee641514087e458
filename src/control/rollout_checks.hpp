#pragma once
// The checks before a rollout sends the new version any traffic (seed 003's staging gate, seed
// 000's smoke test): the version's own health path on each of its upstreams, with retries and
// exponential backoff; then each verify endpoint requested through the gateway, pinned to the
// new version with X-Rampart-Version, against its expected status and latency budget. After
// full promotion the verify endpoints are asked again, with retries (run_verify).

#include "control/http_probe.hpp"
#include "rollout/policy.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace rampart::control {

struct CheckTargets {
  std::string version;
  std::vector<std::string> upstreams;  // the version's base URLs, "http://host:port"
  std::string gateway_host;            // where verify requests go
  unsigned short gateway_port = 0;
  std::string route_host;  // the Host verify requests carry (the service's first route's), or ""
};

struct CheckOutcome {
  bool passed = false;
  std::string reason;              // one line: what failed, or "health and verify passed"
  std::vector<std::string> lines;  // one per check and try, for the report
};

using Probe =
    std::function<ProbeResult(const std::string& host, unsigned short port, const std::string& path,
                              const std::map<std::string, std::string>& headers)>;
// Waits `d`; false when the checks were cancelled meanwhile (they then stop at once).
using Sleep = std::function<bool(std::chrono::milliseconds)>;

// Runs the policy's health check on every upstream, then its verify endpoints. Blocking; a
// cancelled Sleep ends it with a failed outcome saying so.
CheckOutcome run_checks(const rollout::Policy& policy, const CheckTargets& targets,
                        const Probe& probe, const Sleep& sleep);

// After full promotion (seed 002/003's production gate): each verify endpoint through the
// gateway, up to policy.verify_tries tries, waiting policy.health.backoff (doubled after each
// failed try, at most kMaxVerifyBackoff) in between. Blocking, cancellable as run_checks.
inline constexpr std::chrono::milliseconds kMaxVerifyBackoff{10000};
CheckOutcome run_verify(const rollout::Policy& policy, const CheckTargets& targets,
                        const Probe& probe, const Sleep& sleep);

// The probe of real requests (http_get with a 2 s deadline).
Probe http_probe();

}  // namespace rampart::control
