#pragma once
// One HTTP/1.1 GET to a loopback or LAN address, blocking, with a deadline: what the rollout's
// checks ask of a version (its health path) and of the gateway (verify endpoints, pinned to the
// new version with X-Rampart-Version).

#include <chrono>
#include <map>
#include <string>

namespace rampart::control {

struct ProbeResult {
  unsigned status = 0;  // 0: no answer (see error)
  std::chrono::milliseconds latency{0};
  std::string error;  // "connection refused", "timed out after 2000 ms", ...
};

// GET `path` from host:port (an IP literal or a name) with `headers`, waiting at most `timeout`
// for the whole answer. Never throws.
ProbeResult http_get(const std::string& host, unsigned short port, const std::string& path,
                     const std::map<std::string, std::string>& headers,
                     std::chrono::milliseconds timeout);

}  // namespace rampart::control
