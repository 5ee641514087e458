// Config file -> records (the seed), and a snapshot of records -> config (for the gateway).

#include "model/seed.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace rampart::model {
namespace {

constexpr std::string_view kConfig = R"(
[server]
listen = "127.0.0.1:18080"
workers = 2

[limits]
max_body_bytes = 1024

[[service]]
name = "shop"
routes = ["shop.example.com/", "/shop/"]
sticky = "cookie:sid"
salt = "pepper"
balance = "round_robin"
eject_after = 4
eject_for_ms = 700

[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9001", "http://LOCALHOST:9011/"]

[[service.version]]
name = "v2"
upstreams = ["http://[::1]:9002"]

[[service.version]]
name = "v3"
upstreams = ["http://127.0.0.1:9003"]

[service.split]
v2 = 10
v1 = 90

[[service]]
name = "api"
routes = ["api.example.com/v2/"]

[[service.version]]
name = "stable"
upstreams = ["http://127.0.0.1:9100"]
)";

config::Config parsed() {
  auto cfg = config::parse_config(kConfig, "seed.toml");
  EXPECT_TRUE(cfg) << cfg.error().message;
  return cfg ? *cfg : config::Config{};
}

TEST(Seed, ConvertsEveryServiceInFileOrder) {
  const auto seeds = seed_from_config(parsed());
  ASSERT_EQ(seeds.size(), 2u);

  const SeedService& shop = seeds[0];
  EXPECT_EQ(shop.service, (Service{.name = "shop",
                                   .routes = {{"shop.example.com", "/"}, {"", "/shop/"}},
                                   .sticky = {StickyKind::kCookie, "sid"},
                                   .salt = "pepper",
                                   .balance = Balance::kRoundRobin,
                                   .eject_after = 4,
                                   .eject_for_ms = 700}));
  ASSERT_EQ(shop.versions.size(), 3u);
  EXPECT_EQ(shop.versions[0].service, "shop");
  EXPECT_EQ(shop.versions[0].name, "v1");
  // Normalized by the config parser: lower-cased host, explicit port, no trailing slash.
  EXPECT_EQ(shop.versions[0].upstreams,
            (std::vector<std::string>{"http://127.0.0.1:9001", "http://localhost:9011"}));
  EXPECT_EQ(shop.versions[1].upstreams, (std::vector<std::string>{"http://[::1]:9002"}));
  for (const auto& v : shop.versions) {
    EXPECT_EQ(v.ordinal, 0) << "apply assigns ordinals";
    EXPECT_EQ(v.health_path, "/health");
  }
  // Every version, in declaration order, 0 for the one the split does not name.
  EXPECT_EQ(shop.split, (std::vector<SplitEntry>{{"v1", 9000}, {"v2", 1000}, {"v3", 0}}));

  const SeedService& api = seeds[1];
  EXPECT_EQ(api.service.name, "api");
  EXPECT_EQ(api.service.salt, "api");  // the default: the name
  EXPECT_EQ(api.service.sticky, (Sticky{StickyKind::kIp, ""}));
  EXPECT_EQ(api.service.balance, Balance::kLeastRequest);
  EXPECT_EQ(api.service.routes, (std::vector<Route>{{"api.example.com", "/v2/"}}));
  EXPECT_EQ(api.split, (std::vector<SplitEntry>{{"stable", 10000}}));
}

// What apply would store, as a snapshot: versions with ordinals, one deployment each.
Snapshot snapshot_of(const std::vector<SeedService>& seeds) {
  Snapshot snapshot;
  snapshot.revision = 9;
  for (const auto& seed : seeds) {
    ServiceState state;
    state.service = seed.service;
    state.versions = seed.versions;
    for (std::size_t i = 0; i < state.versions.size(); ++i) {
      state.versions[i].ordinal = static_cast<std::int64_t>(i) + 1;
    }
    Deployment d;
    d.service = seed.service.name;
    d.id = 1;
    d.split = seed.split;
    d.cause = "apply";
    state.latest = d;
    snapshot.services.push_back(std::move(state));
  }
  return snapshot;
}

TEST(ToConfig, RoundTripsTheSeed) {
  const config::Config original = parsed();
  auto served = to_config(snapshot_of(seed_from_config(original)), original);
  EXPECT_TRUE(served.problems.empty());
  const config::Config* back = &served.config;
  EXPECT_EQ(back->server.listen.port, 18080);
  EXPECT_EQ(back->server.workers, 2u);
  EXPECT_EQ(back->limits.max_body_bytes, 1024u);
  ASSERT_EQ(back->services.size(), original.services.size());
  for (std::size_t i = 0; i < original.services.size(); ++i) {
    const auto& a = original.services[i];
    const auto& b = back->services[i];
    EXPECT_EQ(b.name, a.name);
    ASSERT_EQ(b.routes.size(), a.routes.size());
    for (std::size_t r = 0; r < a.routes.size(); ++r) {
      EXPECT_EQ(b.routes[r].host, a.routes[r].host);
      EXPECT_EQ(b.routes[r].path_prefix, a.routes[r].path_prefix);
    }
    EXPECT_EQ(b.sticky.kind, a.sticky.kind);
    EXPECT_EQ(b.sticky.name, a.sticky.name);
    EXPECT_EQ(b.salt, a.salt);
    EXPECT_EQ(b.balance, a.balance);
    EXPECT_EQ(b.eject_after, a.eject_after);
    EXPECT_EQ(b.eject_for_ms, a.eject_for_ms);
    ASSERT_EQ(b.versions.size(), a.versions.size());
    for (std::size_t v = 0; v < a.versions.size(); ++v) {
      EXPECT_EQ(b.versions[v].name, a.versions[v].name);
      ASSERT_EQ(b.versions[v].upstreams.size(), a.versions[v].upstreams.size());
      for (std::size_t u = 0; u < a.versions[v].upstreams.size(); ++u) {
        EXPECT_EQ(b.versions[v].upstreams[u].url, a.versions[v].upstreams[u].url);
        EXPECT_EQ(b.versions[v].upstreams[u].host, a.versions[v].upstreams[u].host);
        EXPECT_EQ(b.versions[v].upstreams[u].port, a.versions[v].upstreams[u].port);
      }
    }
    ASSERT_EQ(b.split.size(), a.split.size());
    for (std::size_t s = 0; s < a.split.size(); ++s) {
      EXPECT_EQ(b.split[s].version, a.split[s].version);
      EXPECT_EQ(b.split[s].basis_points, a.split[s].basis_points);
    }
  }
}

TEST(ToConfig, ServesExactlyTheVersionsOfTheLatestSplit) {
  auto snapshot = snapshot_of(seed_from_config(parsed()));
  // A split that leaves v3 out and orders by ordinal.
  snapshot.services[0].latest->split = {{"v1", 5000}, {"v2", 5000}};
  auto served = to_config(snapshot, parsed());
  ASSERT_TRUE(served.problems.empty());
  const auto& shop = served.config.services[0];
  ASSERT_EQ(shop.versions.size(), 2u);
  EXPECT_EQ(shop.versions[0].name, "v1");
  EXPECT_EQ(shop.versions[1].name, "v2");
  EXPECT_EQ(shop.split[1].basis_points, 5000u);
}

TEST(ToConfig, LeavesOutServicesNeverDeployed) {
  auto snapshot = snapshot_of(seed_from_config(parsed()));
  snapshot.services[1].latest.reset();
  auto served = to_config(snapshot, parsed());
  EXPECT_TRUE(served.problems.empty());
  ASSERT_EQ(served.config.services.size(), 1u);
  EXPECT_EQ(served.config.services[0].name, "shop");
}

// Hostile stored states: each breaks one invariant of one service ("shop"). That service is
// left out and named with the reason; the other ("api") is served as stored.
TEST(ToConfig, ABrokenServiceIsLeftOutAndTheOthersServed) {
  struct Case {
    std::string name;
    std::function<void(Snapshot&)> breakage;
    std::string problem;  // the start of the reason
  };
  auto shop = [](Snapshot& s) -> ServiceState& { return s.services[0]; };
  const std::vector<Case> cases = {
      {"split names a missing version",
       [&](Snapshot& s) { shop(s).latest->split[0].version = "v9"; },
       "deployment 1: split: names version \"v9\", which service \"shop\" does not have"},
      {"split names a version twice",
       [&](Snapshot& s) { shop(s).latest->split[1].version = shop(s).latest->split[0].version; },
       "deployment 1: split: names version \"v1\" twice"},
      {"split sums to less than 100%",
       [&](Snapshot& s) { shop(s).latest->split[0].basis_points -= 1; },
       "deployment 1: split: sums to 9999 bp"},
      {"a share over 100%",
       [&](Snapshot& s) { shop(s).latest->split[0].basis_points = 4'000'000'000u; },
       "deployment 1: split: gives version \"v1\""},
      {"empty split", [&](Snapshot& s) { shop(s).latest->split.clear(); },
       "deployment 1: split: is empty"},
      {"version without upstreams", [&](Snapshot& s) { shop(s).versions[0].upstreams.clear(); },
       "version \"v1\" has no upstreams"},
      {"unparsable upstream", [&](Snapshot& s) { shop(s).versions[1].upstreams = {"https://x:1"}; },
       "version \"v2\": "},
      {"upstream with a port out of range",
       [&](Snapshot& s) { shop(s).versions[1].upstreams = {"http://127.0.0.1:99999"}; },
       "version \"v2\": "},
      {"no route", [&](Snapshot& s) { shop(s).service.routes.clear(); }, "it has no route"},
      {"route that is not a path",
       [&](Snapshot& s) { shop(s).service.routes[0].path_prefix = "x"; }, "route \""},
      {"sticky header without a name",
       [&](Snapshot& s) {
         shop(s).service.sticky = Sticky{StickyKind::kHeader, ""};
       },
       "its sticky header or cookie has no name"},
  };
  for (const auto& c : cases) {
    auto snapshot = snapshot_of(seed_from_config(parsed()));
    ASSERT_EQ(snapshot.services[0].service.name, "shop");
    c.breakage(snapshot);
    auto served = to_config(snapshot, parsed());
    ASSERT_EQ(served.problems.size(), 1u) << c.name;
    EXPECT_EQ(served.problems[0].service, "shop") << c.name;
    EXPECT_TRUE(served.problems[0].problem.starts_with(c.problem))
        << c.name << ": " << served.problems[0].problem;
    ASSERT_EQ(served.config.services.size(), 1u) << c.name;
    EXPECT_EQ(served.config.services[0].name, "api") << c.name;
  }
}

TEST(ToConfig, TheSnapshotsOwnProblemsComeFirstInServiceOrder) {
  auto snapshot = snapshot_of(seed_from_config(parsed()));
  snapshot.problems.push_back(ServiceProblem{"zeta", "its service record is missing"});
  snapshot.services[0].versions[0].upstreams.clear();
  auto served = to_config(snapshot, parsed());
  ASSERT_EQ(served.problems.size(), 2u);
  EXPECT_EQ(served.problems[0].service, "shop");
  EXPECT_EQ(served.problems[1].service, "zeta");
  EXPECT_EQ(served.config.services.size(), 1u);
}

}  // namespace
}  // namespace rampart::model
