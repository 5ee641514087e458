// Upstream names are resolved off the request path: the route table reads the resolver's
// answers, a name that does not resolve is an unresolved upstream of its version (never a
// failed publication), and the gateway publishes again by itself when an answer changes.

#include "gateway/resolver.hpp"

#include "config/config.hpp"
#include "gateway/gateway.hpp"
#include "gateway/route_table.hpp"
#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace rampart::gateway {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A DNS the test edits: name -> address, or the failure it answers with. Its lookup shares
// the answers with the resolver's lookup threads, which may outlive the test's objects.
class FakeDns {
 public:
  void set(const std::string& name, const std::string& address) {
    std::lock_guard lock(state_->mutex);
    state_->answers[name] = LookupResult{{asio::ip::make_address(address)}, "", false};
  }
  void fail(const std::string& name, bool temporary) {
    std::lock_guard lock(state_->mutex);
    state_->answers[name] = LookupResult{{}, temporary ? "try again" : "no such name", temporary};
  }
  // Lookups of `name` wait until release() (a DNS server that does not answer).
  void hang(const std::string& name) {
    std::lock_guard lock(state_->mutex);
    state_->hanging = name;
  }
  void release() {
    {
      std::lock_guard lock(state_->mutex);
      state_->hanging.clear();
    }
    state_->released.notify_all();
  }
  int lookups(const std::string& name) {
    std::lock_guard lock(state_->mutex);
    return state_->lookups[name];
  }
  ~FakeDns() { release(); }

  UpstreamResolver::Lookup lookup() {
    return [state = state_](const std::string& name) {
      std::unique_lock lock(state->mutex);
      ++state->lookups[name];
      state->released.wait(lock, [&] { return state->hanging != name; });
      auto it = state->answers.find(name);
      return it == state->answers.end() ? LookupResult{{}, "no such name", false} : it->second;
    };
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable released;
    std::map<std::string, LookupResult> answers;
    std::map<std::string, int> lookups;
    std::string hanging;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Polls `done` for up to two seconds.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

config::Config config_with(const std::string& upstreams) {
  auto cfg = config::parse_config(R"(
[[service]]
name = "shop"
routes = ["/shop/"]
[[service.version]]
name = "v1"
upstreams = [)" + upstreams + R"(]

[[service]]
name = "api"
routes = ["/api/"]
[[service.version]]
name = "a1"
upstreams = ["http://127.0.0.1:9100"]
)",
                                  "test.toml");
  EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().message);
  return *cfg;
}

TEST(UpstreamHostNames, ListsNamesOnceAndNoLiterals) {
  auto cfg = config_with(R"("http://b.internal:1", "http://a.internal:2", "http://b.internal:3",
                            "http://10.0.0.1:4", "http://[::1]:5")");
  EXPECT_EQ(upstream_host_names(cfg), (std::vector<std::string>{"a.internal", "b.internal"}));
}

TEST(BuildRouteTable, ANameWithoutAnAddressIsAnUnresolvedUpstreamNotAFailure) {
  metrics::Registry registry(1);
  UpstreamIds ids;
  HostAnswers answers;
  answers["good.internal"] = HostAnswer{{asio::ip::make_address("127.0.0.7")}, "", false};
  answers["typo.internal"] = HostAnswer{{}, "no such name", false};
  auto table = build_route_table(
      config_with(
          R"("http://good.internal:81", "http://typo.internal:82", "http://new.internal:83")"),
      1, registry, ids, answers);
  ASSERT_EQ(table->services.size(), 2u);
  const VersionRoute& v1 = table->services[0].versions[0];
  ASSERT_EQ(v1.upstreams.size(), 1u);
  EXPECT_EQ(v1.upstreams[0].authority, "good.internal:81");
  EXPECT_EQ(v1.upstreams[0].endpoint.address().to_string(), "127.0.0.7");
  EXPECT_EQ(v1.upstreams[0].endpoint.port(), 81);
  ASSERT_EQ(v1.unresolved.size(), 2u);
  EXPECT_EQ(v1.unresolved[0].authority, "typo.internal:82");
  EXPECT_EQ(v1.unresolved[0].reason, "does not resolve: no such name");
  EXPECT_EQ(v1.unresolved[1].authority, "new.internal:83");  // not in the answers at all
  EXPECT_EQ(v1.unresolved[1].reason, "is being resolved");
  EXPECT_EQ(table->services[1].versions[0].upstreams.size(), 1u);  // the other service: as ever
}

TEST(UpstreamResolver, ResolveWaitsForNewNamesAndForgetsOldOnes) {
  FakeDns dns;
  dns.set("a.internal", "127.0.0.1");
  UpstreamResolver resolver({.lookup = dns.lookup()}, nullptr);
  auto answers = resolver.resolve({"a.internal", "b.internal"}, 2s);
  EXPECT_FALSE(answers.at("a.internal").pending);
  EXPECT_EQ(answers.at("a.internal").addresses.size(), 1u);
  EXPECT_TRUE(answers.at("b.internal").addresses.empty());
  EXPECT_EQ(answers.at("b.internal").error, "no such name");

  resolver.resolve({"a.internal"}, 0ms);  // b is no longer wanted
  EXPECT_TRUE(resolver.answers_for({"b.internal"}).at("b.internal").pending);
  // A known name costs no lookup.
  const int before = dns.lookups("a.internal");
  resolver.resolve({"a.internal"}, 2s);
  EXPECT_EQ(dns.lookups("a.internal"), before);
}

TEST(UpstreamResolver, AHangingLookupBoundsTheWaitAndIsPublishedWhenItAnswers) {
  FakeDns dns;
  dns.hang("slow.internal");
  dns.set("slow.internal", "127.0.0.9");
  std::atomic<int> changes{0};
  UpstreamResolver resolver({.lookup = dns.lookup()}, [&] { ++changes; });
  const auto t0 = std::chrono::steady_clock::now();
  auto answers = resolver.resolve({"slow.internal"}, 50ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_TRUE(answers.at("slow.internal").pending);
  dns.release();
  EXPECT_TRUE(eventually([&] { return changes.load() > 0; }));
  EXPECT_EQ(resolver.answers_for({"slow.internal"}).at("slow.internal").addresses.size(), 1u);
}

TEST(UpstreamResolver, ATemporaryFailureKeepsTheLastAddressesANoNameDropsThem) {
  FakeDns dns;
  dns.set("db.internal", "127.0.0.5");
  std::atomic<int> changes{0};
  UpstreamResolver resolver({.refresh = 20ms, .first_retry = 20ms, .lookup = dns.lookup()},
                            [&] { ++changes; });
  resolver.resolve({"db.internal"}, 2s);
  dns.fail("db.internal", /*temporary=*/true);
  ASSERT_TRUE(eventually(
      [&] { return !resolver.answers_for({"db.internal"}).at("db.internal").error.empty(); }));
  auto stale = resolver.answers_for({"db.internal"}).at("db.internal");
  EXPECT_EQ(stale.addresses.size(), 1u);  // the DNS server is down; the upstream still works
  EXPECT_EQ(stale.error, "try again");

  dns.fail("db.internal", /*temporary=*/false);
  EXPECT_TRUE(eventually(
      [&] { return resolver.answers_for({"db.internal"}).at("db.internal").addresses.empty(); }));
  dns.set("db.internal", "127.0.0.6");
  EXPECT_TRUE(eventually([&] {
    auto a = resolver.answers_for({"db.internal"}).at("db.internal");
    return a.addresses.size() == 1 && a.addresses[0].to_string() == "127.0.0.6";
  }));
}

// The whole path: a typo'd name never stops publication, and a name that stops (or starts)
// resolving while the gateway runs is published again by the gateway itself.
TEST(GatewayResolution, NamesThatStopAndStartResolvingArePublishedWithoutACommit) {
  FakeDns dns;
  dns.set("shop.internal", "127.0.0.1");
  metrics::Registry registry(1);
  Gateway gw({.workers = 1, .first_lookup_wait = 2s, .lookup = dns.lookup()}, registry);
  auto cfg = config_with(R"("http://shop.internal:9001", "http://locahost:9002")");
  cfg.server.dns_refresh_ms = 100;
  gw.publish(cfg);
  auto routes = gw.routes();
  ASSERT_TRUE(routes);
  const VersionRoute* v1 = &routes->services[0].versions[0];
  ASSERT_EQ(v1->upstreams.size(), 1u);
  ASSERT_EQ(v1->unresolved.size(), 1u);
  EXPECT_EQ(v1->unresolved[0].authority, "locahost:9002");
  EXPECT_EQ(routes->services[1].versions[0].upstreams.size(), 1u);

  // The name stops resolving: its upstream leaves the route table.
  dns.fail("shop.internal", /*temporary=*/false);
  ASSERT_TRUE(eventually([&] { return gw.routes()->services[0].versions[0].upstreams.empty(); }));
  auto board = registry.snapshot_versions();
  ASSERT_EQ(board[1].service, "shop");  // sorted: api, shop
  ASSERT_EQ(board[1].upstreams.size(), 2u);
  EXPECT_NE(board[1].upstreams[1].problem, "");

  // Both resolve again: recovered, with no commit and no publish() call.
  dns.set("shop.internal", "127.0.0.1");
  dns.set("locahost", "127.0.0.2");
  EXPECT_TRUE(eventually([&] {
    const auto routes = gw.routes();  // held: a republish may free the table meanwhile
    const auto& v = routes->services[0].versions[0];
    return v.upstreams.size() == 2 && v.unresolved.empty();
  }));
}

}  // namespace
}  // namespace rampart::gateway
