#pragma once
// A fixed-size, mergeable log-linear histogram of nanosecond latencies (HdrHistogram-style).
//
// Values below 128 have a bucket each. Above, every power of two [2^e, 2^(e+1)) up to kRangeEnd
// (2^39 ns, ~550 s) is split into 64 equal sub-buckets, so a bucket is at most 1/64 of its lower
// bound wide. Values >= kRangeEnd are clamped into the last bucket, kOverflowBucket.
//
// Approximation model: a recorded value is represented by its bucket's midpoint (rounded down)
// clamped to [min(), max()], which is within 1/128 (< 0.8%) of the value; values in the
// overflow bucket are represented by max(), an upper bound. min(), max(), count() and
// sum_nanos() are exact. quantile() and count_at_or_below() both answer from this model, so
// count_at_or_below(quantile(q)) >= ceil(q * count()).
//
// Thread safety: none; a LatencyHistogram is a plain value. The per-worker concurrent variant
// lives in VersionShard, which copies into a LatencyHistogram to be read.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

namespace rampart::metrics {

class LatencyHistogram {
 public:
  static constexpr std::size_t kExactBelow = 128;
  static constexpr unsigned kSubBucketBits = 6;  // 64 sub-buckets per power of two
  static constexpr unsigned kFirstExponent = 7;  // log2(kExactBelow)
  static constexpr unsigned kLastExponent = 38;  // the last fully covered power of two
  static constexpr uint64_t kRangeEnd = uint64_t{1} << (kLastExponent + 1);
  static constexpr std::size_t kOverflowBucket =
      kExactBelow + (kLastExponent - kFirstExponent + 1) * (std::size_t{1} << kSubBucketBits);
  static constexpr std::size_t kBucketCount = kOverflowBucket + 1;
  static_assert(kExactBelow == std::size_t{1} << kFirstExponent);
  static_assert(kFirstExponent >= kSubBucketBits);

  // The bucket holding `nanos`; values >= kRangeEnd map to kOverflowBucket.
  static constexpr std::size_t bucket_index(uint64_t nanos) {
    if (nanos < kExactBelow) {
      return static_cast<std::size_t>(nanos);
    }
    const unsigned exponent = 63 - static_cast<unsigned>(std::countl_zero(nanos));
    if (exponent > kLastExponent) {
      return kOverflowBucket;
    }
    const uint64_t sub = (nanos >> (exponent - kSubBucketBits)) - (uint64_t{1} << kSubBucketBits);
    return kExactBelow + ((exponent - kFirstExponent) << kSubBucketBits) +
           static_cast<std::size_t>(sub);
  }

  // A bucket holds the values in [bucket_lower(i), bucket_upper(i)): lower inclusive, upper
  // exclusive; bucket_upper(i) == bucket_lower(i + 1). The exception is kOverflowBucket:
  // [kRangeEnd, UINT64_MAX], upper inclusive. REQUIRES: i < kBucketCount.
  static constexpr uint64_t bucket_lower(std::size_t i) {
    if (i < kExactBelow) {
      return i;
    }
    if (i == kOverflowBucket) {
      return kRangeEnd;
    }
    const std::size_t j = i - kExactBelow;
    const unsigned exponent = kFirstExponent + static_cast<unsigned>(j >> kSubBucketBits);
    const uint64_t sub = j & ((std::size_t{1} << kSubBucketBits) - 1);
    return ((uint64_t{1} << kSubBucketBits) + sub) << (exponent - kSubBucketBits);
  }
  static constexpr uint64_t bucket_upper(std::size_t i) {
    if (i < kExactBelow) {
      return i + 1;
    }
    if (i == kOverflowBucket) {
      return std::numeric_limits<uint64_t>::max();
    }
    const unsigned exponent =
        kFirstExponent + static_cast<unsigned>((i - kExactBelow) >> kSubBucketBits);
    return bucket_lower(i) + (uint64_t{1} << (exponent - kSubBucketBits));
  }

  void record(uint64_t nanos, uint64_t count = 1);

  // Adds samples counted elsewhere (a VersionShard) bucket by bucket. `sum_nanos`, `min` and
  // `max` describe the same samples; they are ignored when `bucket_counts` sums to zero.
  // REQUIRES: bucket_counts.size() == kBucketCount.
  void add_buckets(std::span<const uint64_t> bucket_counts, uint64_t sum_nanos, uint64_t min,
                   uint64_t max);

  // Afterwards *this describes the union of both sample sets exactly as if every sample had
  // been recorded here.
  void merge(const LatencyHistogram& other);

  void clear();

  // The samples recorded since `earlier`, a copy of this histogram taken before (an analysis
  // window): bucket counts and the sum exactly; min() and max() exactly when a new extreme was
  // recorded since, else the bound of the extreme bucket (within the buckets' 1%).
  // REQUIRES: every bucket of `earlier` <= this one's (it is an earlier state of the same
  // histogram).
  LatencyHistogram since(const LatencyHistogram& earlier) const;

  uint64_t count() const { return count_; }
  // Wraps modulo 2^64 (after ~584 years of summed latency).
  uint64_t sum_nanos() const { return sum_; }
  // Exact smallest / largest recorded value; 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }

  // The value at rank ceil(q * count()) (at least 1) in ascending order, q clamped to [0, 1]:
  // the representative of the bucket holding that rank, or exactly max() for the last rank.
  // 0 when empty.
  uint64_t quantile(double q) const;

  // How many samples have a representative <= nanos (see the model above): exact below 128 and
  // for nanos >= max() or < min(). Otherwise a sample sharing a bucket with `nanos` counts when
  // the bucket midpoint is <= nanos, so samples within 1/128 of `nanos` may land on the wrong
  // side; overflow samples never count.
  uint64_t count_at_or_below(uint64_t nanos) const;

  std::span<const uint64_t, kBucketCount> buckets() const { return counts_; }

 private:
  uint64_t representative(std::size_t bucket) const;

  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace rampart::metrics
