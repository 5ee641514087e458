#pragma once
// The TOML config file (`rampart server --config rampart.toml`) as plain, validated data.
//
// parse_config() validates everything it can: TOML syntax, unknown keys (everywhere, with a
// "did you mean" for near misses), types, ranges, names, URLs, routes, split weights, duplicates.
// On failure the Error (kInvalidArgument) carries EVERY problem found, one per line, sorted by
// line, each shaped `FILE:LINE: what is wrong and how to fix it`; the first line is the first
// problem in file order (what the CLI prints). A Config that is returned is complete: every
// default is filled in, so readers never apply defaults of their own.
//
// The model is plain data (copyable, no toml++ types) so that it can seed the durable store.
// docs/configuration.md documents every key.

#include "common/result.hpp"
#include "model/run_spec.hpp"
#include "rollout/policy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::config {

// A listening address, "127.0.0.1:8080", "[::1]:8080" or "localhost:0" (port 0: ephemeral).
// `host` is kept as written (an IPv6 address keeps its brackets) and is not resolved here.
struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

// An upstream base URL: only "http://host[:port][/]". `url` is normalized to
// "http://host:port"; `host` is lower-cased (an IPv6 address keeps its brackets); port
// defaults to 80.
struct Upstream {
  std::string url;
  std::string host;
  uint16_t port = 80;
};

// "shop.example.com/" -> {host "shop.example.com", prefix "/"}; "/shop/" -> {any host (empty),
// "/shop/"}; "shop.example.com" -> {host, "/"}; "api.example.com/v2/" -> both. The host is
// lower-cased and has no port; the prefix always starts with '/' and is matched byte-wise.
struct Route {
  std::string host;
  std::string path_prefix;
};

// What a request is hashed on to pick its version: the client IP, a header, a cookie, or
// nothing (weighted random). `name` is the header or cookie name (an HTTP token), else empty.
enum class StickyKind { kIp, kHeader, kCookie, kNone };
struct Sticky {
  StickyKind kind = StickyKind::kIp;
  std::string name;
};

enum class Balance { kLeastRequest, kRoundRobin };

struct Version {
  std::string name;                 // [A-Za-z0-9][A-Za-z0-9._-]{0,62}; sent in X-Rampart-Version
  std::vector<Upstream> upstreams;  // at least one, no duplicates, unless `run`
  // A version rampart runs (run = [...]): its instances' addresses are its upstreams.
  std::optional<model::RunSpec> run;
  std::string health_path = "/health";  // `health`: where its instances are checked
};

// One version's share of the traffic, in basis points (1 bp = 0.01%).
struct SplitEntry {
  std::string version;
  uint32_t basis_points = 0;
};

struct Service {
  std::string name;           // [a-z0-9][a-z0-9_-]{0,62}
  std::vector<Route> routes;  // at least one; no (host, prefix) is claimed by two services
  Sticky sticky;
  std::string salt;  // the sticky hash's salt; defaults to `name`
  Balance balance = Balance::kLeastRequest;
  uint32_t eject_after = 3;  // consecutive connect failures before an upstream is ejected
  uint32_t eject_for_ms = 5000;
  std::vector<Version> versions;  // at least one, in declaration order
  // One entry per version, in the order of `versions` (0 for a version absent from
  // [service.split]); the basis points sum to exactly 10000.
  std::vector<SplitEntry> split;
  rollout::Policy rollout = rollout::default_policy();  // [service.rollout]
};

struct Server {
  Endpoint listen{"127.0.0.1", 8080};
  Endpoint admin{"127.0.0.1", 9901};
  uint32_t workers = 1;  // parse_config() defaults it to the number of cores (1..256)
  uint32_t max_connections = 10000;
  uint32_t drain_timeout_ms = 10000;
  uint32_t dns_refresh_ms = 30000;  // how often upstream host names are looked up again
};

struct Limits {
  uint32_t max_header_bytes = 16384;
  uint64_t max_body_bytes = 0;  // 0 = unlimited
  uint32_t header_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 60000;
  uint32_t connect_timeout_ms = 1000;
  uint32_t response_timeout_ms = 30000;
};

struct Config {
  Server server;
  Limits limits;
  std::vector<Service> services;  // in file order; may be empty
};

// Parses and validates a whole config file. `source_name` starts every error line.
Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);

// Reads `path` and parses it with `path` as the source name. An unreadable file is an error
// naming the path and the system's reason.
Result<Config> load_config(const std::string& path);

// The single-value parsers behind parse_config(), for command-line flags and the admin API.
// Their errors are one line without a location, e.g. `"x:1" is not a valid address: ...`.
Result<Endpoint> parse_endpoint(std::string_view text);
Result<Upstream> parse_upstream(std::string_view url);
Result<Route> parse_route(std::string_view text);
Result<Sticky> parse_sticky(std::string_view text);
bool is_valid_service_name(std::string_view name);
bool is_valid_version_name(std::string_view name);

}  // namespace rampart::config
