// The change path, hardened: a state the store accepted never stops publication (a typo'd or
// unresolvable upstream host makes that upstream unhealthy, nothing else), a server always
// starts with what it has, and one server owns a listening port and a data directory.

#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>

namespace rampart::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

json::value parse_json(const Reply& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return v;
}

class ChangePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s1_ = cluster.start_app("s1");
    w1_ = cluster.start_app("w1");
    w2_ = cluster.start_app("w2");
    cluster.start_gateway(services("127.0.0.1"));
  }

  // shop's v2 upstream on `host`; web split 100/0.
  std::string services(const std::string& host, int web_w2 = 0) const {
    return service_config("web", "\"/web/\"", "none",
                          {{"w1", {w1_}, 100.0 - web_w2}, {"w2", {w2_}, double(web_w2)}}) +
           "\n[[service]]\nname = \"shop\"\nroutes = [\"/shop/\"]\nsticky = \"none\"\n"
           "[[service.version]]\nname = \"v1\"\nupstreams = [\"http://127.0.0.1:" +
           std::to_string(s1_) + "\"]\n[[service.version]]\nname = \"v2\"\nupstreams = [\"http://" +
           host + ":" + std::to_string(s1_) + "\"]\n[service.split]\nv1 = 0\nv2 = 100\n";
  }

  Reply call(const std::string& method, const std::string& target, const std::string& body = "") {
    auto headers = cluster.auth();
    headers["Content-Type"] = "application/json";
    return cluster.admin().request(method, target, headers, body);
  }

  Reply apply(const std::string& config) {
    json::object body{{"config", config}, {"source", "typo.toml"}};
    return call("POST", "/api/v1/apply", json::serialize(body));
  }

  // How many of `n` requests to `path` each version answered ("" for the gateway's own).
  std::map<std::string, int> served(const std::string& path, int n = 20) {
    auto c = cluster.client();
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      seen[c.get(path).header("X-Rampart-Version")]++;
    }
    return seen;
  }

  Cluster cluster;
  int s1_ = 0, w1_ = 0, w2_ = 0;
};

TEST_F(ChangePathTest, ATypoedUpstreamIsUnhealthyAndEveryOtherChangeIsServed) {
  EXPECT_EQ(served("/shop/")["v2"], 20);
  Reply typo = apply(services("locahost.invalid"));
  ASSERT_EQ(typo.status, 200u) << typo.body;

  // shop's v2 has no address: 503 saying why, right after the acknowledgement.
  Reply r = cluster.client().get("/shop/");
  EXPECT_EQ(r.status, 503u) << r.body;
  auto body = parse_json(r);
  EXPECT_EQ(body.at("error").as_string(), "no_healthy_upstream");
  EXPECT_NE(r.body.find("locahost.invalid:" + std::to_string(s1_) + " does not resolve"),
            std::string::npos)
      << r.body;

  // Every later change to another service is served on return.
  Reply split =
      call("POST", "/api/v1/services/web/deployments", R"({"split": {"w1": 0, "w2": 100}})");
  ASSERT_EQ(split.status, 201u) << split.body;
  EXPECT_EQ(served("/web/")["w2"], 20);

  // Visible in /health?detailed=true, /metrics and the service's status.
  auto health = parse_json(cluster.admin().get("/health?detailed=true"));
  EXPECT_EQ(health.at("status").as_string(), "degraded");
  const auto& problems = health.at("components").at("gateway").at("problems").as_array();
  ASSERT_EQ(problems.size(), 1u) << json::serialize(health);
  EXPECT_EQ(problems[0].at("service").as_string(), "shop");
  EXPECT_EQ(problems[0].at("version").as_string(), "v2");
  const std::string metrics = cluster.admin().get("/metrics").body;
  EXPECT_NE(metrics.find("rampart_upstream_resolved{service=\"shop\",version=\"v2\",upstream="
                         "\"locahost.invalid:" +
                         std::to_string(s1_) + "\"} 0"),
            std::string::npos);
  auto status = parse_json(call("GET", "/api/v1/services/shop"));
  const auto& up = status.at("metrics").at("v2").at("upstreams").at(0);
  EXPECT_EQ(up.at("state").as_string(), "unresolved");
  auto cli = run_to_completion({rampart_bin(), "status", "shop", "--data", cluster.data_dir()});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("warning: v2 upstream locahost.invalid:" + std::to_string(s1_) +
                         " does not resolve"),
            std::string::npos)
      << cli.out;

  // Mended by the next apply; the gateway is healthy again.
  ASSERT_EQ(apply(services("localhost", 100)).status, 200u);
  EXPECT_EQ(served("/shop/")["v2"], 20);
  EXPECT_EQ(parse_json(cluster.admin().get("/health")).at("status").as_string(), "ok");
}

TEST_F(ChangePathTest, AServerStartsWithAStateThatDoesNotResolve) {
  ASSERT_EQ(apply(services("shop.invalid")).status, 200u);
  cluster.stop_gateway(SIGKILL);
  cluster.restart_gateway();  // only --data
  EXPECT_EQ(served("/web/")["w1"], 20);
  EXPECT_EQ(cluster.client().get("/shop/").status, 503u);
  auto health = parse_json(cluster.admin().get("/health?detailed=true"));
  EXPECT_EQ(health.at("components").at("gateway").at("problems").as_array().size(), 1u);
}

TEST_F(ChangePathTest, ASecondServerOnTheSamePortIsRefusedBeforeItStarts) {
  TempDir other;
  const std::string listen = "127.0.0.1:" + std::to_string(cluster.port());
  auto second = run_to_completion({rampart_bin(), "server", "--data", other.file("data"),
                                   "--listen", listen, "--admin", "127.0.0.1:0"},
                                  10s);
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("rampart: cannot listen on " + listen + ": Address already in use"),
            std::string::npos)
      << second.err;
  // Nothing was started or written for it, and the first server keeps every connection.
  EXPECT_FALSE(std::filesystem::exists(other.file("data/rampart.db")));
  EXPECT_EQ(served("/web/", 40)["w1"], 40);
}

TEST_F(ChangePathTest, ASecondServerOnTheSameDataDirectoryFailsAtOnce) {
  const auto t0 = std::chrono::steady_clock::now();
  auto second = run_to_completion({rampart_bin(), "server", "--data", cluster.data_dir(),
                                   "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"},
                                  10s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find(cluster.data_dir() + " is in use by another rampart (pid " +
                            std::to_string(cluster.gateway().pid()) + ")"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(served("/web/")["w1"], 20);
}

TEST_F(ChangePathTest, ReloadWorksAfterARestartWithOnlyTheDataDirectory) {
  cluster.stop_gateway(SIGTERM);
  cluster.restart_gateway();  // the config file's path is remembered in the data directory
  cluster.reload(services("127.0.0.1", 100));
  EXPECT_EQ(served("/web/")["w2"], 20);
  auto health = parse_json(cluster.admin().get("/health?detailed=true"));
  EXPECT_EQ(health.at("components").at("config").at("source").as_string(),
            std::filesystem::absolute(cluster.config_path()).string());
}

TEST_F(ChangePathTest, OwnEndpointsServeOnlyTheirMethodsAndSayWhichInAllow) {
  struct Case {
    std::string method, target, allow;
  };
  for (const Case& c : std::vector<Case>{{"POST", "/health", "GET, HEAD"},
                                         {"POST", "/metrics", "GET, HEAD"},
                                         {"GET", "/reload", "POST"}}) {
    Reply r = cluster.admin().request(c.method, c.target);
    EXPECT_EQ(r.status, 405u) << c.method << " " << c.target;
    EXPECT_EQ(r.header("Allow"), c.allow) << c.method << " " << c.target;
  }
  EXPECT_EQ(cluster.admin().get("/health?lmit=1").status, 400u);
  EXPECT_TRUE(
      parse_json(cluster.admin().get("/health?detailed=1")).as_object().contains("components"));
  EXPECT_FALSE(
      parse_json(cluster.admin().get("/health?detailed=false")).as_object().contains("components"));
}

}  // namespace
}  // namespace rampart::testing
