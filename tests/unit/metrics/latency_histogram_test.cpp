#include "metrics/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace rampart::metrics {
namespace {

using H = LatencyHistogram;

constexpr std::size_t kSamples = 100'000;
constexpr double kQuantiles[] = {0.5, 0.9, 0.95, 0.99, 0.999};

// The exact value at rank ceil(q * n) of sorted samples, the definition quantile() follows.
uint64_t exact_quantile(const std::vector<uint64_t>& sorted, double q) {
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * sorted.size())));
  return sorted[std::min<uint64_t>(rank, sorted.size()) - 1];
}

double relative_error(uint64_t got, uint64_t want) {
  if (want == 0) {
    return got == 0 ? 0.0 : 1.0;
  }
  return std::abs(static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want);
}

struct Distribution {
  std::string name;
  std::function<uint64_t(std::mt19937_64&)> draw;
  double max_error;  // relative
};

std::vector<Distribution> distributions() {
  return {
      {"uniform_1us_1s",
       [](std::mt19937_64& rng) {
         return std::uniform_int_distribution<uint64_t>(1'000, 1'000'000'000)(rng);
       },
       0.01},
      {"lognormal_2ms",
       [](std::mt19937_64& rng) {
         return static_cast<uint64_t>(std::lognormal_distribution<double>(std::log(2e6), 0.6)(rng));
       },
       0.01},
      {"bimodal_100us_50ms",
       [](std::mt19937_64& rng) {
         const bool slow = std::bernoulli_distribution(0.3)(rng);
         const double v = slow ? std::normal_distribution<double>(50e6, 5e6)(rng)
                               : std::normal_distribution<double>(100e3, 10e3)(rng);
         return static_cast<uint64_t>(std::max(v, 0.0));
       },
       0.01},
      {"constant_1234567", [](std::mt19937_64&) { return uint64_t{1'234'567}; }, 0.0},
      {"below_128",
       [](std::mt19937_64& rng) { return std::uniform_int_distribution<uint64_t>(0, 127)(rng); },
       0.0},
      {"up_to_range_end",
       [](std::mt19937_64& rng) {
         return std::uniform_int_distribution<uint64_t>(H::kRangeEnd / 2, H::kRangeEnd - 1)(rng);
       },
       0.01},
  };
}

TEST(LatencyHistogramTest, QuantilesWithinOnePercentOfExact) {
  for (const Distribution& d : distributions()) {
    SCOPED_TRACE(d.name);
    std::mt19937_64 rng(42);
    std::vector<uint64_t> samples(kSamples);
    H h;
    for (uint64_t& s : samples) {
      s = d.draw(rng);
      h.record(s);
    }
    std::sort(samples.begin(), samples.end());
    for (double q : kQuantiles) {
      const uint64_t want = exact_quantile(samples, q);
      const uint64_t got = h.quantile(q);
      EXPECT_LE(relative_error(got, want), d.max_error)
          << "q=" << q << " got " << got << " want " << want;
      EXPECT_GE(h.count_at_or_below(got), static_cast<uint64_t>(std::ceil(q * kSamples)));
    }
    EXPECT_EQ(h.quantile(1.0), samples.back());
    EXPECT_EQ(h.min(), samples.front());
    EXPECT_EQ(h.max(), samples.back());
    EXPECT_EQ(h.count(), kSamples);
  }
}

TEST(LatencyHistogramTest, ValuesBeyondRangeClampIntoLastBucket) {
  // 90% log-uniform in 1ms..10s, 10% beyond the range.
  std::mt19937_64 rng(7);
  std::vector<uint64_t> samples(kSamples);
  H h;
  for (std::size_t i = 0; i < kSamples; ++i) {
    samples[i] = i % 10 == 0
                     ? std::uniform_int_distribution<uint64_t>(H::kRangeEnd, H::kRangeEnd * 8)(rng)
                     : static_cast<uint64_t>(std::exp(std::uniform_real_distribution<double>(
                           std::log(1e6), std::log(1e10))(rng)));
    h.record(samples[i]);
  }
  std::sort(samples.begin(), samples.end());
  EXPECT_EQ(h.buckets()[H::kOverflowBucket], kSamples / 10);
  for (double q : {0.5, 0.9}) {  // ranks inside the range
    EXPECT_LE(relative_error(h.quantile(q), exact_quantile(samples, q)), 0.01) << q;
  }
  for (double q : {0.95, 0.99, 0.999}) {  // ranks among the clamped values: max() bounds them
    EXPECT_EQ(h.quantile(q), samples.back()) << q;
  }
  EXPECT_EQ(h.quantile(1.0), samples.back());
  EXPECT_EQ(h.max(), samples.back());
  EXPECT_EQ(h.count_at_or_below(H::kRangeEnd - 1), kSamples - kSamples / 10);
  EXPECT_EQ(h.count_at_or_below(H::kRangeEnd * 2), kSamples - kSamples / 10);
  EXPECT_EQ(h.count_at_or_below(samples.back()), kSamples);
}

TEST(LatencyHistogramTest, BucketBoundsAreContiguousAndTight) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(H::kOverflowBucket, H::kBucketCount - 1);
  EXPECT_EQ(H::bucket_lower(0), 0u);
  EXPECT_GT(H::kRangeEnd, uint64_t{1} << 38);
  EXPECT_EQ(H::bucket_lower(H::kOverflowBucket), H::kRangeEnd);
  EXPECT_EQ(H::bucket_upper(H::kOverflowBucket), kMax);
  EXPECT_EQ(H::bucket_index(H::kRangeEnd - 1), H::kOverflowBucket - 1);
  EXPECT_EQ(H::bucket_index(H::kRangeEnd), H::kOverflowBucket);
  EXPECT_EQ(H::bucket_index(kMax), H::kOverflowBucket);
  for (std::size_t i = 0; i < H::kOverflowBucket; ++i) {
    const uint64_t lower = H::bucket_lower(i);
    const uint64_t upper = H::bucket_upper(i);
    ASSERT_LT(lower, upper) << i;
    ASSERT_EQ(upper, H::bucket_lower(i + 1)) << i;
    ASSERT_EQ(H::bucket_index(lower), i);
    ASSERT_EQ(H::bucket_index(upper - 1), i);
    if (i < H::kExactBelow) {
      ASSERT_EQ(upper - lower, 1u) << i;
    } else {
      ASSERT_LE((upper - lower) * 64, lower) << i;  // width <= 1/64 of the lower bound
    }
  }
  std::mt19937_64 rng(1);
  for (int n = 0; n < 100'000; ++n) {
    const uint64_t v = rng() >> std::uniform_int_distribution<int>(0, 63)(rng);
    const std::size_t i = H::bucket_index(v);
    ASSERT_LT(i, H::kBucketCount);
    ASSERT_LE(H::bucket_lower(i), v);
    ASSERT_TRUE(v < H::bucket_upper(i) || i == H::kOverflowBucket) << v;
  }
}

TEST(LatencyHistogramTest, BucketIndexIsMonotonic) {
  std::size_t previous = 0;
  for (uint64_t v = 0; v < 1'000'000; ++v) {
    const std::size_t i = H::bucket_index(v);
    ASSERT_TRUE(i == previous || i == previous + 1) << v;
    previous = i;
  }
}

TEST(LatencyHistogramTest, MergeEqualsRecordingIntoOne) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(std::log(5e6), 1.0);
  H a, b, all;
  for (int i = 0; i < 10'000; ++i) {
    const auto v = static_cast<uint64_t>(dist(rng));
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.sum_nanos(), all.sum_nanos());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_TRUE(std::equal(a.buckets().begin(), a.buckets().end(), all.buckets().begin()));
  for (double q : kQuantiles) {
    EXPECT_EQ(a.quantile(q), all.quantile(q));
  }

  H empty;
  a.merge(empty);
  EXPECT_EQ(a.min(), all.min());
  empty.merge(all);
  EXPECT_EQ(empty.min(), all.min());
  EXPECT_EQ(empty.max(), all.max());
}

TEST(LatencyHistogramTest, CountSumMinMax) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.count_at_or_below(std::numeric_limits<uint64_t>::max()), 0u);

  h.record(300);
  h.record(7, 3);
  h.record(1'000'000);
  h.record(5, 0);  // no samples: no effect
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum_nanos(), 300u + 21u + 1'000'000u);
  EXPECT_EQ(h.min(), 7u);
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_EQ(h.quantile(0.0), 7u);
  EXPECT_EQ(h.quantile(0.5), 7u);    // rank 3
  EXPECT_EQ(h.quantile(0.7), 301u);  // rank 4: the midpoint of 300's bucket [300, 304)
  EXPECT_EQ(h.quantile(1.0), 1'000'000u);
  EXPECT_EQ(h.count_at_or_below(6), 0u);
  EXPECT_EQ(h.count_at_or_below(7), 3u);
  EXPECT_EQ(h.count_at_or_below(299), 3u);
  EXPECT_EQ(h.count_at_or_below(300), 3u);  // 300 is represented by 301
  EXPECT_EQ(h.count_at_or_below(301), 4u);
  EXPECT_EQ(h.count_at_or_below(999'999), 4u);
  EXPECT_EQ(h.count_at_or_below(1'000'000), 5u);

  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.sum_nanos(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.count_at_or_below(300), 0u);
}

}  // namespace
}  // namespace rampart::metrics

namespace rampart::metrics {
namespace {

TEST(LatencyHistogramSince, AWindowHoldsExactlyTheSamplesRecordedSince) {
  LatencyHistogram h;
  for (uint64_t ms : {1, 2, 3, 500}) {
    h.record(ms * 1'000'000);
  }
  const LatencyHistogram before = h;
  h.record(7'000'000, 10);
  h.record(900'000'000);  // a new maximum: exact
  const LatencyHistogram w = h.since(before);
  EXPECT_EQ(w.count(), 11u);
  EXPECT_EQ(w.sum_nanos(), 70'000'000u + 900'000'000u);
  EXPECT_EQ(w.max(), 900'000'000u);
  EXPECT_NEAR(static_cast<double>(w.min()), 7e6, 7e6 * 0.01);  // the bucket's bound
  EXPECT_NEAR(static_cast<double>(w.quantile(0.5)), 7e6, 7e6 * 0.01);
  EXPECT_EQ(h.since(h).count(), 0u);
  EXPECT_EQ(h.since(LatencyHistogram()).count(), h.count());
  EXPECT_EQ(h.since(LatencyHistogram()).min(), h.min());
}

}  // namespace
}  // namespace rampart::metrics
