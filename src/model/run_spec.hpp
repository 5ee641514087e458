#pragma once
// What a version that rampart runs declares: its command, how many instances, its environment
// and which of the service's secrets it gets (docs/runner.md). Part of model::Version (schema 3);
// a version without one is served by upstream URLs that someone else keeps running.

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::model {

inline constexpr std::uint32_t kMaxInstances = 64;
inline constexpr std::uint32_t kDefaultGraceMs = 10000;
inline constexpr std::uint32_t kMaxGraceMs = 10 * 60 * 1000;
inline constexpr std::size_t kMaxArgs = 256;
inline constexpr std::size_t kMaxArgBytes = 4096;
inline constexpr std::size_t kMaxEnvVariables = 256;
inline constexpr std::size_t kMaxEnvValueBytes = 32 * 1024;
inline constexpr std::size_t kMaxFormatBytes = 1024;

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

// An environment variable's name: [A-Za-z_][A-Za-z0-9_]{0,127}. Inline: the config reader
// (below the model) checks names with it too.
inline bool is_valid_env_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || (name.front() >= '0' && name.front() <= '9')) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// The rules a RunSpec obeys before it is written; kInvalidArgument starting with the field
// ("run.instances: ..."). PORT is rampart's to set, so `env` may not name it.
Status validate_run_spec(const RunSpec& run);

}  // namespace rampart::model
