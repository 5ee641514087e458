// `rampart deploy`'s gates end to end: the real binary against a real server in front of
// demo-apps. A failing `pre` command blocks the deploy (the server never hears of it);
// --skip-checks goes ahead and is audited; --dry-run prints the plan and changes nothing;
// --upstream declares a new version and rolls it out to 100%.

#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

namespace rampart::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// A pre command that passes only when the working directory has `ready`: the deploy runs it
// where it was started, as `make test` would be.
constexpr std::string_view kPolicy = R"([service.rollout]
steps = [ { weight = 50, pause = "1s" }, { weight = 100 } ]

[service.rollout.analysis]
interval = "1s"
min_requests = 5

[service.rollout.checks]
pre = [ { name = "ready", run = "test -f ready || { echo 'ready: missing; run make first'; exit 1; }" } ]
)";

constexpr const char* kEnv[] = {"RAMPART_ADDR", "RAMPART_TOKEN", "RAMPART_DATA"};

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

class DeployCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kEnv) {
      ::unsetenv(name);
    }
    previous_cwd_ = std::filesystem::current_path();
    std::filesystem::current_path(cluster.dir().path());  // where `rampart deploy` runs
    const int v1 = cluster.start_app("v1");
    const int v2 = cluster.start_app("v2");
    v3_ = cluster.start_app("v3");
    cluster.start_gateway(
        service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}, {"v2", {v2}, 0}}, "") +
        std::string(kPolicy));
  }
  void TearDown() override { std::filesystem::current_path(previous_cwd_); }

  void make_ready() { std::ofstream(cluster.dir().file("ready")) << "built\n"; }

  RunResult rampart(std::vector<std::string> args) {
    args.insert(args.begin(), rampart_bin());
    args.push_back("--data");
    args.push_back(cluster.data_dir());
    return run_to_completion(args, 60s);
  }

  json::value get(const std::string& target, unsigned expect = 200) {
    Reply r = cluster.admin().request("GET", "/api/v1" + target, cluster.auth(), "");
    EXPECT_EQ(r.status, expect) << target << ": " << r.body;
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    return ec ? json::value(nullptr) : v;
  }

  json::value last_audit() { return get("/audit").at("events").as_array().back(); }
  std::size_t audit_count() { return get("/audit").at("events").as_array().size(); }

  // Sends requests through the gateway until the latest rollout is final; its phase.
  std::string drive_to_final() {
    auto client = cluster.client();
    for (int i = 0; i < 3000; ++i) {
      Reply r = client.get("/");
      if (r.status == 0 || r.closed) {
        client.close();
      }
      if (i % 20 == 0) {
        const std::string phase(get("/services/shop/rollouts/latest").at("phase").as_string());
        if (phase == "promoted" || phase == "rolled_back") {
          return phase;
        }
      }
      std::this_thread::sleep_for(5ms);
    }
    return "still running";
  }

  Cluster cluster;
  int v3_ = 0;
  std::filesystem::path previous_cwd_;
};

TEST_F(DeployCliTest, AFailingPreCommandBlocksTheDeploy) {
  const std::size_t audited = audit_count();
  RunResult r = rampart({"deploy", "shop", "--version", "v2", "--no-watch"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "✗ ready  failed (exit 1)")) << r.out;
  EXPECT_TRUE(contains(r.out, "    | ready: missing; run make first\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "DEPLOYMENT BLOCKED")) << r.out;
  EXPECT_EQ(r.err, "rampart: deploy: 1 of 1 pre-deploy checks failed; nothing was started\n");
  get("/services/shop/rollouts/latest", 404);  // no rollout on the server
  EXPECT_EQ(audit_count(), audited);

  make_ready();
  RunResult ok = rampart({"deploy", "shop", "--version", "v2", "--no-watch"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err << cluster.log();
  EXPECT_TRUE(contains(ok.out, "✓ ready  passed")) << ok.out;
  EXPECT_EQ(last_audit().at("action").as_string(), "rollout.start");
  const auto events = get("/services/shop/rollouts/1/events").at("events");
  EXPECT_TRUE(contains(std::string(events.at(0).at("reason").as_string()),
                       "; pre-deploy commands: ready passed "))
      << json::serialize(events);
}

TEST_F(DeployCliTest, SkipChecksGoesAheadAndIsAudited) {
  RunResult r = rampart({"deploy", "shop", "--version", "v2", "--skip-checks", "--no-watch"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << cluster.log();
  EXPECT_FALSE(contains(r.out, "Pre-deploy")) << r.out;
  const auto audit = last_audit();
  EXPECT_EQ(audit.at("action").as_string(), "rollout.start.unchecked") << json::serialize(audit);
  EXPECT_EQ(get("/services/shop/rollouts/latest").at("id"), 1);
}

TEST_F(DeployCliTest, DryRunPrintsThePlanAndChangesNothing) {
  make_ready();
  const std::size_t audited = audit_count();
  RunResult r = rampart({"deploy", "shop", "--version", "v2", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << cluster.log();
  EXPECT_TRUE(contains(r.out, "✓ ready  passed")) << r.out;
  EXPECT_TRUE(contains(r.out, "Dry run: shop v2 from v1; nothing was changed\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "  steps           1. 50%, then pause 1s\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "  checks          seed 004's defaults")) << r.out;
  EXPECT_TRUE(contains(r.out, "would start rollout 1.\n")) << r.out;
  get("/services/shop/rollouts/latest", 404);
  EXPECT_EQ(audit_count(), audited);

  RunResult json_plan = rampart({"deploy", "shop", "--version", "v2", "--dry-run", "--json"});
  EXPECT_EQ(json_plan.exit_code, 0) << json_plan.err;
  const auto plan = json::parse(json_plan.out);
  EXPECT_EQ(plan.at("rollout").at("version").as_string(), "v2");
  EXPECT_EQ(plan.at("deploy_window").as_string(), "allowed");

  // A gate the server runs: an unknown version, refused, still nothing written.
  RunResult unknown = rampart({"deploy", "shop", "--version", "v9", "--dry-run"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(contains(unknown.err, "has no version \"v9\"")) << unknown.err;
  EXPECT_EQ(audit_count(), audited);
}

TEST_F(DeployCliTest, UpstreamDeclaresANewVersionAndRollsItOut) {
  make_ready();
  const std::string upstream = "http://127.0.0.1:" + std::to_string(v3_);
  RunResult r =
      rampart({"deploy", "shop", "--version", "v3", "--upstream", upstream, "--no-watch"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << cluster.log();
  const auto version = get("/services/shop/versions/v3");
  EXPECT_EQ(version.at("upstreams").at(0).as_string(), upstream) << json::serialize(version);
  EXPECT_EQ(drive_to_final(), "promoted") << cluster.log();
  auto client = cluster.client();
  EXPECT_EQ(client.get("/").header("X-Rampart-Version"), "v3");

  // The same name with other upstreams: refused, naming the difference.
  RunResult other = rampart(
      {"deploy", "shop", "--version", "v3", "--upstream", "http://127.0.0.1:1", "--dry-run"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_TRUE(
      contains(other.err, "exists with upstreams " + upstream +
                              ", not "
                              "http://127.0.0.1:1; versions are immutable: pick a new version "
                              "name"))
      << other.err;
}

}  // namespace
}  // namespace rampart::testing
