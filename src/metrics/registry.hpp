#pragma once
// All request metrics of one gateway process: per-(service, version) stats and gateway-wide
// counters, each kept in one shard per worker and merged when read.
//
// Thread safety: version_stats() and the snapshot functions may be called from any thread.
// A GatewayShard is written only by its worker (see metrics/counter.hpp) and read by any.

#include "metrics/counter.hpp"
#include "metrics/version_stats.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::metrics {

// Why the gateway answered a request itself instead of relaying the upstream's answer: one
// value per error code the gateway answers with. The code in the answer's JSON body
// ({"error": "no_route", ...}) and the reason label of rampart_gateway_rejections_total are
// the same string, to_string(), so the two cannot drift apart.
enum class Rejection {
  kNoRoute,                    // 404
  kBadRequest,                 // 400
  kVersionNotDeployed,         // 400
  kRequestTimeout,             // 408: the request header did not arrive in time
  kBodyTooLarge,               // 413
  kUriTooLong,                 // 414
  kHeaderTooLarge,             // 431
  kUnsupportedTransferCoding,  // 501
  kUpstreamUnavailable,        // 502: no upstream could be reached
  kUpstreamReset,              // 502: the upstream failed before any of its answer went out
  kUpgradeNotSupported,        // 502: the upstream switched protocols (101)
  kNoHealthyUpstream,          // 503
  kUpstreamTimeout,            // 504
};
inline constexpr std::size_t kRejectionCount =
    static_cast<std::size_t>(Rejection::kUpstreamTimeout) + 1;

// The error code, snake_case: "no_route", "bad_request", ..., "upstream_timeout".
std::string_view to_string(Rejection rejection);

struct alignas(64) GatewayShard {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_active{0};    // gauge: bump on accept, drop on close
  std::atomic<uint64_t> connections_rejected{0};  // over the connection cap
  std::array<std::atomic<uint64_t>, kRejectionCount> rejections{};  // indexed by Rejection

  void record_rejection(Rejection r) { bump(rejections[static_cast<std::size_t>(r)]); }
};

struct GatewaySnapshot {
  uint64_t connections_accepted = 0;
  uint64_t connections_active = 0;
  uint64_t connections_rejected = 0;
  std::array<uint64_t, kRejectionCount> rejections{};

  uint64_t rejection_count(Rejection r) const { return rejections[static_cast<std::size_t>(r)]; }
};

class Registry {
 public:
  explicit Registry(std::size_t worker_count);

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  std::size_t worker_count() const { return gateway_shards_.size(); }

  // Gets or creates the stats of (service, version): the same pair always yields the same
  // object for the registry's lifetime, so counts survive config reloads. Takes a mutex and
  // may allocate: call it when building a route snapshot, never per request.
  std::shared_ptr<VersionStats> version_stats(std::string_view service, std::string_view version);

  // The shard that worker `worker` writes to. REQUIRES: worker < worker_count().
  GatewayShard& gateway_shard(std::size_t worker) { return gateway_shards_[worker]; }

  // Every (service, version) ever registered, merged over workers, sorted by (service, version).
  std::vector<VersionSnapshot> snapshot_versions() const;
  GatewaySnapshot snapshot_gateway() const;
  // One (service, version), merged over workers; a version never registered has no counts.
  VersionSnapshot snapshot_version(std::string_view service, std::string_view version) const;

  using UpstreamBoard = std::map<std::pair<std::string, std::string>, std::vector<UpstreamHealth>>;
  // The upstreams of every served (service, version), set at each route publication (replacing
  // the last); snapshot_versions() reports them. Takes the mutex: never per request.
  void set_upstreams(UpstreamBoard board);

 private:
  std::vector<GatewayShard> gateway_shards_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<VersionStats>>
      versions_;             // GUARDED_BY(mutex_)
  UpstreamBoard upstreams_;  // GUARDED_BY(mutex_)
};

}  // namespace rampart::metrics
