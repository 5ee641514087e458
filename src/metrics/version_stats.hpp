#pragma once
// Request metrics of one (service, version), kept in one shard per gateway worker.
//
// Thread safety: a VersionShard is written by exactly one worker thread (no locks, no
// allocation, no read-modify-write instructions) and may be read by any thread at the same
// time. A snapshot taken while workers write is not a consistent cut across counters (e.g.
// requests() may be ahead of latency.count() by the requests in flight in record_response),
// but each counter is exact as of some moment and the histogram in it is self-consistent.
//
// Errors bounded per sticky key: on a service with sticky routing one user's many errors all
// land on one version, which breaks the per-request independence the sequential judge's bound
// assumes. Each shard therefore also counts `capped_errors`: a request's 5xx counts there
// unless its sticky key already had kMaxErrorsPerKey errors in this shard since the version's
// weight last changed (a step). Keys live in a fixed table of kKeySlots slots per shard,
// indexed by the sticky hash the picker computed; a key that takes over another's slot starts
// that count afresh, so under heavy key churn the bound is loose (more errors count, as without
// it), never tighter. The table is the writer's alone (plain memory, no atomics, no allocation).

#include "metrics/counter.hpp"
#include "metrics/latency_histogram.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::metrics {

// Failures talking to the upstream, apart from the application's own 5xx answers.
enum class UpstreamFailure { kConnect, kReset, kTimeout };
inline constexpr std::size_t kUpstreamFailureCount = 3;

// "connect", "reset", "timeout".
std::string_view to_string(UpstreamFailure failure);

inline constexpr std::size_t kStatusClassCount = 5;  // 1xx .. 5xx

// The sticky key a request was routed by: the picker's 64-bit sticky hash (0: none, e.g.
// sticky = "none" or an override) and its version's key epoch in the route snapshot
// (VersionStats::key_epoch), which changes with the version's weight.
struct StickyKey {
  uint64_t hash = 0;
  uint32_t epoch = 0;
};
inline constexpr uint16_t kMaxErrorsPerKey = 2;  // per key, shard and step
inline constexpr std::size_t kKeySlots = 1024;   // per shard: 8 KiB

// One upstream of a served (service, version) as the last route publication left it.
struct UpstreamHealth {
  std::string upstream;  // "host:port", as configured
  std::string problem;   // empty when it has an address; else why not ("does not resolve: ...")

  friend bool operator==(const UpstreamHealth&, const UpstreamHealth&) = default;
};

struct VersionSnapshot {
  std::string service;
  std::string version;
  std::vector<UpstreamHealth> upstreams;  // empty for a version not served now
  std::array<uint64_t, kStatusClassCount> responses_by_class{};     // [0] = 1xx .. [4] = 5xx
  std::array<uint64_t, kUpstreamFailureCount> upstream_failures{};  // by UpstreamFailure
  uint64_t capped_errors = 0;  // 5xx, at most kMaxErrorsPerKey per sticky key and step
  uint64_t bytes_in = 0;       // request body bytes received from clients
  uint64_t bytes_out = 0;      // response body bytes sent to clients
  LatencyHistogram latency;

  uint64_t requests() const;
  uint64_t responses(unsigned status_class) const {  // REQUIRES: 1 <= status_class <= 5
    return responses_by_class[status_class - 1];
  }
  uint64_t upstream_failure_count(UpstreamFailure failure) const {
    return upstream_failures[static_cast<std::size_t>(failure)];
  }
};

struct alignas(64) VersionShard {
  // Writer side. `status` outside [100, 599] counts as 5xx: the gateway answered with an error.
  void record_response(unsigned status, uint64_t latency_nanos, uint64_t bytes_in,
                       uint64_t bytes_out) {
    record_response(StickyKey{}, status, latency_nanos, bytes_in, bytes_out);
  }
  // The same for a request routed by sticky `key`, whose errors are bounded per key.
  void record_response(StickyKey key, unsigned status, uint64_t latency_nanos, uint64_t bytes_in,
                       uint64_t bytes_out);
  void record_upstream_failure(UpstreamFailure failure);

  // Reader side: adds this shard's counts to `out` (its service and version are left alone).
  void add_to(VersionSnapshot& out) const;

  std::array<std::atomic<uint64_t>, kStatusClassCount> responses_by_class{};
  std::array<std::atomic<uint64_t>, kUpstreamFailureCount> upstream_failures{};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  // The latency histogram. The writer updates sum/min/max before it publishes the bucket
  // count with a release store; the reader loads buckets with acquire first, so the min and max
  // it reads bound every sample it counted.
  std::array<std::atomic<uint64_t>, LatencyHistogram::kBucketCount> latency_buckets{};
  std::atomic<uint64_t> latency_sum{0};
  std::atomic<uint64_t> latency_min{std::numeric_limits<uint64_t>::max()};
  std::atomic<uint64_t> latency_max{0};
  std::atomic<uint64_t> capped_errors{0};

 private:
  // Writer side: counts one error of `key` towards capped_errors unless it has had its share.
  void count_capped_error(StickyKey key);

  struct KeySlot {
    uint32_t tag = 0;  // the hash's low 32 bits (the slot is chosen by its high bits)
    uint16_t epoch = 0;
    uint16_t errors = 0;
  };
  std::array<KeySlot, kKeySlots> key_slots_{};  // the writer's only: never read elsewhere
};

// The shards of one (service, version). Shared (shared_ptr) by every route snapshot that
// routes to it and by the Registry, so counts survive config reloads.
class VersionStats {
 public:
  VersionStats(std::string service, std::string version, std::size_t worker_count);

  const std::string& service() const { return service_; }
  const std::string& version() const { return version_; }
  std::size_t worker_count() const { return shards_.size(); }

  // The shard that worker `worker` writes to. REQUIRES: worker < worker_count().
  VersionShard& shard(std::size_t worker) { return shards_[worker]; }
  const VersionShard& shard(std::size_t worker) const { return shards_[worker]; }

  // All shards merged; safe from any thread while workers write.
  VersionSnapshot snapshot() const;

  // The key epoch of this version in the route snapshot of `generation` being built, with
  // `basis_points` of the traffic: a new one whenever the weight differs from the last
  // snapshot's or the version was absent from the snapshot before (a step, a rollback, a
  // retry), so per-key error counts start afresh. Called when snapshots are built, never on
  // the request path; thread-safe.
  uint32_t key_epoch(uint32_t basis_points, uint64_t generation);

 private:
  std::mutex epoch_mutex_;
  uint32_t key_epoch_ = 0;
  uint32_t epoch_basis_points_ = 0;
  uint64_t epoch_generation_ = 0;  // the last generation key_epoch() was asked for

  std::string service_;
  std::string version_;
  // One per worker, contiguous; alignas(64) keeps workers off each other's cache lines.
  std::vector<VersionShard> shards_;
};

}  // namespace rampart::metrics
