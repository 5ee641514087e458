#pragma once
// What a version that rampart runs declares: its command, how many instances, its environment
// and which of the service's secrets it gets (docs/runner.md). Part of model::Version (schema 3);
// a version without one is served by upstream URLs that someone else keeps running.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rampart::model {

inline constexpr std::uint32_t kMaxInstances = 64;
inline constexpr std::uint32_t kDefaultGraceMs = 10000;

// The variables a version needs (seed 002's validation): each required one must be given (by
// `env` or a secret), an optional one missing is a warning, and a variable with a format must
// match it whole (an ECMAScript regex).
struct EnvSpec {
  std::vector<std::string> required{};
  std::vector<std::string> optional{};
  std::map<std::string, std::string> formats{};  // name -> regex

  friend bool operator==(const EnvSpec&, const EnvSpec&) = default;
};

struct RunSpec {
  std::vector<std::string> argv{};  // "{port}" anywhere in an argument becomes the port
  std::uint32_t instances = 1;      // 1 to kMaxInstances
  std::string workdir{};            // empty: the server's working directory
  std::map<std::string, std::string> env{};
  // The service's secrets it gets as variables; none: every one of them.
  std::optional<std::vector<std::string>> secrets{};
  std::uint32_t grace_ms = kDefaultGraceMs;  // draining, then SIGTERM, then SIGKILL after it
  EnvSpec env_spec{};

  friend bool operator==(const RunSpec&, const RunSpec&) = default;
};

}  // namespace rampart::model
