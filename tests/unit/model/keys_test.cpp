// Store keys: builders, the parser that inverts them, their order, and id-interval prefixes.

#include "model/keys.hpp"
#include "model/records.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace rampart::model::keys {
namespace {

struct KeyCase {
  std::string key;
  ParsedKey parsed;
};

const std::vector<KeyCase>& key_cases() {
  static const std::vector<KeyCase> cases = {
      {service("shop"), {KeyKind::kService, "shop", "", 0}},
      {version("shop", "v1.2-rc_1"), {KeyKind::kVersion, "shop", "v1.2-rc_1", 0}},
      {deployment("shop", 42), {KeyKind::kDeployment, "shop", "", 42}},
      {latest("shop"), {KeyKind::kLatest, "shop", "", 0}},
      {checkpoint("api", 7), {KeyKind::kCheckpoint, "api", "", 7}},
      {audit(kMaxId), {KeyKind::kAudit, "", "", kMaxId}},
      {token("ci-bot"), {KeyKind::kToken, "", "ci-bot", 0}},
      {audit_counter(), {KeyKind::kAuditCounter, "", "", 0}},
      {checkpoint_counter("shop"), {KeyKind::kCheckpointCounter, "shop", "", 0}},
      {rollout("shop", 3), {KeyKind::kRollout, "shop", "", 3}},
      {rollout_event("shop", 3, 12), {KeyKind::kRolloutEvent, "shop", "", 3, 12}},
      {rollout_counter("shop"), {KeyKind::kRolloutCounter, "shop", "", 0}},
  };
  return cases;
}

TEST(Keys, BuildersWriteTheDocumentedKeys) {
  EXPECT_EQ(service("shop"), "/rampart/services/shop");
  EXPECT_EQ(version("shop", "v1"), "/rampart/versions/shop/v1");
  EXPECT_EQ(deployment("shop", 42), "/rampart/deployments/shop/0000000042");
  EXPECT_EQ(latest("shop"), "/rampart/latest/shop");
  EXPECT_EQ(checkpoint("shop", 3), "/rampart/checkpoints/shop/0000000003");
  EXPECT_EQ(audit(1), "/rampart/audit/0000000001");
  EXPECT_EQ(token("ci"), "/rampart/tokens/ci");
  EXPECT_EQ(audit_counter(), "/rampart/counters/audit");
  EXPECT_EQ(checkpoint_counter("shop"), "/rampart/counters/checkpoints/shop");
  EXPECT_EQ(versions_prefix("shop"), "/rampart/versions/shop/");
  EXPECT_EQ(deployments_prefix("shop"), "/rampart/deployments/shop/");
  EXPECT_EQ(checkpoints_prefix("shop"), "/rampart/checkpoints/shop/");
  EXPECT_EQ(rollout("shop", 3), "/rampart/rollouts/shop/0000000003");
  EXPECT_EQ(rollout_event("shop", 3, 12), "/rampart/rollout_events/shop/0000000003/0000000012");
  EXPECT_EQ(rollout_events_prefix("shop", 3), "/rampart/rollout_events/shop/0000000003/");
  EXPECT_EQ(rollout_counter("shop"), "/rampart/counters/rollouts/shop");
  EXPECT_EQ(service_rollout_events_prefix("shop"), "/rampart/rollout_events/shop/");
  EXPECT_EQ(webhook_delivery("shop", 3, 12, 1),
            "/rampart/webhook_deliveries/shop/0000000003/0000000012/1");
  EXPECT_EQ(webhook_deliveries_prefix("shop", 3), "/rampart/webhook_deliveries/shop/0000000003/");
  EXPECT_EQ(webhook_cursor("shop"), "/rampart/webhook_cursors/shop");
  // The notifier's keys are not records of the model: parse() does not take them for one.
  EXPECT_FALSE(parse(webhook_delivery("shop", 3, 12, 1)));
  EXPECT_FALSE(parse(webhook_cursor("shop")));
}

TEST(Keys, EveryKeyLivesUnderTheRoot) {
  for (const auto& c : key_cases()) {
    EXPECT_TRUE(c.key.starts_with(kRoot)) << c.key;
  }
}

TEST(Keys, ParseInvertsTheBuilders) {
  for (const auto& c : key_cases()) {
    auto parsed = parse(c.key);
    ASSERT_TRUE(parsed) << c.key;
    EXPECT_EQ(*parsed, c.parsed) << c.key;
  }
}

TEST(Keys, ParseRefusesForeignAndMalformedKeys) {
  for (const char* key : {
           "",
           "/rampart/",
           "/rampart/services/",
           "/rampart/services/shop/extra",
           "/rampart/versions/shop",
           "/rampart/versions/shop/",
           "/rampart/versions//v1",
           "/rampart/versions/shop/v1/x",
           "/rampart/deployments/shop/42",
           "/rampart/deployments/shop/0000000000",
           "/rampart/deployments/shop/00000000042",
           "/rampart/deployments/shop/00000000x2",
           "/rampart/deployments/shop",
           "/rampart/audit/abc",
           "/rampart/audit/0000000001/",
           "/rampart/tokens/",
           "/rampart/counters/audit2",
           "/rampart/counters/checkpoints/",
           "/rampart/rollouts/shop",
           "/rampart/rollouts/shop/3",
           "/rampart/rollout_events/shop/0000000003",
           "/rampart/rollout_events/shop/0000000003/",
           "/rampart/rollout_events/shop/0000000003/12",
           "/rampart/rollout_events//0000000003/0000000012",
           "/rampart/rollout_events/shop/0000000003/0000000012/x",
           "/other/services/shop",
       }) {
    EXPECT_FALSE(parse(key)) << key;
  }
}

TEST(Keys, PrefixesOfOneServiceDoNotMatchAnother) {
  EXPECT_FALSE(version("shop2", "v1").starts_with(versions_prefix("shop")));
  EXPECT_FALSE(deployment("shop2", 1).starts_with(deployments_prefix("shop")));
  EXPECT_FALSE(checkpoint("shop2", 1).starts_with(checkpoints_prefix("shop")));
}

TEST(Keys, IdKeysSortInIdOrder) {
  std::vector<std::int64_t> ids = {1, 2, 9, 10, 11, 99, 100, 101, 999, 1000, 123456789, kMaxId};
  std::vector<std::string> built;
  for (auto id : ids) {
    built.push_back(deployment("shop", id));
  }
  EXPECT_TRUE(std::is_sorted(built.begin(), built.end()));
}

TEST(Keys, FormatAndParseId) {
  EXPECT_EQ(format_id(1), "0000000001");
  EXPECT_EQ(format_id(kMaxId), "9999999999");
  EXPECT_EQ(parse_id("0000000001"), 1);
  EXPECT_EQ(parse_id("9999999999"), kMaxId);
  EXPECT_EQ(parse_id("0000000000"), std::nullopt);
  EXPECT_EQ(parse_id("000000001"), std::nullopt);
  EXPECT_EQ(parse_id("+000000001"), std::nullopt);
}

struct RangeCase {
  std::int64_t first;
  std::int64_t last;
  std::vector<std::string> prefixes;  // without the base
};

TEST(IdRangePrefixes, Table) {
  const std::vector<RangeCase> cases = {
      {1, 1, {"0000000001"}},
      {5, 4, {}},
      {1, 3, {"0000000001", "0000000002", "0000000003"}},
      {10, 19, {"000000001"}},
      {8, 21, {"0000000008", "0000000009", "000000001", "0000000020", "0000000021"}},
      {100, 299, {"00000001", "00000002"}},
      {1000000000, 9999999999, {"1", "2", "3", "4", "5", "6", "7", "8", "9"}},
      {9999999990, 9999999999, {"999999999"}},
  };
  for (const auto& c : cases) {
    std::vector<std::string> expected;
    for (const auto& p : c.prefixes) {
      expected.push_back("/b/" + p);
    }
    EXPECT_EQ(id_range_prefixes("/b/", c.first, c.last), expected)
        << "[" << c.first << ", " << c.last << "]";
  }
  EXPECT_EQ(id_range_prefixes("", 1, 100).size(), 19u);  // 9 ones, 9 tens, 100
}

// Every id of a window matches exactly one prefix when it lies in [first, last], none otherwise;
// the prefixes come in id order and stay few.
TEST(IdRangePrefixes, CoverExactlyTheInterval) {
  std::mt19937_64 rng(7);
  const std::int64_t window = 3000;
  for (int round = 0; round < 100; ++round) {
    const std::int64_t base = round % 2 == 0 ? 1 : 9'999'990'000;
    std::int64_t first = base + static_cast<std::int64_t>(rng() % window);
    std::int64_t last = base + static_cast<std::int64_t>(rng() % window);
    if (first > last) {
      std::swap(first, last);
    }
    const auto prefixes = id_range_prefixes("", first, last);
    EXPECT_TRUE(std::is_sorted(prefixes.begin(), prefixes.end()));
    EXPECT_LE(prefixes.size(), 18u * kIdDigits);
    const std::int64_t hi = std::min(base + window + 5, kMaxId);
    for (std::int64_t id = std::max<std::int64_t>(base - 5, 1); id <= hi; ++id) {
      const std::string key = format_id(id);
      const auto matches = std::count_if(prefixes.begin(), prefixes.end(),
                                         [&](const auto& p) { return key.starts_with(p); });
      ASSERT_EQ(matches, (id >= first && id <= last) ? 1 : 0)
          << "id " << id << " in [" << first << ", " << last << "]";
    }
  }
}

}  // namespace
}  // namespace rampart::model::keys
