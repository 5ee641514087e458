// Two workers write their own shards while a reader merges them: totals must be exact at the
// end, and every intermediate snapshot must be sane. Run under -DRAMPART_SANITIZE=thread.

#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace rampart::metrics {
namespace {

constexpr std::size_t kWriters = 2;
constexpr uint64_t kPerWriter = 200'000;
constexpr unsigned kStatuses[] = {200, 201, 200, 404, 503, 302, 200, 101};

struct Expected {
  std::array<uint64_t, kStatusClassCount> classes{};
  uint64_t resets = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  LatencyHistogram latency;
};

void write(std::size_t worker, VersionShard& shard, GatewayShard& gateway, Expected& expected) {
  for (uint64_t i = 0; i < kPerWriter; ++i) {
    bump(gateway.connections_accepted);
    bump(gateway.connections_active);
    const unsigned status = kStatuses[i % std::size(kStatuses)];
    const uint64_t latency = 1'000 + (i * 7919 + worker * 104729) % 50'000'000;
    shard.record_response(status, latency, i % 7, i % 11);
    expected.classes[status / 100 - 1] += 1;
    expected.bytes_in += i % 7;
    expected.bytes_out += i % 11;
    expected.latency.record(latency);
    if (i % 100 == 0) {
      shard.record_upstream_failure(UpstreamFailure::kReset);
      gateway.record_rejection(Rejection::kUpstreamUnavailable);
      ++expected.resets;
    }
    drop(gateway.connections_active);
  }
}

TEST(ConcurrencyTest, WritersOnOwnShardsReaderMerges) {
  Registry registry(kWriters);
  auto stats = registry.version_stats("shop", "v1");
  std::array<Expected, kWriters> expected;
  std::atomic<std::size_t> done{0};
  std::atomic<bool> reading{false};

  std::vector<std::thread> writers;
  for (std::size_t w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      while (!reading.load(std::memory_order_acquire)) {
        std::this_thread::yield();
      }
      write(w, stats->shard(w), registry.gateway_shard(w), expected[w]);
      done.fetch_add(1, std::memory_order_release);
    });
  }

  uint64_t last_requests = 0;
  uint64_t last_latency_count = 0;
  std::thread reader([&] {
    reading.store(true, std::memory_order_release);
    while (done.load(std::memory_order_acquire) < kWriters) {
      const std::vector<VersionSnapshot> all = registry.snapshot_versions();
      const GatewaySnapshot gateway = registry.snapshot_gateway();
      ASSERT_EQ(all.size(), 1u);
      const VersionSnapshot& s = all[0];
      ASSERT_GE(s.requests(), last_requests);
      ASSERT_GE(s.latency.count(), last_latency_count);
      ASSERT_LE(s.requests(), kWriters * kPerWriter);
      ASSERT_LE(gateway.connections_active, kWriters);
      last_requests = s.requests();
      last_latency_count = s.latency.count();
      const LatencyHistogram& h = s.latency;
      if (h.count() == 0) {
        continue;
      }
      // min and max bound every sample the snapshot counted.
      const auto buckets = h.buckets();
      const auto first = static_cast<std::size_t>(
          std::find_if(buckets.begin(), buckets.end(), [](uint64_t c) { return c != 0; }) -
          buckets.begin());
      const auto last = static_cast<std::size_t>(
          buckets.rend() -
          std::find_if(buckets.rbegin(), buckets.rend(), [](uint64_t c) { return c != 0; }) - 1);
      ASSERT_LT(h.min(), LatencyHistogram::bucket_upper(first));
      ASSERT_GE(h.max(), LatencyHistogram::bucket_lower(last));
      ASSERT_LE(h.quantile(0.5), h.max());
      ASSERT_GE(h.quantile(0.5), h.min());
    }
  });
  for (auto& t : writers) {
    t.join();
  }
  reader.join();

  Expected want;
  for (const Expected& e : expected) {
    for (std::size_t c = 0; c < kStatusClassCount; ++c) {
      want.classes[c] += e.classes[c];
    }
    want.resets += e.resets;
    want.bytes_in += e.bytes_in;
    want.bytes_out += e.bytes_out;
    want.latency.merge(e.latency);
  }
  const VersionSnapshot s = stats->snapshot();
  EXPECT_EQ(s.responses_by_class, want.classes);
  EXPECT_EQ(s.requests(), kWriters * kPerWriter);
  EXPECT_EQ(s.upstream_failure_count(UpstreamFailure::kReset), want.resets);
  EXPECT_EQ(s.bytes_in, want.bytes_in);
  EXPECT_EQ(s.bytes_out, want.bytes_out);
  EXPECT_EQ(s.latency.count(), want.latency.count());
  EXPECT_EQ(s.latency.sum_nanos(), want.latency.sum_nanos());
  EXPECT_EQ(s.latency.min(), want.latency.min());
  EXPECT_EQ(s.latency.max(), want.latency.max());
  EXPECT_TRUE(std::equal(s.latency.buckets().begin(), s.latency.buckets().end(),
                         want.latency.buckets().begin()));

  const GatewaySnapshot g = registry.snapshot_gateway();
  EXPECT_EQ(g.connections_accepted, kWriters * kPerWriter);
  EXPECT_EQ(g.connections_active, 0u);
  EXPECT_EQ(g.rejection_count(Rejection::kUpstreamUnavailable), want.resets);
}

}  // namespace
}  // namespace rampart::metrics
