#include "gateway/picker.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>
#include <boost/json/parse.hpp>
#include <boost/json/value_to.hpp>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace rampart::gateway {
namespace {

namespace json = boost::json;

ServiceRoute make_service(const json::object& versions, std::string_view sticky) {
  ServiceRoute s;
  s.name = "shop";
  s.salt_seed = salt_seed("shop");
  if (sticky == "none") {
    s.sticky.kind = config::StickyKind::kNone;
  } else if (sticky.starts_with("header:")) {
    s.sticky.kind = config::StickyKind::kHeader;
  } else {
    s.sticky.kind = config::StickyKind::kIp;
  }
  for (const auto& kv : versions) {
    VersionRoute v;
    v.name = std::string(kv.key());
    v.basis_points = static_cast<uint32_t>(std::lround(kv.value().to_number<double>() * 100));
    s.versions.push_back(std::move(v));
  }
  assign_buckets(s.versions);
  return s;
}

TEST(Picker, CaseFile) {
  std::ifstream in(std::string(RAMPART_SOURCE_DIR) + "/tests/unit/gateway/pick_cases.json");
  ASSERT_TRUE(in) << "missing pick_cases.json";
  std::stringstream text;
  text << in.rdbuf();
  auto doc = json::parse(text.str());
  const auto& cases = doc.at("cases").as_array();
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    const auto& o = c.as_object();
    std::string name = json::value_to<std::string>(o.at("name"));
    SCOPED_TRACE(name);
    ServiceRoute s =
        make_service(o.at("versions").as_object(), json::value_to<std::string>(o.at("sticky")));
    PickInput in;
    std::string override_text, key_text;
    if (o.contains("override")) {
      override_text = json::value_to<std::string>(o.at("override"));
      in.override_version = override_text;
    }
    if (o.contains("key")) {
      key_text = json::value_to<std::string>(o.at("key"));
      in.sticky_key = key_text;
    }
    if (o.contains("random")) {
      in.random_bucket = static_cast<uint32_t>(o.at("random").to_number<int64_t>());
    }
    Pick p = pick_version(s, in);
    if (o.contains("expect_bucket")) {
      ASSERT_FALSE(p.error);
      const VersionRoute* want = version_for_bucket(s, sticky_bucket(s.salt_seed, key_text));
      EXPECT_EQ(p.version, want);
      // The key's hash comes with the pick: the gateway bounds each key's errors by it.
      EXPECT_EQ(p.sticky_hash, sticky_hash(s.salt_seed, key_text));
      continue;
    }
    if (!in.sticky_key || in.override_version) {
      EXPECT_EQ(p.sticky_hash, 0u);  // no key chose the version
    }
    const auto& expect = o.at("expect");
    if (expect.is_string()) {
      ASSERT_FALSE(p.error);
      ASSERT_NE(p.version, nullptr);
      EXPECT_EQ(p.version->name, expect.as_string());
    } else {
      ASSERT_TRUE(p.error.has_value());
      EXPECT_EQ(*p.error, PickError::kVersionNotDeployed);
    }
  }
}

TEST(Picker, HashIsDocumentedXxh64) {
  // XXH64 of the empty input with seed 0: the reference value from the xxHash specification.
  EXPECT_EQ(salt_seed(""), 0xEF46DB3751D8E999ULL);
  // bucket = XXH64(key, seed = XXH64(salt, 0)) mod 10000.
  uint64_t seed = XXH64("shop", 4, 0);
  EXPECT_EQ(salt_seed("shop"), seed);
  EXPECT_EQ(sticky_bucket(seed, "127.0.0.1"), XXH64("127.0.0.1", 9, seed) % 10000);
  EXPECT_EQ(sticky_hash(seed, "127.0.0.1"), XXH64("127.0.0.1", 9, seed));
  // Salting changes the assignment.
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    std::string key = "user-" + std::to_string(i);
    differ += sticky_bucket(salt_seed("a"), key) != sticky_bucket(salt_seed("b"), key);
  }
  EXPECT_GT(differ, 90);
}

TEST(Picker, StickinessIsMonotonicAsTheCanaryGrows) {
  const uint32_t weights[] = {100, 500, 1000, 2500, 5000, 7500, 10000};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string key = std::to_string(rng());
    bool on_canary = false;
    for (uint32_t w : weights) {
      ServiceRoute s;
      s.salt_seed = salt_seed("shop");
      s.versions.resize(2);
      s.versions[0].name = "v1";
      s.versions[0].basis_points = 10000 - w;
      s.versions[1].name = "v2";
      s.versions[1].basis_points = w;
      assign_buckets(s.versions);
      PickInput in;
      in.sticky_key = key;
      Pick p = pick_version(s, in);
      ASSERT_FALSE(p.error);
      bool now = p.version->name == "v2";
      ASSERT_FALSE(on_canary && !now) << "key " << key << " left the canary at weight " << w;
      on_canary = now;
    }
    ASSERT_TRUE(on_canary);
  }
}

TEST(Picker, StickyBucketsAreUniform) {
  std::vector<int> per_decile(10, 0);
  const int n = 100000;
  uint64_t seed = salt_seed("shop");
  for (int i = 0; i < n; ++i) {
    per_decile[sticky_bucket(seed,
                             "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)) /
               1000]++;
  }
  for (int c : per_decile) {
    EXPECT_NEAR(c, n / 10, n / 100);  // within 10% of the expected count per decile
  }
}

TEST(Picker, Cookies) {
  EXPECT_EQ(find_cookie("sid=abc; theme=dark", "sid"), "abc");
  EXPECT_EQ(find_cookie("theme=dark;sid=\"q\"", "sid"), "q");
  EXPECT_EQ(find_cookie("sidx=1; xsid=2", "sid"), std::nullopt);
  EXPECT_EQ(find_cookie("", "sid"), std::nullopt);
  EXPECT_EQ(find_cookie("sid=", "sid"), "");
}

}  // namespace
}  // namespace rampart::gateway
