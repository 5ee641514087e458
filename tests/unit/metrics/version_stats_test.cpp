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

uint64_t capped(const VersionShard& shard) {
  VersionSnapshot s;
  shard.add_to(s);
  return s.capped_errors;
}

// A sticky key's errors count at most kMaxErrorsPerKey times per epoch (step); requests without
// a key count every error; successes count nothing; a new epoch starts every key afresh.
TEST(VersionStatsTest, CappedErrorsBoundEachStickyKeyPerEpoch) {
  ASSERT_EQ(kMaxErrorsPerKey, 2);
  VersionShard shard;
  const StickyKey heavy{0x1234'5678'9abc'def0ULL, 1};
  const StickyKey light{0x0fed'cba9'8765'4321ULL, 1};
  for (int i = 0; i < 10; ++i) {
    shard.record_response(heavy, 503, 1'000, 0, 0);
    shard.record_response(heavy, 200, 1'000, 0, 0);
  }
  EXPECT_EQ(capped(shard), 2u);
  shard.record_response(light, 500, 1'000, 0, 0);
  EXPECT_EQ(capped(shard), 3u);
  for (int i = 0; i < 4; ++i) {
    shard.record_response(502, 1'000, 0, 0);  // no key
  }
  EXPECT_EQ(capped(shard), 7u);
  shard.record_response(StickyKey{heavy.hash, 2}, 500, 1'000, 0, 0);  // the next step
  shard.record_response(StickyKey{heavy.hash, 2}, 500, 1'000, 0, 0);
  shard.record_response(StickyKey{heavy.hash, 2}, 500, 1'000, 0, 0);
  EXPECT_EQ(capped(shard), 9u);
  VersionSnapshot s;
  shard.add_to(s);
  EXPECT_EQ(s.responses(5), 18u);  // every error is still an error
  EXPECT_EQ(s.requests(), 28u);
}

// Two keys in one slot (the same high bits) take it from each other: each restarts its count,
// so collisions loosen the bound (more errors count), never tighten it.
TEST(VersionStatsTest, KeysThatShareASlotLoosenTheBoundNeverTightenIt) {
  VersionShard shard;
  const StickyKey a{0xAAAA'0000'0000'0001ULL, 1};
  const StickyKey b{0xAAAA'0000'0000'0002ULL, 1};
  for (int i = 0; i < 3; ++i) {
    shard.record_response(a, 500, 1'000, 0, 0);
    shard.record_response(b, 500, 1'000, 0, 0);
  }
  EXPECT_EQ(capped(shard), 6u);
}

TEST(VersionStatsTest, TheKeyEpochChangesWithTheWeightOrAGap) {
  VersionStats stats("shop", "v2", 1);
  const uint32_t first = stats.key_epoch(1000, 1);
  EXPECT_EQ(stats.key_epoch(1000, 2), first);  // a re-publication at the same weight
  const uint32_t step = stats.key_epoch(5000, 3);
  EXPECT_NE(step, first);
  EXPECT_EQ(stats.key_epoch(5000, 4), step);
  // Absent from generation 5 (rolled back), back at the same weight in 6 (retried).
  EXPECT_NE(stats.key_epoch(5000, 6), step);
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
