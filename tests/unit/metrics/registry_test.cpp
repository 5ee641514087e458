#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::metrics {
namespace {

TEST(RegistryTest, SameServiceAndVersionGetTheSameStats) {
  Registry registry(2);
  auto a = registry.version_stats("shop", "v1");
  auto b = registry.version_stats("shop", "v1");
  auto c = registry.version_stats("shop", "v2");
  auto d = registry.version_stats("cart", "v1");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_EQ(a->worker_count(), 2u);

  a->shard(1).record_response(200, 1'000, 0, 0);
  a.reset();
  b.reset();  // a route snapshot dropped at a reload; the registry keeps the counts
  EXPECT_EQ(registry.version_stats("shop", "v1")->snapshot().requests(), 1u);
}

TEST(RegistryTest, SnapshotVersionsSortedByServiceThenVersion) {
  Registry registry(1);
  registry.version_stats("shop", "v2");
  registry.version_stats("cart", "v9");
  registry.version_stats("shop", "v10");
  registry.version_stats("cart", "v1");
  const auto snapshots = registry.snapshot_versions();
  std::vector<std::pair<std::string, std::string>> got;
  got.reserve(snapshots.size());
  for (const auto& s : snapshots) {
    got.emplace_back(s.service, s.version);
  }
  const std::vector<std::pair<std::string, std::string>> want{
      {"cart", "v1"}, {"cart", "v9"}, {"shop", "v10"}, {"shop", "v2"}};
  EXPECT_EQ(got, want);
}

TEST(RegistryTest, GatewaySnapshotMergesShards) {
  Registry registry(3);
  GatewayShard& w0 = registry.gateway_shard(0);
  GatewayShard& w2 = registry.gateway_shard(2);
  bump(w0.connections_accepted, 5);
  bump(w0.connections_active, 5);
  drop(w0.connections_active, 2);
  bump(w2.connections_accepted);
  bump(w2.connections_active);
  bump(w2.connections_rejected, 4);
  w0.record_rejection(Rejection::kNoRoute);
  w2.record_rejection(Rejection::kNoRoute);
  bump(w2.rejections[static_cast<std::size_t>(Rejection::kUpstreamTimeout)]);

  const GatewaySnapshot s = registry.snapshot_gateway();
  EXPECT_EQ(s.connections_accepted, 6u);
  EXPECT_EQ(s.connections_active, 4u);
  EXPECT_EQ(s.connections_rejected, 4u);
  EXPECT_EQ(s.rejection_count(Rejection::kNoRoute), 2u);
  EXPECT_EQ(s.rejection_count(Rejection::kUpstreamTimeout), 1u);
  EXPECT_EQ(s.rejection_count(Rejection::kBadRequest), 0u);
}

// Every error code the gateway answers with has a reason label of its own, the code itself.
TEST(RegistryTest, EveryRejectionHasItsOwnLabel) {
  const std::pair<Rejection, std::string_view> kWant[] = {
      {Rejection::kNoRoute, "no_route"},
      {Rejection::kBadRequest, "bad_request"},
      {Rejection::kVersionNotDeployed, "version_not_deployed"},
      {Rejection::kRequestTimeout, "request_timeout"},
      {Rejection::kBodyTooLarge, "body_too_large"},
      {Rejection::kUriTooLong, "uri_too_long"},
      {Rejection::kHeaderTooLarge, "header_too_large"},
      {Rejection::kUnsupportedTransferCoding, "unsupported_transfer_coding"},
      {Rejection::kUpstreamUnavailable, "upstream_unavailable"},
      {Rejection::kUpstreamReset, "upstream_reset"},
      {Rejection::kUpgradeNotSupported, "upgrade_not_supported"},
      {Rejection::kNoHealthyUpstream, "no_healthy_upstream"},
      {Rejection::kUpstreamTimeout, "upstream_timeout"},
  };
  static_assert(std::size(kWant) == kRejectionCount);
  std::set<std::string_view> labels;
  for (const auto& [rejection, name] : kWant) {
    EXPECT_EQ(to_string(rejection), name);
    labels.insert(to_string(rejection));
  }
  EXPECT_EQ(labels.size(), kRejectionCount) << "two rejections share a label";
  for (std::size_t i = 0; i < kRejectionCount; ++i) {
    EXPECT_FALSE(to_string(static_cast<Rejection>(i)).empty()) << "rejection " << i;
  }
}

}  // namespace
}  // namespace rampart::metrics
