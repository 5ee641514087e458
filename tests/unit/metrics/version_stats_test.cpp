#include "metrics/version_stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace rampart::metrics {
namespace {

TEST(VersionStatsTest, StatusClassesByStatus) {
  struct Case {
    unsigned status;
    std::size_t class_index;  // 0 = 1xx
  };
  constexpr Case kCases[] = {
      {100, 0}, {199, 0}, {200, 1}, {204, 1}, {299, 1}, {301, 2}, {304, 2}, {400, 3},
      {404, 3}, {499, 3}, {500, 4}, {503, 4}, {599, 4}, {0, 4},   {99, 4},  {600, 4},
  };
  for (const Case& c : kCases) {
    VersionShard shard;
    shard.record_response(c.status, 1'000, 0, 0);
    VersionSnapshot s;
    shard.add_to(s);
    std::array<uint64_t, kStatusClassCount> want{};
    want[c.class_index] = 1;
    EXPECT_EQ(s.responses_by_class, want) << c.status;
  }
}

TEST(VersionStatsTest, UpstreamFailuresByKind) {
  VersionShard shard;
  shard.record_upstream_failure(UpstreamFailure::kConnect);
  shard.record_upstream_failure(UpstreamFailure::kTimeout);
  shard.record_upstream_failure(UpstreamFailure::kTimeout);
  VersionSnapshot s;
  shard.add_to(s);
  EXPECT_EQ(s.upstream_failure_count(UpstreamFailure::kConnect), 1u);
  EXPECT_EQ(s.upstream_failure_count(UpstreamFailure::kReset), 0u);
  EXPECT_EQ(s.upstream_failure_count(UpstreamFailure::kTimeout), 2u);
  EXPECT_EQ(s.requests(), 0u);  // failures are not responses
  EXPECT_EQ(to_string(UpstreamFailure::kConnect), "connect");
  EXPECT_EQ(to_string(UpstreamFailure::kReset), "reset");
  EXPECT_EQ(to_string(UpstreamFailure::kTimeout), "timeout");
}

TEST(VersionStatsTest, SnapshotMergesAllShards) {
  VersionStats stats("shop", "v2", 3);
  ASSERT_EQ(stats.worker_count(), 3u);
  stats.shard(0).record_response(200, 2'000'000, 100, 1'000);
  stats.shard(1).record_response(200, 4'000'000, 10, 2'000);
  stats.shard(1).record_response(503, 90, 0, 50);
  stats.shard(2).record_response(404, 7'000'000'000, 1, 2);
  stats.shard(2).record_upstream_failure(UpstreamFailure::kReset);

  const VersionSnapshot s = stats.snapshot();
  EXPECT_EQ(s.service, "shop");
  EXPECT_EQ(s.version, "v2");
  EXPECT_EQ(s.requests(), 4u);
  EXPECT_EQ(s.responses(2), 2u);
  EXPECT_EQ(s.responses(4), 1u);
  EXPECT_EQ(s.responses(5), 1u);
  EXPECT_EQ(s.upstream_failure_count(UpstreamFailure::kReset), 1u);
  EXPECT_EQ(s.bytes_in, 111u);
  EXPECT_EQ(s.bytes_out, 3'052u);
  EXPECT_EQ(s.latency.count(), 4u);
  EXPECT_EQ(s.latency.sum_nanos(), 7'006'000'090u);
  EXPECT_EQ(s.latency.min(), 90u);
  EXPECT_EQ(s.latency.max(), 7'000'000'000u);

  LatencyHistogram want;
  for (uint64_t v : {2'000'000ull, 4'000'000ull, 90ull, 7'000'000'000ull}) {
    want.record(v);
  }
  EXPECT_TRUE(
      std::equal(want.buckets().begin(), want.buckets().end(), s.latency.buckets().begin()));
}

TEST(VersionStatsTest, ShardsDoNotShareCacheLines) {
  VersionStats stats("s", "v", 2);
  const auto a = reinterpret_cast<std::uintptr_t>(&stats.shard(0));
  const auto b = reinterpret_cast<std::uintptr_t>(&stats.shard(1));
  EXPECT_EQ(a % 64, 0u);
  EXPECT_EQ(b % 64, 0u);
  EXPECT_GE(b - a, sizeof(VersionShard));
}

}  // namespace
}  // namespace rampart::metrics
