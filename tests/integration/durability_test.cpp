// Nothing acknowledged is lost on kill -9: a client sends 1,000 mutations through the API while
// the server is SIGKILLed at random moments and restarted with only --data. After every
// restart every acknowledged deployment is there as it was acknowledged, deployment ids and
// store revisions have no gap, and the gateway serves the last deployment.

#include "harness.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <random>
#include <thread>

namespace rampart::testing {
namespace {

namespace json = boost::json;

struct Acked {
  std::int64_t id = 0;
  std::string message;
  std::string winner;  // the version given 100%
};

class DurabilityTest : public ::testing::Test {
 protected:
  json::value get(const std::string& target) {
    Reply r = cluster.admin().request("GET", target, cluster.auth());
    EXPECT_EQ(r.status, 200u) << target << ": " << r.error << r.body;
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    return ec ? json::value{} : v;
  }

  // Checks the restarted server against everything acknowledged so far. `in_flight` is the
  // mutation that was cut by the kill: it may or may not have committed. `known` is how many
  // deployments the last check found (an earlier cut mutation that committed is one of them,
  // also when no mutation was acknowledged since); it becomes this check's count.
  void verify(const std::vector<Acked>& acked, const Acked& in_flight, std::int64_t& known) {
    auto list = get("/api/v1/services/shop/deployments?limit=10000");
    const auto& deployments = list.at("deployments").as_array();
    const std::int64_t last_acked = std::max(known, acked.empty() ? 1 : acked.back().id);
    const auto n = static_cast<std::int64_t>(deployments.size());
    ASSERT_TRUE(n == last_acked || n == last_acked + 1)
        << n << " deployments after acknowledging up to " << last_acked;
    known = n;
    // Newest first, ids n..1 without a gap.
    for (std::int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(deployments[static_cast<std::size_t>(i)].at("id").as_int64(), n - i);
    }
    for (const auto& a : acked) {
      const auto& d = deployments[static_cast<std::size_t>(n - a.id)];
      ASSERT_EQ(d.at("message").as_string(), a.message) << "deployment " << a.id;
      ASSERT_EQ(d.at("split").at(a.winner).as_int64(), 100) << "deployment " << a.id;
    }
    std::string winner = acked.empty() ? "v1" : acked.back().winner;
    if (n == last_acked + 1) {
      // The cut mutation committed before the kill; it is whole.
      ASSERT_EQ(deployments[0].at("message").as_string(), in_flight.message);
      winner = in_flight.winner;
    }
    // Every revision is one mutation with one audit event: seq and revision both run 1..R.
    auto audit = get("/api/v1/audit?limit=10000");
    const auto& events = audit.at("events").as_array();
    for (std::size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(events[i].at("seq").as_int64(), static_cast<std::int64_t>(i + 1));
      ASSERT_EQ(events[i].at("revision").as_int64(), static_cast<std::int64_t>(i + 1));
    }
    // The gateway serves the last deployment.
    auto c = cluster.client();
    for (int i = 0; i < 10; ++i) {
      Reply r = c.get("/");
      ASSERT_EQ(r.status, 200u) << r.error << r.body;
      ASSERT_EQ(r.header("X-Rampart-Version"), winner);
    }
  }

  Cluster cluster;
};

TEST_F(DurabilityTest, KillNineAtRandomMomentsLosesNoAcknowledgedMutation) {
  const int v1 = cluster.start_app("v1");
  const int v2 = cluster.start_app("v2");
  cluster.start_gateway(
      service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}, {"v2", {v2}, 0}}));

  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  constexpr int kMutations = 1000;
  constexpr int kKills = 5;
  std::vector<Acked> acked;
  std::int64_t known = 1;  // deployments the last check found: the seed's
  int sent = 0;
  for (int round = 0; round <= kKills && static_cast<int>(acked.size()) < kMutations; ++round) {
    // Kill after a random delay while mutations are in flight (the last round runs to the end).
    std::thread killer;
    if (round < kKills) {
      const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 150)(rng));
      killer = std::thread([&, delay] {
        std::this_thread::sleep_for(delay);
        cluster.gateway().signal(SIGKILL);
      });
    }
    Acked in_flight;
    bool cut = false;
    auto admin = cluster.admin();
    while (static_cast<int>(acked.size()) < kMutations) {
      const int k = sent++;
      in_flight = {0, "mutation " + std::to_string(k), k % 2 == 0 ? "v2" : "v1"};
      // Forced: after a cut, the next split may equal the one served, and every mutation
      // must still be a deployment.
      const std::string body = std::string("{\"split\": {\"") + in_flight.winner +
                               "\": 100}, \"force\": true, \"message\": \"" + in_flight.message +
                               "\"}";
      auto headers = cluster.auth();
      Reply r = admin.request("POST", "/api/v1/services/shop/deployments", headers, body);
      if (r.status == 0) {
        cut = true;  // killed: no answer, so not acknowledged
        break;
      }
      ASSERT_EQ(r.status, 201u) << r.body;
      boost::system::error_code ec;
      auto d = json::parse(r.body, ec);
      ASSERT_FALSE(ec);
      in_flight.id = d.at("id").as_int64();
      acked.push_back(in_flight);
    }
    if (killer.joinable()) {
      killer.join();
    }
    if (round < kKills) {
      EXPECT_NE(cluster.gateway().wait(std::chrono::seconds(10)), 0);
      std::printf("kill %d: %zu acknowledged, %s\n", round + 1, acked.size(),
                  cut ? "one mutation in flight" : "between mutations");
      cluster.restart_gateway();
      SCOPED_TRACE("after kill " + std::to_string(round + 1) + ", " + std::to_string(acked.size()) +
                   " acknowledged");
      verify(acked, in_flight, known);
      if (::testing::Test::HasFatalFailure()) {
        return;
      }
    }
  }
  EXPECT_EQ(static_cast<int>(acked.size()), kMutations);
  verify(acked, Acked{}, known);
}

}  // namespace
}  // namespace rampart::testing
