// Rollouts end to end: the rollout endpoints of a real `rampart server` in front of two real
// demo-apps, and the rollout verbs of the real binary against it: start (pending while shop's
// slow health check runs), one active rollout per service, abort (rolled back, all traffic on
// the stable version), retry, the events, the 404s and 409s; and a full `deploy --watch` of web
// until promoted.

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <csignal>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rampart::testing {
namespace {

namespace json = boost::json;

constexpr const char* kEnv[] = {"RAMPART_ADDR", "RAMPART_TOKEN", "RAMPART_DATA"};

// shop on "/" with v1 serving everything and v2 declared at 0%. Its health check answers only
// after 30 s (each try times out): a rollout of shop stays pending, waiting for its checks, for
// as long as these tests look at it. web on "/web/" has the same versions, a health check that
// passes, all-at-once rollouts and one-second windows: the whole way to promotion.
std::string shop_config(int v1_port, int v2_port) {
  const std::string versions =
      "[[service.version]]\nname = \"v1\"\nupstreams = [\"http://127.0.0.1:" +
      std::to_string(v1_port) +
      "\"]\n\n"
      "[[service.version]]\nname = \"v2\"\nupstreams = [\"http://127.0.0.1:" +
      std::to_string(v2_port) + "\"]\n\n[service.split]\nv1 = 100\nv2 = 0\n";
  return "[server]\nlisten = \"127.0.0.1:0\"\nadmin = \"127.0.0.1:0\"\nworkers = 2\n\n"
         "[[service]]\nname = \"shop\"\nroutes = [\"/\"]\nsticky = \"none\"\n\n" +
         versions +
         "[service.rollout.checks]\nhealth = { path = \"/sleep/30000\", tries = 50, backoff = "
         "\"1s\" }\n\n"
         "[[service]]\nname = \"web\"\nroutes = [\"/web/\"]\nsticky = \"none\"\n\n" +
         versions +
         "[service.rollout]\nstrategy = \"all-at-once\"\n[service.rollout.analysis]\n"
         "interval = \"1s\"\nmin_requests = 5\n";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class RolloutApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kEnv) {
      const char* v = std::getenv(name);
      saved_env_.push_back(v == nullptr ? std::nullopt : std::optional<std::string>(v));
      ::unsetenv(name);
    }
    const int v1 = start_app("v1");
    const int v2 = start_app("v2");
    dir_.write("rampart.toml", shop_config(v1, v2));
    server_ = Process::spawn(
        {RAMPART_BIN, "server", "--data", data_dir(), "--config", dir_.file("rampart.toml")},
        dir_.file("rampart.log"));
    const std::string line = server_.read_line(std::chrono::seconds(20));
    gateway_port_ = port_after(line, "gateway on ");
    admin_port_ = port_after(line, "admin on ");
    ASSERT_GT(gateway_port_, 0) << "rampart did not start: " << line << "\n" << log();
    ASSERT_GT(admin_port_, 0) << line;
    std::string token = tail_file(data_dir() + "/admin.token", 4096);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
      token.pop_back();
    }
    auth_ = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  }

  void TearDown() override {
    for (std::size_t i = 0; i < saved_env_.size(); ++i) {
      if (saved_env_[i]) {
        ::setenv(kEnv[i], saved_env_[i]->c_str(), 1);
      } else {
        ::unsetenv(kEnv[i]);
      }
    }
  }

  int start_app(const std::string& name) {
    Process p = Process::spawn({DEMO_APP_BIN, "--port", "0", "--name", name},
                               dir_.file("app-" + name + ".log"));
    const int port = port_after(p.read_line(), "listening on ");
    EXPECT_GT(port, 0) << "demo-app did not start: " << tail_file(p.log_path());
    apps_.push_back(std::move(p));
    return port;
  }

  std::string data_dir() const { return dir_.file("data"); }
  std::string log() const { return tail_file(dir_.file("rampart.log")); }

  // One admin API call; the reply's status and its JSON (null when it has none).
  std::pair<unsigned, json::value> api(const std::string& method, const std::string& target,
                                       const std::string& body = "") {
    HttpClient admin("127.0.0.1", admin_port_);
    Reply r = admin.request(method, "/api/v1" + target, auth_, body);
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    return {r.status, ec ? json::value(nullptr) : v};
  }

  // The versions that answered `n` requests through the gateway, by X-Rampart-Version.
  std::map<std::string, int> served(int n = 20, const std::string& path = "/") {
    HttpClient client("127.0.0.1", gateway_port_);
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      Reply r = client.get(path);
      EXPECT_EQ(r.status, 200u) << r.error << r.body;
      seen[r.header("X-Rampart-Version")]++;
    }
    return seen;
  }

  // `rampart ARGS... --data DIR`.
  RunResult rampart(std::vector<std::string> args) {
    args.insert(args.begin(), RAMPART_BIN);
    args.push_back("--data");
    args.push_back(data_dir());
    return run_to_completion(args);
  }
  std::string ok(const std::vector<std::string>& args) {
    RunResult r = rampart(args);
    EXPECT_EQ(r.exit_code, 0) << args.front() << ": " << r.err << "\n" << log();
    EXPECT_EQ(r.err, "");
    return r.out;
  }
  // `rampart deploy ... --watch` as a child, its stdout read line by line, stderr in `log`.
  Process watch(std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), RAMPART_BIN);
    args.push_back("--data");
    args.push_back(data_dir());
    return Process::spawn(args, dir_.file(log));
  }

  std::string latest_phase(const std::string& service = "shop") {
    auto [status, r] = api("GET", "/services/" + service + "/rollouts/latest");
    EXPECT_EQ(status, 200u);
    return r.is_object() ? std::string(r.at("phase").as_string()) : "";
  }

  TempDir dir_;
  std::vector<std::optional<std::string>> saved_env_;
  std::vector<Process> apps_;
  Process server_;
  int gateway_port_ = -1;
  int admin_port_ = -1;
  std::map<std::string, std::string> auth_;
};

TEST_F(RolloutApiTest, StartListGetEventsAndOneActiveRolloutPerService) {
  auto [created, r] =
      api("POST", "/services/shop/rollouts",
          R"({"version": "v2", "steps": [10, 50, 100], "pause": "1m", "interval": "10s"})");
  ASSERT_EQ(created, 201u) << json::serialize(r) << log();
  EXPECT_EQ(r.at("id"), 1);
  EXPECT_EQ(r.at("phase"), "pending");
  EXPECT_EQ(r.at("step"), 1);
  EXPECT_EQ(r.at("weight"), 0);
  EXPECT_EQ(r.at("stable"), "v1");
  EXPECT_EQ(r.at("plan"), "10% for 1m, 50% for 1m, 100%");
  EXPECT_EQ(r.at("interval"), "10s");
  EXPECT_EQ(r.at("author"), "bootstrap");
  // Pending: the new version has no traffic yet.
  EXPECT_EQ(served(), (std::map<std::string, int>{{"v1", 20}}));

  auto [conflict, refused] = api("POST", "/services/shop/rollouts", R"({"version": "v2"})");
  EXPECT_EQ(conflict, 409u);
  EXPECT_TRUE(contains(std::string(refused.at("detail").as_string()), "active rollout 1"))
      << refused;

  auto [listed, list] = api("GET", "/services/shop/rollouts");
  ASSERT_EQ(listed, 200u);
  ASSERT_EQ(list.at("rollouts").as_array().size(), 1u);
  EXPECT_EQ(list.at("rollouts").at(0), r);
  EXPECT_EQ(api("GET", "/services/shop/rollouts/latest").second, r);
  EXPECT_EQ(api("GET", "/services/shop/rollouts/1").second, r);
  auto [got, events] = api("GET", "/services/shop/rollouts/1/events");
  ASSERT_EQ(got, 200u);
  ASSERT_EQ(events.at("events").as_array().size(), 1u);
  EXPECT_EQ(events.at("events").at(0).at("event"), "created");

  EXPECT_EQ(api("GET", "/services/shop/rollouts/2").first, 404u);
  EXPECT_EQ(api("GET", "/services/nope/rollouts/latest").first, 404u);
  EXPECT_EQ(api("POST", "/services/shop/rollouts", R"({"version": "v3"})").first, 404u);
  EXPECT_EQ(api("POST", "/services/shop/rollouts", R"({"version": "v2", "pause": "1m"})").first,
            400u);
  EXPECT_EQ(api("DELETE", "/services/shop/rollouts").first, 405u);
}

TEST_F(RolloutApiTest, CommandsAndWhatIsServed) {
  EXPECT_EQ(api("POST", "/services/shop/rollout/abort").first, 404u);  // none yet
  ASSERT_EQ(api("POST", "/services/shop/rollouts", R"({"version": "v2"})").first, 201u);

  // A pending rollout cannot be paused, resumed or promoted: 409 saying why.
  for (const char* command : {"pause", "resume", "promote", "promote-full", "retry"}) {
    auto [status, refused] = api("POST", std::string("/services/shop/rollout/") + command);
    EXPECT_EQ(status, 409u) << command;
    EXPECT_TRUE(contains(std::string(refused.at("detail").as_string()), "pending") ||
                contains(std::string(refused.at("detail").as_string()), "rolled"))
        << command << ": " << refused;
  }

  auto [aborted, r] = api("POST", "/services/shop/rollout/abort");
  ASSERT_EQ(aborted, 200u) << r;
  EXPECT_EQ(r.at("phase"), "rolled_back");
  EXPECT_EQ(r.at("weight"), 0);
  EXPECT_EQ(served(), (std::map<std::string, int>{{"v1", 20}}));
  EXPECT_EQ(api("POST", "/services/shop/rollout/abort").first, 409u);  // already rolled back

  auto [retried, again] = api("POST", "/services/shop/rollout/retry");
  ASSERT_EQ(retried, 200u) << again;
  EXPECT_EQ(again.at("phase"), "pending");
  EXPECT_EQ(again.at("id"), 1);

  auto [got, events] = api("GET", "/services/shop/rollouts/1/events");
  ASSERT_EQ(got, 200u);
  std::vector<std::string> names;
  for (const auto& e : events.at("events").as_array()) {
    names.emplace_back(e.at("event").as_string());
    EXPECT_EQ(e.at("actor"), "bootstrap");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"created", "rolled_back", "retried"}));

  // --replace aborts the active rollout first.
  auto [replaced, second] =
      api("POST", "/services/shop/rollouts", R"({"version": "v2", "replace": true})");
  ASSERT_EQ(replaced, 201u) << second;
  EXPECT_EQ(second.at("id"), 2);
  EXPECT_EQ(api("GET", "/services/shop/rollouts/1").second.at("phase"), "rolled_back");
}

TEST_F(RolloutApiTest, CliVerbs) {
  std::string out = ok({"deploy", "shop", "--version", "v2", "--steps", "20,100", "--no-watch"});
  EXPECT_EQ(out,
            "shop: rollout 1, v2 from v1 (20% for 5m, 100%): pending, v2 at 0%: waiting for the "
            "checks before traffic\n");

  RunResult second = rampart({"deploy", "shop", "--version", "v2", "--no-watch"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_TRUE(contains(second.err, "active rollout 1")) << second.err;
  EXPECT_EQ(std::count(second.err.begin(), second.err.end(), '\n'), 1) << second.err;

  std::string status = ok({"status", "shop"});
  EXPECT_TRUE(contains(status, "rollout 1: v2 from v1, 20% for 5m, 100%\n")) << status;
  EXPECT_TRUE(contains(status, "  phase:  pending\n")) << status;

  RunResult pause = rampart({"pause", "shop"});
  EXPECT_EQ(pause.exit_code, 1);
  EXPECT_TRUE(contains(pause.err, "pending")) << pause.err;
  EXPECT_EQ(rampart({"promote", "shop", "--full"}).exit_code, 1);

  EXPECT_TRUE(contains(ok({"abort", "shop"}),
                       "shop: rollout 1, v2 from v1 (20% for 5m, 100%): "
                       "rolled_back, v2 at 0%"));
  const std::string after = ok({"status", "shop"});
  EXPECT_FALSE(contains(after, "  phase:  ")) << after;  // final: not shown
  EXPECT_TRUE(contains(ok({"retry", "shop"}), ": pending, v2 at 0%"));

  std::string report = ok({"report", "shop"});
  EXPECT_TRUE(report.starts_with("# Deployment report: shop, rollout 1\n")) << report;
  EXPECT_TRUE(contains(report, "| Strategy | canary: 20% for 5m, 100% |")) << report;
  EXPECT_TRUE(contains(report, "| rolled_back | 1 | 0% | aborted by hand")) << report;
  std::string report_json = ok({"report", "shop", "1", "--json"});
  json::value v = json::parse(report_json);
  EXPECT_EQ(v.at("rollout").at("id"), 1);
  EXPECT_EQ(v.at("events").as_array().size(), 3u);

  RunResult missing = rampart({"report", "shop", "9"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "rampart: not found: service \"shop\" has no rollout 9\n");
}

TEST_F(RolloutApiTest, DeployWatchEndsWithTheAbortAndItsReason) {
  Process deploy = watch({"deploy", "shop", "--version", "v2", "--watch"}, "deploy.err");
  const std::string first = deploy.read_line();
  ASSERT_TRUE(contains(first, "shop: rollout 1, v2 from v1")) << first << log();
  EXPECT_TRUE(contains(deploy.read_line(), "created")) << tail_file(dir_.file("deploy.err"));
  ok({"abort", "shop"});
  EXPECT_TRUE(contains(deploy.read_line(), "rolled_back"));
  EXPECT_EQ(deploy.wait(), 1);
  EXPECT_EQ(tail_file(dir_.file("deploy.err")),
            "rampart: shop: rollout 1 rolled back: aborted by hand\n");
}

TEST_F(RolloutApiTest, DeployWatchInterruptedLeavesTheRolloutRunning) {
  Process deploy = watch({"deploy", "shop", "--version", "v2", "--watch"}, "deploy.err");
  ASSERT_TRUE(contains(deploy.read_line(), "shop: rollout 1")) << log();
  EXPECT_TRUE(contains(deploy.read_line(), "created"));
  deploy.signal(SIGINT);
  EXPECT_EQ(deploy.wait(), 130);
  EXPECT_TRUE(contains(tail_file(dir_.file("deploy.err")), "`rampart status shop --watch`"))
      << tail_file(dir_.file("deploy.err"));
  EXPECT_EQ(latest_phase(), "pending");
}

TEST_F(RolloutApiTest, StatusWatchFollowsTheActiveRolloutToItsEnd) {
  ok({"deploy", "shop", "--version", "v2", "--no-watch"});
  Process status = watch({"status", "shop", "--watch"}, "status.err");
  std::string line;
  while (!contains(line, "created") && status.running()) {
    line = status.read_line();
  }
  ASSERT_TRUE(contains(line, "created")) << tail_file(dir_.file("status.err"));
  ok({"abort", "shop"});
  EXPECT_EQ(status.wait(), 1);
  EXPECT_EQ(tail_file(dir_.file("status.err")),
            "rampart: shop: rollout 1 rolled back: aborted by hand\n");
}

// The whole way: the controller runs web's checks, cuts over (all-at-once) and promotes once a
// window with enough traffic passes; `deploy --watch` follows it and exits 0.
TEST_F(RolloutApiTest, DeployWatchUntilPromotedServesTheNewVersion) {
  Process deploy = watch({"deploy", "web", "--version", "v2", "--watch"}, "deploy.err");
  ASSERT_TRUE(contains(deploy.read_line(), "web: rollout 1")) << log();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (std::string phase = latest_phase("web");
       phase != "promoted" && phase != "rolled_back" && std::chrono::steady_clock::now() < deadline;
       phase = latest_phase("web")) {
    served(20, "/web/");  // traffic for the analysis windows
  }
  EXPECT_EQ(deploy.wait(std::chrono::seconds(5)), 0) << tail_file(dir_.file("deploy.err"));
  EXPECT_EQ(latest_phase("web"), "promoted");
  EXPECT_EQ(served(20, "/web/"), (std::map<std::string, int>{{"v2", 20}}));
}

}  // namespace
}  // namespace rampart::testing
