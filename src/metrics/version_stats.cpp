#include "metrics/version_stats.hpp"

#include <numeric>
#include <utility>

namespace rampart::metrics {

std::string_view to_string(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::kConnect:
      return "connect";
    case UpstreamFailure::kReset:
      return "reset";
    case UpstreamFailure::kTimeout:
      return "timeout";
  }
  return "unknown";
}

uint64_t VersionSnapshot::requests() const {
  return std::accumulate(responses_by_class.begin(), responses_by_class.end(), uint64_t{0});
}

void VersionShard::record_response(StickyKey key, unsigned status, uint64_t latency_nanos,
                                   uint64_t in, uint64_t out) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  const unsigned status_class = status / 100;
  const bool error = status_class < 1 || status_class >= 5;
  bump(responses_by_class[error ? 4 : status_class - 1]);
  if (error) {
    count_capped_error(key);
  }
  bump(bytes_in, in);
  bump(bytes_out, out);

  bump(latency_sum, latency_nanos);
  if (latency_nanos < latency_min.load(kRelaxed)) {
    latency_min.store(latency_nanos, kRelaxed);
  }
  if (latency_nanos > latency_max.load(kRelaxed)) {
    latency_max.store(latency_nanos, kRelaxed);
  }
  auto& bucket = latency_buckets[LatencyHistogram::bucket_index(latency_nanos)];
  bucket.store(bucket.load(kRelaxed) + 1, std::memory_order_release);
}

void VersionShard::count_capped_error(StickyKey key) {
  if (key.hash == 0) {
    bump(capped_errors);  // no key: every error is its own
    return;
  }
  KeySlot& slot = key_slots_[(key.hash >> 32) % kKeySlots];
  const auto tag = static_cast<uint32_t>(key.hash);
  const auto epoch = static_cast<uint16_t>(key.epoch);
  if (slot.tag != tag || slot.epoch != epoch) {
    slot = KeySlot{tag, epoch, 0};  // another key, or a new step: a fresh count
  }
  if (slot.errors < kMaxErrorsPerKey) {
    ++slot.errors;
    bump(capped_errors);
  }
}

void VersionShard::record_upstream_failure(UpstreamFailure failure) {
  bump(upstream_failures[static_cast<std::size_t>(failure)]);
}

void VersionShard::add_to(VersionSnapshot& out) const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  for (std::size_t i = 0; i < kStatusClassCount; ++i) {
    out.responses_by_class[i] += responses_by_class[i].load(kRelaxed);
  }
  for (std::size_t i = 0; i < kUpstreamFailureCount; ++i) {
    out.upstream_failures[i] += upstream_failures[i].load(kRelaxed);
  }
  out.capped_errors += capped_errors.load(kRelaxed);
  out.bytes_in += bytes_in.load(kRelaxed);
  out.bytes_out += bytes_out.load(kRelaxed);

  std::array<uint64_t, LatencyHistogram::kBucketCount> counts;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] = latency_buckets[i].load(std::memory_order_acquire);
  }
  out.latency.add_buckets(counts, latency_sum.load(kRelaxed), latency_min.load(kRelaxed),
                          latency_max.load(kRelaxed));
}

VersionStats::VersionStats(std::string service, std::string version, std::size_t worker_count)
    : service_(std::move(service)), version_(std::move(version)), shards_(worker_count) {}

uint32_t VersionStats::key_epoch(uint32_t basis_points, uint64_t generation) {
  std::lock_guard lock(epoch_mutex_);
  if (basis_points != epoch_basis_points_ || generation != epoch_generation_ + 1) {
    ++key_epoch_;
  }
  epoch_basis_points_ = basis_points;
  epoch_generation_ = generation;
  return key_epoch_;
}

VersionSnapshot VersionStats::snapshot() const {
  VersionSnapshot s;
  s.service = service_;
  s.version = version_;
  for (const VersionShard& shard : shards_) {
    shard.add_to(s);
  }
  return s;
}

}  // namespace rampart::metrics
