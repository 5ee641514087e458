#include "gateway/route_table.hpp"

#include "config/config.hpp"
#include "gateway/picker.hpp"
#include "metrics/registry.hpp"

#include <gtest/gtest.h>

namespace rampart::gateway {
namespace {

std::shared_ptr<const RouteTable> build(std::string_view toml) {
  auto cfg = config::parse_config(toml, "test.toml");
  EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().message);
  static metrics::Registry registry(2);
  static UpstreamIds ids;
  return build_route_table(*cfg, 1, registry, ids, {});
}

constexpr std::string_view kConfig = R"(
[[service]]
name = "shop"
routes = ["shop.example.com/", "/shop/"]
[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9001", "http://127.0.0.1:9011"]
[[service.version]]
name = "v2"
upstreams = ["http://127.0.0.1:9002"]
[service.split]
v1 = 90
v2 = 10

[[service]]
name = "api"
routes = ["/", "/shop/api/", "api.example.com/"]
[[service.version]]
name = "a1"
upstreams = ["http://127.0.0.1:9001"]
)";

struct MatchCase {
  std::string_view host;
  std::string_view path;
  std::string_view service;  // empty: no match
};

TEST(RouteTable, MatchesMostSpecificRoute) {
  auto t = build(kConfig);
  const MatchCase cases[] = {
      {"shop.example.com", "/", "shop"},
      {"SHOP.Example.com:8080", "/anything", "shop"},
      {"other.example.com", "/shop/cart", "shop"},
      {"other.example.com", "/shop", "api"},         // "/shop/" does not match "/shop"
      {"other.example.com", "/shop/api/v1", "api"},  // longer prefix wins
      {"shop.example.com", "/shop/api/x", "api"},
      {"api.example.com", "/shop/x", "shop"},  // longer path prefix beats the host route
      {"api.example.com", "/x", "api"},
      {"shop.example.com.evil", "/x", "api"},  // host must match whole, not as a prefix
      {"", "/x", "api"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.host) + std::string(c.path));
    const ServiceRoute* s = t->match(c.host, c.path);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->name, c.service);
  }
}

TEST(RouteTable, NoMatchWithoutCatchAll) {
  auto t = build(R"(
[[service]]
name = "shop"
routes = ["shop.example.com/"]
[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9001"]
)");
  EXPECT_EQ(t->match("other.example.com", "/"), nullptr);
  EXPECT_NE(t->match("shop.example.com", "/"), nullptr);
}

TEST(RouteTable, CompilesSplitAndUpstreams) {
  auto t = build(kConfig);
  const ServiceRoute* shop = t->match("shop.example.com", "/");
  ASSERT_NE(shop, nullptr);
  ASSERT_EQ(shop->versions.size(), 2u);
  EXPECT_EQ(shop->versions[0].name, "v1");
  EXPECT_EQ(shop->versions[0].basis_points, 9000u);
  EXPECT_EQ(shop->versions[1].bucket_begin, 0u);
  EXPECT_EQ(shop->versions[1].bucket_end, 1000u);
  EXPECT_EQ(shop->versions[0].bucket_begin, 1000u);
  EXPECT_EQ(shop->versions[0].bucket_end, 10000u);
  ASSERT_EQ(shop->versions[0].upstreams.size(), 2u);
  EXPECT_EQ(shop->versions[0].upstreams[0].endpoint.port(), 9001);
  // The same endpoint gets the same id in every version and service.
  const ServiceRoute* api = t->match("x", "/");
  EXPECT_EQ(api->versions[0].upstreams[0].id, shop->versions[0].upstreams[0].id);
  EXPECT_NE(shop->versions[0].upstreams[1].id, shop->versions[0].upstreams[0].id);
  EXPECT_EQ(shop->salt_seed, salt_seed("shop"));
  ASSERT_NE(shop->versions[0].stats, nullptr);
}

}  // namespace
}  // namespace rampart::gateway
