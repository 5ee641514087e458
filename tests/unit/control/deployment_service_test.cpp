// DeploymentService against store::MemoryStore: apply, set_split, rollback, checkpoints, the
// audit log written with every mutation, compare-and-swap under races, reads and analytics.

#include "control/deployment_service.hpp"

#include "control_test_support.hpp"
#include "model/codec.hpp"
#include "model/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

namespace rampart::control {
namespace {

using model::SplitEntry;
using testing::config_text;
using testing::FakeClock;
using testing::HookStore;
using testing::keys_written_at;
using testing::parse;
namespace keys = model::keys;

using Split = std::vector<SplitEntry>;

class DeploymentServiceTest : public ::testing::Test {
 protected:
  // Applies the default config; deployment 1 of shop is v1 90 / v2 10.
  void apply_default() {
    auto r = service_.apply(parse(config_text()), "alice", "first");
    ASSERT_TRUE(r) << r.error().message;
  }

  model::Deployment split(const Split& s, std::string_view actor = "bob") {
    auto d = service_.set_split("shop", s, actor, "split");
    EXPECT_TRUE(d) << d.error().message;
    return d ? d->deployment : model::Deployment{};
  }

  std::vector<model::AuditEvent> audit_log() {
    auto events = service_.audit();
    EXPECT_TRUE(events) << events.error().message;
    return events ? *events : std::vector<model::AuditEvent>{};
  }

  std::vector<std::int64_t> ids(std::string_view service) {
    auto list = service_.deployments(service);
    EXPECT_TRUE(list) << list.error().message;
    std::vector<std::int64_t> out;
    for (const auto& d : list ? *list : std::vector<model::Deployment>{}) {
      out.push_back(d.id);
    }
    return out;
  }

  // The mutation committed at `revision` wrote exactly one audit event, at that revision, and
  // the audit counter with it; `changed` was written at that same revision.
  void expect_one_audit_event_at(std::int64_t revision, const std::string& changed) {
    const auto written = keys_written_at(store_, revision);
    const auto audits = std::count_if(written.begin(), written.end(), [](const std::string& k) {
      return k.starts_with(keys::audit_prefix());
    });
    EXPECT_EQ(audits, 1) << "revision " << revision;
    EXPECT_NE(std::find(written.begin(), written.end(), keys::audit_counter()), written.end());
    EXPECT_NE(std::find(written.begin(), written.end(), changed), written.end())
        << changed << " at revision " << revision;
    auto kv = store_.get(changed);
    ASSERT_TRUE(kv && *kv);
    EXPECT_EQ((*kv)->mod_revision, revision);
  }

  store::MemoryStore store_;
  FakeClock clock_;
  DeploymentService service_{store_, clock_.as_clock()};
};

// --- apply ------------------------------------------------------------------------------------

TEST_F(DeploymentServiceTest, ApplyCreatesServicesVersionsAndDeploymentOne) {
  auto r = service_.apply(parse(config_text()), "alice", "first apply");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->revision, store_.revision());
  ASSERT_EQ(r->deployments.size(), 2u);
  EXPECT_EQ(r->deployments[0].service, "shop");
  EXPECT_EQ(r->deployments[1].service, "api");

  auto services = service_.services();
  ASSERT_TRUE(services);
  ASSERT_EQ(services->size(), 2u);
  EXPECT_EQ((*services)[0].name, "api");
  EXPECT_EQ((*services)[1].name, "shop");
  EXPECT_EQ((*services)[1].routes,
            (std::vector<model::Route>{{"shop.example.com", "/"}, {"", "/shop/"}}));

  auto versions = service_.versions("shop");
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].name, "v1");
  EXPECT_EQ((*versions)[0].ordinal, 1);
  EXPECT_EQ((*versions)[0].upstreams, std::vector<std::string>{"http://127.0.0.1:9001"});
  EXPECT_EQ((*versions)[0].created_at, clock_.now());
  EXPECT_EQ((*versions)[1].name, "v2");
  EXPECT_EQ((*versions)[1].ordinal, 2);

  auto latest = service_.latest("shop");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->id, 1);
  EXPECT_EQ(latest->split, (Split{{"v1", 9000}, {"v2", 1000}}));
  EXPECT_EQ(latest->cause, "apply");
  EXPECT_EQ(latest->author, "alice");
  EXPECT_EQ(latest->message, "first apply");
  EXPECT_EQ(latest->created_at, clock_.now());
  EXPECT_EQ(latest->revision, r->revision);
  EXPECT_EQ(*latest, r->deployments[0]);

  const auto log = audit_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].seq, 1);
  EXPECT_EQ(log[0].actor, "alice");
  EXPECT_EQ(log[0].action, "apply");
  EXPECT_EQ(log[0].target, "services:shop,api");
  EXPECT_EQ(log[0].after.at("deployments").as_array().size(), 2u);
  EXPECT_EQ(log[0].after.at("versions").as_array().size(), 3u);
  EXPECT_TRUE(log[0].before.at("services").as_array().empty());
  expect_one_audit_event_at(r->revision, keys::deployment("shop", 1));
}

TEST_F(DeploymentServiceTest, ReapplyingTheSameConfigWritesNothing) {
  apply_default();
  const std::int64_t before = store_.revision();
  clock_.advance(1000);
  auto again = service_.apply(parse(config_text()), "carol", "again");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->changed);
  EXPECT_TRUE(again->deployments.empty());
  EXPECT_EQ(again->revision, before);
  EXPECT_EQ(store_.revision(), before);
  EXPECT_EQ(audit_log().size(), 1u);
  EXPECT_EQ(ids("shop"), std::vector<std::int64_t>{1});
}

TEST_F(DeploymentServiceTest, ApplyWithAChangedSplitCreatesDeploymentTwo) {
  apply_default();
  auto r = service_.apply(parse(config_text("v1 = 50\nv2 = 50")), "alice", "half");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->deployments.size(), 1u);  // api is unchanged
  EXPECT_EQ(r->deployments[0].id, 2);
  EXPECT_EQ(r->deployments[0].split, (Split{{"v1", 5000}, {"v2", 5000}}));
  EXPECT_EQ(ids("shop"), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(ids("api"), std::vector<std::int64_t>{1});
  const auto log = audit_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].target, "services:shop");
  EXPECT_EQ(log[1].before.at("deployments").as_array()[0].at("id").as_int64(), 1);
  EXPECT_EQ(log[1].after.at("deployments").as_array()[0].at("id").as_int64(), 2);
  expect_one_audit_event_at(r->revision, keys::latest("shop"));
}

TEST_F(DeploymentServiceTest, ApplyRestoresTheConfigSplitAfterAManualSplit) {
  apply_default();
  split({{"v1", 10000}, {"v2", 0}});
  auto r = service_.apply(parse(config_text()), "alice", "");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->deployments.size(), 1u);
  EXPECT_EQ(r->deployments[0].id, 3);
  EXPECT_EQ(r->deployments[0].cause, "apply");
  EXPECT_EQ(r->deployments[0].split, (Split{{"v1", 9000}, {"v2", 1000}}));
}

TEST_F(DeploymentServiceTest, ApplyUpdatesUpstreamsWithoutANewDeployment) {
  apply_default();
  const std::int64_t created = clock_.now();
  clock_.advance(5000);
  auto r = service_.apply(parse(config_text("v1 = 90\nv2 = 10", "http://127.0.0.1:9555")), "alice",
                          "move v1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(r->deployments.empty());
  auto versions = service_.versions("shop");
  ASSERT_TRUE(versions);
  EXPECT_EQ((*versions)[0].upstreams, std::vector<std::string>{"http://127.0.0.1:9555"});
  EXPECT_EQ((*versions)[0].ordinal, 1);
  EXPECT_EQ((*versions)[0].created_at, created);
  EXPECT_EQ(ids("shop"), std::vector<std::int64_t>{1});
  const auto log = audit_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].before.at("versions").as_array()[0].at("upstreams").as_array()[0],
            "http://127.0.0.1:9001");
  EXPECT_EQ(log[1].after.at("versions").as_array()[0].at("upstreams").as_array()[0],
            "http://127.0.0.1:9555");
  expect_one_audit_event_at(r->revision, keys::version("shop", "v1"));
}

TEST_F(DeploymentServiceTest, ApplyStoresTheRolloutPolicyWithTheServiceAudited) {
  apply_default();
  std::string text = config_text();
  // [service.rollout] of shop, before the second [[service]] begins.
  text.insert(text.find("[[service]]\nname = \"api\""),
              "[service.rollout]\nstrategy = \"linear25-1m\"\n\n");
  auto r = service_.apply(parse(text), "alice", "ramp in quarters");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(r->deployments.empty());
  auto shop = service_.service("shop");
  ASSERT_TRUE(shop);
  EXPECT_EQ(shop->rollout.strategy_name, "linear25-1m");
  EXPECT_EQ(rollout::describe(shop->rollout.strategy.steps),
            "25% for 1m, 50% for 1m, 75% for 1m, 100%");
  const auto log = audit_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].actor, "alice");
  EXPECT_EQ(log[1].after.at("services").as_array()[0].at("rollout").at("strategy"), "linear25-1m");
  // The same file again changes nothing.
  auto again = service_.apply(parse(text), "alice", "");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
}

TEST_F(DeploymentServiceTest, NewVersionsGetTheNextOrdinalAndSplitsFollowOrdinals) {
  apply_default();
  // v3 is declared first in the file, but it is the newest version.
  const std::string text = R"(
[[service]]
name = "shop"
routes = ["shop.example.com/", "/shop/"]
[[service.version]]
name = "v3"
upstreams = ["http://127.0.0.1:9003"]
[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9001"]
[[service.version]]
name = "v2"
upstreams = ["http://127.0.0.1:9002"]
[service.split]
v3 = 5
v1 = 95
)";
  auto r = service_.apply(parse(text), "alice", "canary v3");
  ASSERT_TRUE(r) << r.error().message;
  auto versions = service_.versions("shop");
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ((*versions)[2].name, "v3");
  EXPECT_EQ((*versions)[2].ordinal, 3);
  ASSERT_EQ(r->deployments.size(), 1u);
  EXPECT_EQ(r->deployments[0].split, (Split{{"v1", 9500}, {"v2", 0}, {"v3", 500}}));
  // set_split stores the same order whatever order it is given, every version named.
  auto d = split({{"v3", 1000}, {"v1", 9000}});
  EXPECT_EQ(d.split, (Split{{"v1", 9000}, {"v2", 0}, {"v3", 1000}}));
}

TEST_F(DeploymentServiceTest, ApplyRefusesARouteClaimedByAStoredService) {
  apply_default();
  const std::int64_t before = store_.revision();
  const std::string text = R"(
[[service]]
name = "other"
routes = ["/api/"]
[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9200"]
)";
  auto r = service_.apply(parse(text), "alice", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message,
            "routes: route \"/api/\" of service \"other\" is already claimed by service \"api\"; "
            "a host and prefix belong to one service only");
  EXPECT_EQ(store_.revision(), before);
}

TEST_F(DeploymentServiceTest, ApplyRefusesAChangeTooLargeForOneTransaction) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "[[service]]\nname = \"s" + std::to_string(i) + "\"\nroutes = [\"/s" +
            std::to_string(i) +
            "/\"]\n[[service.version]]\nname = \"v1\"\nupstreams = "
            "[\"http://127.0.0.1:9001\"]\n";
  }
  auto r = service_.apply(parse(text), "alice", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  // 40 services x (service, version, deployment, latest) + audit event + counter.
  EXPECT_TRUE(r.error().message.starts_with("this change writes 162 keys")) << r.error().message;
  EXPECT_EQ(store_.revision(), 0);
}

TEST_F(DeploymentServiceTest, ApplyValidatesItsInput) {
  config::Config bad = parse(config_text());
  bad.services[0].split[0].basis_points = 1;
  auto r = service_.apply(bad, "alice", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(r.error().message.starts_with("split: sums to 1001 bp")) << r.error().message;
  auto actor = service_.apply(parse(config_text()), "", "");
  ASSERT_FALSE(actor);
  EXPECT_TRUE(actor.error().message.starts_with("actor: ")) << actor.error().message;
  EXPECT_EQ(store_.revision(), 0);
}

// --- set_split --------------------------------------------------------------------------------

TEST_F(DeploymentServiceTest, SetSplitGivesVersionsItDoesNotNameZero) {
  apply_default();
  auto d = service_.set_split("shop", {{"v2", 10000}}, "bob", "all on v2");
  ASSERT_TRUE(d) << d.error().message;
  // Every version of the service, in ordinal order; the one not named gets 0 bp.
  EXPECT_EQ(d->deployment.split, (Split{{"v1", 0}, {"v2", 10000}}));
  auto stored = service_.deployment("shop", d->deployment.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->split, d->deployment.split);
}

TEST_F(DeploymentServiceTest, SetSplitCreatesTheNextDeployment) {
  apply_default();
  clock_.advance(10);
  auto d = service_.set_split("shop", {{"v2", 5000}, {"v1", 5000}}, "bob", "half and half");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->deployment.id, 2);
  EXPECT_EQ(d->deployment.split, (Split{{"v1", 5000}, {"v2", 5000}}));
  EXPECT_EQ(d->deployment.cause, "split");
  EXPECT_EQ(d->deployment.author, "bob");
  EXPECT_EQ(d->deployment.message, "half and half");
  EXPECT_EQ(d->deployment.created_at, clock_.now());
  EXPECT_EQ(d->deployment.rolled_back_from, std::nullopt);
  EXPECT_EQ(d->deployment.revision, store_.revision());
  auto stored = service_.deployment("shop", 2);
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, d->deployment);
  expect_one_audit_event_at(d->deployment.revision, keys::deployment("shop", 2));
  const auto log = audit_log();
  EXPECT_EQ(log.back().action, "split");
  EXPECT_EQ(log.back().target, "service:shop");
  EXPECT_EQ(log.back().before, boost::json::value(model::to_json(*service_.deployment("shop", 1))));
  EXPECT_EQ(log.back().after, boost::json::value(model::to_json(d->deployment)));
  EXPECT_TRUE(d->changed);
}

TEST_F(DeploymentServiceTest, TheSplitServedAgainChangesNothingUnlessForced) {
  apply_default();
  const std::int64_t before = store_.revision();
  // v1 90 / v2 10 is what deployment 1 serves; naming v1 only is v1 100, a change.
  auto same = service_.set_split("shop", {{"v2", 1000}, {"v1", 9000}}, "bob", "again");
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_FALSE(same->changed);
  EXPECT_EQ(same->deployment.id, 1);
  EXPECT_EQ(same->deployment.revision, before);
  EXPECT_EQ(store_.revision(), before);  // no deployment, no audit event
  EXPECT_EQ(audit_log().size(), 1u);

  // A stale expectation is still a conflict, changed or not.
  auto stale = service_.set_split("shop", {{"v2", 1000}, {"v1", 9000}}, "bob", "", before + 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kConflict);

  auto forced = service_.set_split("shop", {{"v2", 1000}, {"v1", 9000}}, "bob", "forced", {},
                                   /*force=*/true);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_TRUE(forced->changed);
  EXPECT_EQ(forced->deployment.id, 2);
  EXPECT_EQ(forced->deployment.split, (Split{{"v1", 9000}, {"v2", 1000}}));
  EXPECT_GT(store_.revision(), before);
}

struct SplitCase {
  std::string name;
  std::string service;
  Split split;
  std::string actor;
  Errc code;
  std::string message;  // a prefix of the error message
};

TEST_F(DeploymentServiceTest, SetSplitValidationTable) {
  apply_default();
  const std::vector<SplitCase> cases = {
      {"sum below 100",
       "shop",
       {{"v1", 9000}},
       "bob",
       Errc::kInvalidArgument,
       "split: sums to 9000 bp (90%); it must sum to 10000 bp (100%)"},
      {"sum above 100",
       "shop",
       {{"v1", 9000}, {"v2", 2000}},
       "bob",
       Errc::kInvalidArgument,
       "split: sums to 11000 bp (110%)"},
      {"unknown version",
       "shop",
       {{"v1", 5000}, {"v7", 5000}},
       "bob",
       Errc::kInvalidArgument,
       "split: names version \"v7\", which service \"shop\" does not have"},
      {"version of another service",
       "shop",
       {{"stable", 10000}},
       "bob",
       Errc::kInvalidArgument,
       "split: names version \"stable\""},
      {"empty", "shop", {}, "bob", Errc::kInvalidArgument, "split: is empty"},
      {"duplicate",
       "shop",
       {{"v1", 5000}, {"v1", 5000}},
       "bob",
       Errc::kInvalidArgument,
       "split: names version \"v1\" twice"},
      {"unknown service",
       "nope",
       {{"v1", 10000}},
       "bob",
       Errc::kNotFound,
       "service \"nope\" does not exist"},
      {"invalid service name",
       "Shop!",
       {{"v1", 10000}},
       "bob",
       Errc::kInvalidArgument,
       "service: \"Shop!\" is not a valid service name"},
      {"invalid actor",
       "shop",
       {{"v1", 10000}},
       "bo b",
       Errc::kInvalidArgument,
       "actor: \"bo b\" is not a valid token name"},
  };
  const std::int64_t before = store_.revision();
  for (const auto& c : cases) {
    auto d = service_.set_split(c.service, c.split, c.actor, "");
    ASSERT_FALSE(d) << c.name;
    EXPECT_EQ(d.error().code, c.code) << c.name << ": " << d.error().message;
    EXPECT_TRUE(d.error().message.starts_with(c.message)) << c.name << ": " << d.error().message;
  }
  EXPECT_EQ(store_.revision(), before) << "a refused split writes nothing";
  EXPECT_EQ(ids("shop"), std::vector<std::int64_t>{1});
}

TEST_F(DeploymentServiceTest, StaleExpectedRevisionIsAConflict) {
  apply_default();
  auto first = service_.latest("shop");
  ASSERT_TRUE(first);
  auto second = service_.set_split("shop", {{"v1", 10000}}, "bob", "", first->revision);
  ASSERT_TRUE(second) << second.error().message;

  const std::int64_t before = store_.revision();
  for (std::int64_t stale : {first->revision, std::int64_t{0}, second->deployment.revision + 100}) {
    auto third = service_.set_split("shop", {{"v2", 10000}}, "carol", "", stale);
    ASSERT_FALSE(third) << stale;
    EXPECT_EQ(third.error().code, Errc::kConflict);
    EXPECT_NE(third.error().message.find("not the expected " + std::to_string(stale)),
              std::string::npos)
        << third.error().message;
  }
  EXPECT_EQ(store_.revision(), before);
  auto third =
      service_.set_split("shop", {{"v2", 10000}}, "carol", "", second->deployment.revision);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->deployment.id, 3);
}

// --- compare-and-swap under races ----------------------------------------------------------------

TEST(DeploymentServiceRace, ALostCompareIsRetriedFromAFreshRead) {
  HookStore store;
  FakeClock clock;
  DeploymentService service(store, clock.as_clock());
  DeploymentService rival(store.inner(), clock.as_clock());
  ASSERT_TRUE(service.apply(parse(config_text()), "alice", ""));

  // Between our read and our write, another writer creates deployment 2.
  store.before_next_write = [&] {
    auto d = rival.set_split("shop", {{"v1", 10000}}, "rival", "");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->deployment.id, 2);
  };
  auto d = service.set_split("shop", {{"v2", 10000}}, "bob", "");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->deployment.id, 3);
  auto history = service.deployments("shop");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[1].author, "rival");
  auto log = service.audit();
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[1].actor, "rival");
  EXPECT_EQ((*log)[2].actor, "bob");
  EXPECT_EQ((*log)[2].seq, 3);
}

TEST(DeploymentServiceRace, ALostCompareWithAnExpectedRevisionIsAConflict) {
  HookStore store;
  FakeClock clock;
  DeploymentService service(store, clock.as_clock());
  DeploymentService rival(store.inner(), clock.as_clock());
  ASSERT_TRUE(service.apply(parse(config_text()), "alice", ""));
  auto latest = service.latest("shop");
  ASSERT_TRUE(latest);

  store.before_next_write = [&] {
    ASSERT_TRUE(rival.set_split("shop", {{"v1", 10000}}, "rival", ""));
  };
  auto d = service.set_split("shop", {{"v2", 10000}}, "bob", "", latest->revision);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::kConflict);
  auto now = service.latest("shop");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->author, "rival");
}

TEST(DeploymentServiceRace, AnUnrelatedMutationAlsoForcesARetry) {
  HookStore store;
  FakeClock clock;
  DeploymentService service(store, clock.as_clock());
  DeploymentService rival(store.inner(), clock.as_clock());
  ASSERT_TRUE(service.apply(parse(config_text()), "alice", ""));
  // A checkpoint of another service touches none of our keys but takes audit seq 2.
  store.before_next_write = [&] { ASSERT_TRUE(rival.checkpoint("api", "n", "rival")); };
  auto d = service.set_split("shop", {{"v2", 10000}}, "bob", "");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->deployment.id, 2);
  auto log = service.audit();
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[1].action, "checkpoint");
  EXPECT_EQ((*log)[2].action, "split");
}

TEST(DeploymentServiceRace, ConcurrentSplitsLoseNothingAndLeaveNoGaps) {
  store::MemoryStore store;
  FakeClock clock;
  DeploymentService service(store, clock.as_clock());
  ASSERT_TRUE(service.apply(parse(config_text()), "alice", ""));

  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::int64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::uint32_t canary = static_cast<std::uint32_t>(100 * (t + 1) + i);
        auto d = service.set_split("shop", {{"v1", 10000 - canary}, {"v2", canary}},
                                   "writer" + std::to_string(t), "");
        if (!d) {
          ADD_FAILURE() << d.error().message;
          return;
        }
        got[t].push_back(d->deployment.id);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::int64_t> all;
  for (const auto& ids : got) {
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kPerThread));
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(ids.begin(), ids.end());
  }
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread)) << "an id given twice";
  EXPECT_EQ(*all.begin(), 2);
  EXPECT_EQ(*all.rbegin(), 1 + kThreads * kPerThread);

  auto history = service.deployments("shop");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), static_cast<std::size_t>(1 + kThreads * kPerThread));
  for (std::size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].id, static_cast<std::int64_t>(history->size() - i));
  }
  auto log = service.audit();
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), static_cast<std::size_t>(1 + kThreads * kPerThread));
  for (std::size_t i = 0; i < log->size(); ++i) {
    EXPECT_EQ((*log)[i].seq, static_cast<std::int64_t>(i + 1));
  }
  // Each split's audit event shares the revision of its deployment.
  for (const auto& d : *history) {
    const auto& event = (*log)[static_cast<std::size_t>(d.id - 1)];
    EXPECT_EQ(event.revision, d.revision) << "deployment " << d.id;
  }
}

// --- rollback -----------------------------------------------------------------------------------

TEST_F(DeploymentServiceTest, RollbackByDefaultRestoresTheDeploymentBeforeTheLatest) {
  apply_default();
  split({{"v1", 5000}, {"v2", 5000}});
  auto r = service_.rollback("shop", {}, "carol", "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 3);
  EXPECT_EQ(r->cause, "rollback");
  EXPECT_EQ(r->split, (Split{{"v1", 9000}, {"v2", 1000}}));
  EXPECT_EQ(r->rolled_back_from, 2);
  EXPECT_EQ(r->rolled_back_to, 1);
  EXPECT_EQ(r->message, "rollback to deployment 1");
  EXPECT_EQ(r->author, "carol");
  expect_one_audit_event_at(r->revision, keys::deployment("shop", 3));
  const auto log = audit_log();
  EXPECT_EQ(log.back().action, "rollback");
  EXPECT_EQ(log.back().before.at("id").as_int64(), 2);
  EXPECT_EQ(log.back().after.at("id").as_int64(), 3);
}

TEST_F(DeploymentServiceTest, RollbackToAnExplicitDeployment) {
  apply_default();
  split({{"v1", 5000}, {"v2", 5000}});
  split({{"v2", 10000}});
  auto r = service_.rollback("shop", {.deployment_id = 1}, "carol", "back to the start");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 4);
  EXPECT_EQ(r->split, (Split{{"v1", 9000}, {"v2", 1000}}));
  EXPECT_EQ(r->rolled_back_from, 3);
  EXPECT_EQ(r->rolled_back_to, 1);
  EXPECT_EQ(r->message, "back to the start");
  auto latest = service_.latest("shop");
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, *r);
}

TEST_F(DeploymentServiceTest, RollbackToACheckpoint) {
  apply_default();
  split({{"v1", 7000}, {"v2", 3000}});
  auto c = service_.checkpoint("shop", "good state", "alice");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->id, 1);
  EXPECT_EQ(c->deployment_id, 2);
  split({{"v2", 10000}});
  split({{"v1", 10000}});
  auto r = service_.rollback("shop", {.checkpoint_id = 1}, "carol", "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 5);
  EXPECT_EQ(r->split, (Split{{"v1", 7000}, {"v2", 3000}}));
  EXPECT_EQ(r->rolled_back_from, 4);
  EXPECT_EQ(r->rolled_back_to, 2);
  EXPECT_EQ(r->message, "rollback to deployment 2 (checkpoint 1: good state)");
  EXPECT_EQ(audit_log().back().after.at("checkpoint").at("note"), "good state");
}

struct RollbackCase {
  std::string name;
  std::string service;
  RollbackTarget target;
  Errc code;
  std::string message;
};

TEST_F(DeploymentServiceTest, RollbackErrorsTable) {
  apply_default();
  const std::vector<RollbackCase> only_one = {
      {"nothing earlier",
       "shop",
       {},
       Errc::kInvalidArgument,
       "target: service \"shop\" has only deployment 1; there is no earlier deployment"},
  };
  for (const auto& c : only_one) {
    auto r = service_.rollback(c.service, c.target, "carol", "");
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, c.code) << c.name;
    EXPECT_TRUE(r.error().message.starts_with(c.message)) << c.name << ": " << r.error().message;
  }
  split({{"v1", 10000}});
  const std::vector<RollbackCase> cases = {
      {"the latest",
       "shop",
       {.deployment_id = 2},
       Errc::kInvalidArgument,
       "target: deployment 2 is the latest deployment of service \"shop\" already"},
      {"a future deployment",
       "shop",
       {.deployment_id = 9},
       Errc::kNotFound,
       "service \"shop\" has no deployment 9 (the latest is 2)"},
      {"id zero",
       "shop",
       {.deployment_id = 0},
       Errc::kInvalidArgument,
       "deployment_id: 0 is not a valid id"},
      {"unknown checkpoint",
       "shop",
       {.checkpoint_id = 4},
       Errc::kNotFound,
       "service \"shop\" has no checkpoint 4"},
      {"both",
       "shop",
       {.deployment_id = 1, .checkpoint_id = 1},
       Errc::kInvalidArgument,
       "target: name a deployment or a checkpoint to roll back to, not both"},
      {"unknown service", "nope", {}, Errc::kNotFound, "service \"nope\" does not exist"},
      {"unknown service and checkpoint",
       "nope",
       {.checkpoint_id = 1},
       Errc::kNotFound,
       "service \"nope\" does not exist"},
  };
  const std::int64_t before = store_.revision();
  for (const auto& c : cases) {
    auto r = service_.rollback(c.service, c.target, "carol", "");
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
    EXPECT_TRUE(r.error().message.starts_with(c.message)) << c.name << ": " << r.error().message;
  }
  EXPECT_EQ(store_.revision(), before);
}

// --- checkpoints
// ----------------------------------------------------------------------------------

TEST_F(DeploymentServiceTest, CheckpointsAreNumberedPerService) {
  apply_default();
  auto a = service_.checkpoint("shop", "one", "alice");
  split({{"v2", 10000}});
  auto b = service_.checkpoint("shop", "two", "alice");
  auto c = service_.checkpoint("api", "api one", "bob");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->id, 1);
  EXPECT_EQ(a->deployment_id, 1);
  EXPECT_EQ(b->id, 2);
  EXPECT_EQ(b->deployment_id, 2);
  EXPECT_EQ(c->id, 1);
  EXPECT_EQ(c->author, "bob");
  EXPECT_EQ(c->created_at, clock_.now());
  auto list = service_.checkpoints("shop");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], *a);
  EXPECT_EQ((*list)[1], *b);
  const std::int64_t revision = store_.revision();
  expect_one_audit_event_at(revision, keys::checkpoint("api", 1));
  EXPECT_EQ(audit_log().back().action, "checkpoint");
  auto bad = service_.checkpoint("shop", std::string(5000, 'x'), "alice");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message.starts_with("note: is 5000 bytes long")) << bad.error().message;
}

// --- ids, the audit log, invariants
// ---------------------------------------------------------------

TEST_F(DeploymentServiceTest, EveryMutationWritesOneAuditEventInItsRevision) {
  auto applied = service_.apply(parse(config_text()), "alice", "");
  ASSERT_TRUE(applied);
  expect_one_audit_event_at(applied->revision, keys::deployment("api", 1));
  auto s = service_.set_split("shop", {{"v2", 10000}}, "bob", "");
  ASSERT_TRUE(s);
  expect_one_audit_event_at(s->deployment.revision, keys::latest("shop"));
  auto r = service_.rollback("shop", {}, "carol", "");
  ASSERT_TRUE(r);
  expect_one_audit_event_at(r->revision, keys::deployment("shop", 3));
  auto c = service_.checkpoint("shop", "n", "dave");
  ASSERT_TRUE(c);
  expect_one_audit_event_at(store_.revision(), keys::checkpoint("shop", 1));
  auto t = service_.create_token("ci", model::Role::kDeployer, "alice");
  ASSERT_TRUE(t);
  expect_one_audit_event_at(store_.revision(), keys::token("ci"));

  // One event per mutation, seq 1..5 gapless, each at its own revision, with its actor.
  const auto log = audit_log();
  ASSERT_EQ(log.size(), 5u);
  const std::vector<std::string> actors = {"alice", "bob", "carol", "dave", "alice"};
  const std::vector<std::string> actions = {"apply", "split", "rollback", "checkpoint",
                                            "token.create"};
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(log[i].actor, actors[i]);
    EXPECT_EQ(log[i].action, actions[i]);
    EXPECT_EQ(log[i].at, clock_.now());
    if (i > 0) {
      EXPECT_GT(log[i].revision, log[i - 1].revision);
    }
  }
  EXPECT_EQ(log[1].revision, s->deployment.revision);
  EXPECT_EQ(log[2].revision, r->revision);
  // The token event never carries the hash.
  EXPECT_FALSE(log[4].after.as_object().contains("sha256"));
}

TEST_F(DeploymentServiceTest, IdsRunWithoutGapsPerServiceAndLatestMirrorsTheNewest) {
  apply_default();
  split({{"v2", 10000}});
  // The split api serves already: forced, or it would be no change.
  ASSERT_TRUE(service_.set_split("api", {{"stable", 10000}}, "bob", "", {}, /*force=*/true));
  ASSERT_TRUE(service_.rollback("shop", {}, "carol", ""));
  ASSERT_FALSE(service_.set_split("shop", {{"v9", 10000}}, "bob", ""));  // refused: no id used
  split({{"v1", 5000}, {"v2", 5000}});
  ASSERT_TRUE(service_.apply(parse(config_text("v1 = 1\nv2 = 99")), "alice", ""));
  EXPECT_EQ(ids("shop"), (std::vector<std::int64_t>{5, 4, 3, 2, 1}));
  EXPECT_EQ(ids("api"), (std::vector<std::int64_t>{2, 1}));
  for (std::string service : {"shop", "api"}) {
    auto latest = store_.get(keys::latest(service));
    auto newest = store_.get(keys::deployment(service, ids(service).front()));
    ASSERT_TRUE(latest && *latest && newest && *newest);
    EXPECT_EQ((*latest)->value, (*newest)->value) << service;
    EXPECT_EQ((*latest)->mod_revision, (*newest)->mod_revision) << service;
  }
}

// --- reads
// ----------------------------------------------------------------------------------------

TEST_F(DeploymentServiceTest, DeploymentsListsNewestFirstWithALimit) {
  apply_default();
  for (int i = 0; i < 149; ++i) {
    const std::uint32_t canary = static_cast<std::uint32_t>(i);
    split({{"v1", 10000 - canary}, {"v2", canary}});
  }
  auto twenty = service_.deployments("shop", 20);
  ASSERT_TRUE(twenty);
  ASSERT_EQ(twenty->size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ((*twenty)[i].id, static_cast<std::int64_t>(150 - i));
    auto kv = store_.get(keys::deployment("shop", (*twenty)[i].id));
    ASSERT_TRUE(kv && *kv);
    EXPECT_EQ((*twenty)[i].revision, (*kv)->mod_revision);
  }
  auto all = service_.deployments("shop");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 150u);
  EXPECT_EQ(all->back().id, 1);
  auto more = service_.deployments("shop", 1000);
  ASSERT_TRUE(more);
  EXPECT_EQ(more->size(), 150u);
  auto one = service_.deployments("shop", 1);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().id, 150);
}

TEST_F(DeploymentServiceTest, AuditQueryPagesAndFiltersByTime) {
  apply_default();
  for (int i = 0; i < 9; ++i) {
    clock_.advance(1000);
    const std::uint32_t canary = static_cast<std::uint32_t>(100 * i);  // a new split each time
    split({{"v1", 10000 - canary}, {"v2", canary}});
  }
  const auto all = audit_log();
  ASSERT_EQ(all.size(), 10u);
  auto page = service_.audit({.after_seq = 3, .limit = 2});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 4);
  EXPECT_EQ((*page)[1].seq, 5);
  auto recent = service_.audit({.since_ms = all[7].at});
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 3u);
  EXPECT_EQ(recent->front().seq, 8);
  auto none = service_.audit({.after_seq = 10});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto limited = service_.audit({.since_ms = all[2].at, .limit = 4});
  ASSERT_TRUE(limited);
  ASSERT_EQ(limited->size(), 4u);
  EXPECT_EQ(limited->front().seq, 3);
  EXPECT_EQ(limited->back().seq, 6);
}

TEST_F(DeploymentServiceTest, UnknownServiceIsNotFoundEverywhere) {
  apply_default();
  const std::string expected = "service \"nope\" does not exist";
  std::vector<std::pair<std::string, Error>> errors;
  auto collect = [&](const std::string& what, auto result) {
    ASSERT_FALSE(result) << what;
    errors.emplace_back(what, result.error());
  };
  collect("service", service_.service("nope"));
  collect("versions", service_.versions("nope"));
  collect("deployments", service_.deployments("nope"));
  collect("deployment", service_.deployment("nope", 1));
  collect("latest", service_.latest("nope"));
  collect("checkpoints", service_.checkpoints("nope"));
  collect("analytics", service_.analytics("nope"));
  collect("checkpoint", service_.checkpoint("nope", "", "bob"));
  for (const auto& [what, error] : errors) {
    EXPECT_EQ(error.code, Errc::kNotFound) << what;
    EXPECT_EQ(error.message, expected) << what;
  }
  auto missing = service_.deployment("shop", 7);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_EQ(missing.error().message, "service \"shop\" has no deployment 7");
}

TEST_F(DeploymentServiceTest, AnalyticsOnAScriptedHistory) {
  apply_default();                                          // 1 apply
  split({{"v1", 5000}, {"v2", 5000}});                      // 2 split, rolled back by 3
  ASSERT_TRUE(service_.rollback("shop", {}, "carol", ""));  // 3 rollback to 1
  split({{"v1", 5000}, {"v2", 5000}});                      // 4 split
  split({{"v2", 10000}});                                   // 5 split, rolled back by 6
  ASSERT_TRUE(service_.rollback("shop", {}, "carol", ""));  // 6 rollback to 4
  auto redo = service_.rollback("shop", {}, "carol", "");   // 7 rollback of a rollback, to 5
  ASSERT_TRUE(redo);
  EXPECT_EQ(redo->split, (Split{{"v1", 0}, {"v2", 10000}}));
  EXPECT_EQ(redo->rolled_back_from, 6);
  EXPECT_EQ(redo->rolled_back_to, 5);
  split({{"v1", 10000}});  // 8 split

  auto a = service_.analytics("shop");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->deployments, 8);
  EXPECT_EQ(a->rollbacks, 3);
  EXPECT_EQ(a->rolled_back, 2);
  ASSERT_TRUE(a->success_rate);
  EXPECT_DOUBLE_EQ(*a->success_rate, 3.0 / 5.0);

  auto api = service_.analytics("api");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->deployments, 1);
  EXPECT_EQ(api->rollbacks, 0);
  EXPECT_DOUBLE_EQ(api->success_rate.value_or(-1), 1.0);
}

TEST_F(DeploymentServiceTest, SnapshotReadsEverythingAtOneRevision) {
  apply_default();
  split({{"v1", 5000}, {"v2", 5000}});
  auto snapshot = service_.snapshot();
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  EXPECT_EQ(snapshot->revision, store_.revision());
  ASSERT_EQ(snapshot->services.size(), 2u);
  EXPECT_EQ(snapshot->services[0].service.name, "api");
  const auto& shop = snapshot->services[1];
  EXPECT_EQ(shop.service.name, "shop");
  ASSERT_EQ(shop.versions.size(), 2u);
  EXPECT_EQ(shop.versions[0].name, "v1");
  ASSERT_TRUE(shop.latest);
  EXPECT_EQ(shop.latest->id, 2);
  EXPECT_EQ(shop.latest->revision, store_.revision());

  // Back to a config the gateway compiles: the original services, with the latest split.
  const config::Config original = parse(config_text());
  auto served = model::to_config(*snapshot, original);
  ASSERT_TRUE(served.problems.empty());
  const config::Config* cfg = &served.config;
  ASSERT_EQ(cfg->services.size(), 2u);
  const auto& cshop = cfg->services[1];
  EXPECT_EQ(cshop.name, "shop");
  ASSERT_EQ(cshop.versions.size(), 2u);
  EXPECT_EQ(cshop.versions[1].upstreams[0].port, 9002);
  EXPECT_EQ(cshop.split[0].basis_points, 5000u);
  EXPECT_EQ(cshop.routes.size(), original.services[0].routes.size());
}

// --- failures
// -------------------------------------------------------------------------------------

TEST(DeploymentServiceFailures, StoreFailuresPassThrough) {
  HookStore store;
  FakeClock clock;
  DeploymentService service(store, clock.as_clock());
  ASSERT_TRUE(service.apply(parse(config_text()), "alice", ""));
  store.fail_writes = true;
  auto s = service.set_split("shop", {{"v1", 10000}}, "bob", "");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kUnavailable);
  EXPECT_EQ(s.error().message, "disk I/O error (injected by the test)");
  auto a = service.apply(parse(config_text("v1 = 100")), "alice", "");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::kUnavailable);
  auto t = service.create_token("ci", model::Role::kAdmin, "alice");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::kUnavailable);
  // Reads still work while writes fail.
  EXPECT_TRUE(service.latest("shop"));
  store.fail_reads = true;
  auto l = service.latest("shop");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, Errc::kUnavailable);
  auto snap = service.snapshot();
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().code, Errc::kUnavailable);
}

TEST(DeploymentServiceFailures, ARecordOfANewerSchemaIsAnInternalErrorNamingItsKey) {
  store::MemoryStore store;
  DeploymentService service(store);
  ASSERT_TRUE(service.apply(parse(config_text()), "alice", ""));
  ASSERT_TRUE(store.put(keys::service("zzz"), R"({"schema":99,"name":"zzz"})"));
  auto services = service.services();
  ASSERT_FALSE(services);
  EXPECT_EQ(services.error().code, Errc::kInternal);
  EXPECT_EQ(services.error().message,
            "stored record \"/rampart/services/zzz\": service record has schema 99, newer than "
            "this rampart knows (2); upgrade rampart to read it");
}

}  // namespace
}  // namespace rampart::control
