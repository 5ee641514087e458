#pragma once
// The gateway's immutable routing snapshot: services, their routes, versions, upstreams and
// the traffic split, compiled from a config::Config into the form the request path reads.
//
// A RouteTable is built on the control thread, never mutated afterwards, and published to all
// workers at once (see SnapshotPublisher). Workers read it without locks.

#include "common/result.hpp"
#include "config/config.hpp"
#include "gateway/resolver.hpp"
#include "metrics/version_stats.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rampart::metrics {
class Registry;
}

namespace rampart::gateway {

inline constexpr uint32_t kBucketCount = 10000;  // sticky buckets 0..9999 (basis points)

struct UpstreamTarget {
  std::string authority;  // "127.0.0.1:9001", as configured
  boost::asio::ip::tcp::endpoint endpoint;
  uint32_t id = 0;  // stable across snapshots for the same endpoint; indexes per-worker state
};

// An upstream whose host name has no address (yet): it is left out of the version's upstreams
// and named in the answer to requests that find no other.
struct UnresolvedUpstream {
  std::string authority;  // "shop.internal:9001", as configured
  std::string reason;     // "does not resolve: Name or service not known", "is being resolved"
};

struct VersionRoute {
  std::string name;
  uint32_t basis_points = 0;
  // Sticky buckets [bucket_begin, bucket_end) go to this version. The newest version (declared
  // last) owns the lowest buckets, so a key on the canary stays there as its weight grows.
  uint32_t bucket_begin = 0;
  uint32_t bucket_end = 0;
  std::vector<UpstreamTarget> upstreams;  // those with an address
  std::vector<UnresolvedUpstream> unresolved;
  std::shared_ptr<metrics::VersionStats> stats;
  // Changes with this version's weight (VersionStats::key_epoch): errors per sticky key are
  // bounded per epoch, that is per rollout step.
  uint32_t key_epoch = 0;
};

struct ServiceRoute {
  std::string name;
  config::Sticky sticky;
  uint64_t salt_seed = 0;  // XXH64(salt, seed 0): the seed of the sticky hash
  config::Balance balance = config::Balance::kLeastRequest;
  uint32_t eject_after = 3;
  uint32_t eject_for_ms = 5000;
  std::vector<VersionRoute> versions;  // in declaration order

  // The version named `name`, or nullptr.
  const VersionRoute* find_version(std::string_view name) const;
};

struct RouteEntry {
  std::string host;  // lower case; empty = any host
  std::string path_prefix;
  uint32_t service = 0;  // index into RouteTable::services
};

// Interns upstream endpoints into small stable ids. Thread-safe; used only when building
// snapshots, never on the request path.
class UpstreamIds {
 public:
  uint32_t id_for(const boost::asio::ip::tcp::endpoint& endpoint);
  // The endpoint's id if it ever had one.
  std::optional<uint32_t> find(const boost::asio::ip::tcp::endpoint& endpoint) const;
  uint32_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, uint32_t> ids_;
};

struct RouteTable {
  uint64_t generation = 0;
  config::Limits limits;
  std::vector<ServiceRoute> services;
  std::vector<RouteEntry> routes;  // most specific first: longest prefix, then host before any

  // The service whose route matches `host` (the Host header, any case, port allowed) and `path`
  // (the request target's path), longest path prefix first, a route naming the host before a
  // route for any host. nullptr when none matches.
  const ServiceRoute* match(std::string_view host, std::string_view path) const;
};

// Sets each version's sticky bucket range from its basis points: the newest (last) version gets
// [0, w_last), the one before it the next range, and so on.
void assign_buckets(std::vector<VersionRoute>& versions);

// The upstream host names of `config` that need a lookup (IP literals need none), sorted,
// without duplicates.
std::vector<std::string> upstream_host_names(const config::Config& config);

// Compiles `config` into a snapshot: gives each upstream its address (IP literals as written,
// names from `answers`; a name without an address there becomes an UnresolvedUpstream),
// computes sticky bucket ranges, attaches metrics. Never blocks and never fails: whatever
// `config` holds, the snapshot serves every service in it.
std::shared_ptr<const RouteTable> build_route_table(const config::Config& config,
                                                    uint64_t generation,
                                                    metrics::Registry& registry,
                                                    UpstreamIds& upstream_ids,
                                                    const HostAnswers& answers);

}  // namespace rampart::gateway
