#include "metrics/latency_histogram.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace rampart::metrics {
namespace {

// The middle of the bucket's inclusive range, rounded down: the bucket's own value below 128.
uint64_t bucket_midpoint(std::size_t i) {
  const uint64_t lower = LatencyHistogram::bucket_lower(i);
  return lower + (LatencyHistogram::bucket_upper(i) - 1 - lower) / 2;
}

}  // namespace

void LatencyHistogram::record(uint64_t nanos, uint64_t count) {
  if (count == 0) {
    return;
  }
  counts_[bucket_index(nanos)] += count;
  count_ += count;
  sum_ += nanos * count;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void LatencyHistogram::add_buckets(std::span<const uint64_t> bucket_counts, uint64_t sum_nanos,
                                   uint64_t min, uint64_t max) {
  assert(bucket_counts.size() == kBucketCount);
  uint64_t added = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    counts_[i] += bucket_counts[i];
    added += bucket_counts[i];
  }
  if (added == 0) {
    return;
  }
  count_ += added;
  sum_ += sum_nanos;
  min_ = std::min(min_, min);
  max_ = std::max(max_, max);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  add_buckets(other.counts_, other.sum_, other.min_, other.max_);
}

void LatencyHistogram::clear() { *this = LatencyHistogram(); }

LatencyHistogram LatencyHistogram::since(const LatencyHistogram& earlier) const {
  LatencyHistogram d;
  std::size_t first = kBucketCount;
  std::size_t last = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    d.counts_[i] = counts_[i] - earlier.counts_[i];
    if (d.counts_[i] != 0) {
      first = std::min(first, i);
      last = i;
      d.count_ += d.counts_[i];
    }
  }
  if (d.count_ == 0) {
    return LatencyHistogram();
  }
  d.sum_ = sum_ - earlier.sum_;
  d.min_ = earlier.count_ == 0 || min_ < earlier.min_ ? min_ : std::max(bucket_lower(first), min_);
  d.max_ =
      earlier.count_ == 0 || max_ > earlier.max_ ? max_ : std::min(bucket_upper(last) - 1, max_);
  return d;
}

uint64_t LatencyHistogram::representative(std::size_t bucket) const {
  if (bucket == kOverflowBucket) {
    return max_;
  }
  return std::clamp(bucket_midpoint(bucket), min_, max_);
}

uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  q = q > 0.0 ? std::min(q, 1.0) : 0.0;  // also maps NaN to 0
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  if (rank >= count_) {
    return max_;
  }
  uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return representative(i);
    }
  }
  return max_;  // unreachable while count_ equals the sum of counts_
}

uint64_t LatencyHistogram::count_at_or_below(uint64_t nanos) const {
  if (count_ == 0 || nanos < min_) {
    return 0;
  }
  if (nanos >= max_) {
    return count_;
  }
  // min_ <= nanos < max_: a representative clamp(mid, min_, max_) is <= nanos iff mid <= nanos,
  // and midpoints grow with the bucket index; the overflow bucket's representative is max_.
  uint64_t total = 0;
  for (std::size_t i = 0; i < kOverflowBucket; ++i) {
    if (bucket_midpoint(i) > nanos) {
      break;
    }
    total += counts_[i];
  }
  return total;
}

}  // namespace rampart::metrics
