#pragma once
// Choosing the version that serves a request: a pure function of the route snapshot and what
// the request carries. No I/O, no clock, no global state: the caller supplies the random draw.
//
// Sticky hash (documented so other tools can reproduce an assignment):
//   seed   = XXH64(salt bytes, seed 0)             -- salt defaults to the service name
//   bucket = XXH64(sticky key bytes, seed) mod 10000
// Buckets [0, canary weight in basis points) go to the newest version; see VersionRoute.

#include "gateway/route_table.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace rampart::gateway {

uint64_t salt_seed(std::string_view salt);
uint32_t sticky_bucket(uint64_t salt_seed, std::string_view key);
// XXH64(key, salt_seed): sticky_bucket is it mod 10000.
uint64_t sticky_hash(uint64_t salt_seed, std::string_view key);

struct PickInput {
  std::optional<std::string_view> override_version;  // X-Rampart-Version, when present
  std::optional<std::string_view> sticky_key;        // client IP, header or cookie value
  uint32_t random_bucket = 0;                        // uniform in [0, 10000): used when no key
};

enum class PickError { kVersionNotDeployed, kNoVersion };

struct Pick {
  const VersionRoute* version = nullptr;  // set when error is empty
  std::optional<PickError> error;
  uint64_t sticky_hash = 0;  // the key's hash when the sticky key chose the version, else 0
};

Pick pick_version(const ServiceRoute& service, const PickInput& input);

// The version owning `bucket` (0..9999); nullptr when the split gives it to nobody (only when
// every weight is zero, which validation forbids).
const VersionRoute* version_for_bucket(const ServiceRoute& service, uint32_t bucket);

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace rampart::gateway
