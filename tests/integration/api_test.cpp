// The admin API end to end: a real rampart on a real data directory, real demo-app upstreams.
// Every change goes through /api/v1 into the store and is served by the gateway once it is
// acknowledged; restarts need only --data; a store that cannot write degrades, not fails.

#include "harness.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

namespace rampart::testing {
namespace {

namespace json = boost::json;

json::value parse_json(const Reply& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return v;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1_ = cluster.start_app("v1");
    v2_ = cluster.start_app("v2");
    cluster.start_gateway(
        service_config("shop", "\"/\"", "none", {{"v1", {v1_}, 100}, {"v2", {v2_}, 0}}));
  }

  Reply call(const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& token = "") {
    auto headers = cluster.auth(token);
    headers["Content-Type"] = "application/json";
    return cluster.admin().request(method, target, headers, body);
  }

  // POSTs a split and answers the created deployment (fails the test otherwise).
  json::object split(int v1, int v2, const std::string& extra = "") {
    Reply r = call("POST", "/api/v1/services/shop/deployments",
                   "{\"split\": {\"v1\": " + std::to_string(v1) +
                       ", \"v2\": " + std::to_string(v2) + "}" + extra + "}");
    EXPECT_EQ(r.status, 201u) << r.body;
    auto v = parse_json(r);
    return v.is_object() ? v.as_object() : json::object{};
  }

  // The versions that answered `n` requests through the gateway.
  std::map<std::string, int> served(int n) {
    auto c = cluster.client();
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      Reply r = c.get("/");
      EXPECT_EQ(r.status, 200u) << r.error << r.body;
      seen[r.header("X-Rampart-Version")]++;
    }
    return seen;
  }

  Cluster cluster;
  int v1_ = 0, v2_ = 0;
};

TEST_F(ApiTest, BootstrapTokenIsWrittenWithMode0600) {
  auto st = std::filesystem::status(cluster.data_dir() + "/admin.token");
  EXPECT_EQ(st.permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(cluster.admin_token().size(), 64u);
}

TEST_F(ApiTest, TokensAndRoles) {
  EXPECT_EQ(cluster.admin().get("/api/v1/services").status, 401u);
  EXPECT_EQ(call("GET", "/api/v1/services", "", "not-a-token").status, 401u);

  Reply ro = call("POST", "/api/v1/tokens", R"({"name": "dash", "role": "read-only"})");
  ASSERT_EQ(ro.status, 201u) << ro.body;
  const std::string ro_secret(parse_json(ro).at("token").as_string());
  // The answer is the token as stored (never its hash), with the secret.
  EXPECT_EQ(parse_json(ro).at("name").as_string(), "dash");
  EXPECT_EQ(parse_json(ro).at("role").as_string(), "read-only");
  EXPECT_TRUE(parse_json(ro).as_object().contains("created_at")) << ro.body;
  EXPECT_FALSE(parse_json(ro).as_object().contains("sha256")) << ro.body;
  Reply dep = call("POST", "/api/v1/tokens", R"({"name": "ci", "role": "deployer"})");
  ASSERT_EQ(dep.status, 201u) << dep.body;
  const std::string dep_secret(parse_json(dep).at("token").as_string());
  EXPECT_EQ(call("POST", "/api/v1/tokens", R"({"name": "ci", "role": "deployer"})").status, 409u);

  EXPECT_EQ(call("GET", "/api/v1/services/shop", "", ro_secret).status, 200u);
  Reply denied =
      call("POST", "/api/v1/services/shop/deployments", R"({"split": {"v2": 100}})", ro_secret);
  EXPECT_EQ(denied.status, 403u);
  EXPECT_NE(denied.body.find("read-only"), std::string::npos) << denied.body;
  EXPECT_EQ(
      call("POST", "/api/v1/services/shop/deployments", R"({"split": {"v2": 100}})", dep_secret)
          .status,
      201u);
  EXPECT_EQ(call("POST", "/api/v1/tokens", R"({"name": "x", "role": "admin"})", dep_secret).status,
            403u);
  EXPECT_EQ(call("GET", "/api/v1/tokens", "", dep_secret).status, 403u);

  // The deployer's split is audited under its token's name.
  Reply audit = call("GET", "/api/v1/audit");
  ASSERT_EQ(audit.status, 200u);
  const auto audit_json = parse_json(audit);
  const auto& events = audit_json.at("events").as_array();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().at("actor").as_string(), "ci");
  EXPECT_EQ(events.back().at("action").as_string(), "split");
}

TEST_F(ApiTest, AnAcknowledgedSplitIsServedByTheNextRequest) {
  for (int i = 0; i < 20; ++i) {
    const bool to_v2 = i % 2 == 0;
    auto d = split(to_v2 ? 0 : 100, to_v2 ? 100 : 0);
    ASSERT_EQ(d.at("cause").as_string(), "split");
    // No waiting between the answer and the requests.
    auto seen = served(5);
    EXPECT_EQ(seen[to_v2 ? "v2" : "v1"], 5) << "after deployment " << json::serialize(d);
  }
}

TEST_F(ApiTest, SplitIsHonouredAndShownAsPercents) {
  auto d = split(70, 30, R"(, "message": "canary")");
  EXPECT_EQ(json::serialize(d.at("split")), R"({"v1":70,"v2":30})");
  EXPECT_EQ(d.at("message").as_string(), "canary");
  EXPECT_EQ(d.at("id").as_int64(), 2);
  auto seen = served(2000);
  EXPECT_NEAR(seen["v2"], 600, 100);

  Reply half =
      call("POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": 87.5, "v2": 12.5}})");
  ASSERT_EQ(half.status, 201u) << half.body;
  EXPECT_NE(half.body.find(R"("split":{"v1":87.5,"v2":12.5})"), std::string::npos) << half.body;
}

TEST_F(ApiTest, BadRequestsGetTheirStatusAndAField) {
  struct Case {
    std::string method, target, body;
    unsigned status;
    std::string field;  // expected "field", or "" for none
    std::string in_detail;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": 50, "v2": 40}})", 400,
       "split", "sums to 9000 bp (90%)"},
      {"POST", "/api/v1/services/shop/deployments", R"({"split": {"v9": 100}})", 400, "split",
       "v9"},
      {"POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": 100.001}})", 400, "split",
       "percent"},
      {"POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": "all"}})", 400, "split",
       "number"},
      {"POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": 12.345, "v2": 87.655}})",
       400, "split", "two decimals"},
      {"POST", "/api/v1/services/shop/deployments", "{not json", 400, "body", "JSON"},
      {"POST", "/api/v1/services/shop/deployments", R"({"spilt": {}})", 400, "spilt",
       "unknown field"},
      {"POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": 100}, "message": 5})", 400,
       "message", "string"},
      {"POST", "/api/v1/services/nope/deployments", R"({"split": {"v1": 100}})", 404, "",
       "\"nope\""},
      {"GET", "/api/v1/services/nope", "", 404, "", "\"nope\""},
      {"GET", "/api/v1/services/shop/deployments/99", "", 404, "", "99"},
      {"GET", "/api/v1/services/shop/versions/v9", "", 404, "", "v9"},
      {"GET", "/api/v1/nothing", "", 404, "", "docs/api.md"},
      {"DELETE", "/api/v1/services/shop/deployments", "", 405, "", "GET, POST"},
      {"POST", "/api/v1/services/shop/deployments",
       R"({"split": {"v1": 100}, "expected_revision": 1})", 409, "", "expected"},
      {"POST", "/api/v1/services/shop/rollback", R"({"deployment_id": 7})", 404, "", "7"},
      {"POST", "/api/v1/tokens", R"({"name": "n", "role": "root"})", 400, "role", "root"},
      {"GET", "/api/v1/audit?limit=-1", "", 400, "limit", "-1"},
      {"GET", "/api/v1/audit?limit=0", "", 400, "limit", "1 to 10000"},
      {"GET", "/api/v1/services/shop/deployments?limit=10001", "", 400, "limit", "1 to 10000"},
      {"POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": 50, "v1": 50}})", 400,
       "split.v1", "appears twice"},
      {"POST", "/api/v1/tokens", R"({"name": "a", "name": "b", "role": "admin"})", 400, "name",
       "appears twice"},
      {"GET", "/api/v1/audit?lmit=1", "", 400, "lmit", "unknown query parameter"},
      {"GET", "/api/v1/services?x=1", "", 400, "x", "takes none"},
      {"GET", "/health?detailed=true&verbose=1", "", 400, "verbose", "unknown query parameter"},
      {"POST", "/api/v1/tokens", R"({"name": "t", "role": "admin", "expires_at": "tomorrow"})", 400,
       "expires_at", "RFC 3339"},
      {"POST", "/api/v1/tokens",
       R"({"name": "t", "role": "admin", "expires_at": "2020-01-01T00:00:00Z"})", 400, "expires_at",
       "not in the future"},
      {"DELETE", "/api/v1/tokens/nobody", "", 404, "", "nobody"},
      {"GET", "/api/v1/tokens/bootstrap", "", 405, "", "DELETE"},
      {"POST", "/api/v1/services//deployments", R"({"split": {"v1": 100}})", 404, "",
       "a path segment is empty"},
      {"GET", "/api/v1/services/%C3%BCn%C3%AF", "", 400, "service", "\"\u00fcn\u00ef\""},
  };
  for (const auto& c : cases) {
    Reply r = call(c.method, c.target, c.body);
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body + " -> " + r.body);
    EXPECT_EQ(r.status, c.status);
    auto v = parse_json(r);
    ASSERT_TRUE(v.is_object());
    const auto& o = v.as_object();
    EXPECT_TRUE(o.contains("error"));
    if (c.field.empty()) {
      EXPECT_FALSE(o.contains("field"));
    } else {
      ASSERT_TRUE(o.contains("field"));
      EXPECT_EQ(o.at("field").as_string(), c.field);
    }
    EXPECT_NE(std::string(o.at("detail").as_string()).find(c.in_detail), std::string::npos);
  }
  // Nothing above changed anything: one deployment, the seed.
  Reply list = call("GET", "/api/v1/services/shop/deployments");
  EXPECT_EQ(parse_json(list).at("deployments").as_array().size(), 1u);
}

TEST_F(ApiTest, ExpectedRevisionGuardsAgainstALostUpdate) {
  Reply shop = call("GET", "/api/v1/services/shop");
  const auto rev = parse_json(shop).at("latest").at("revision").as_int64();
  auto first = split(50, 50, ", \"expected_revision\": " + std::to_string(rev));
  EXPECT_EQ(first.at("id").as_int64(), 2);
  Reply stale =
      call("POST", "/api/v1/services/shop/deployments",
           R"({"split": {"v1": 0, "v2": 100}, "expected_revision": )" + std::to_string(rev) + "}");
  EXPECT_EQ(stale.status, 409u) << stale.body;
  auto seen = served(400);  // still the 50/50 of the write that won
  EXPECT_GT(seen["v1"], 100);
  EXPECT_GT(seen["v2"], 100);
}

TEST_F(ApiTest, RollbackAndCheckpoints) {
  split(50, 50);  // 2
  Reply cp = call("POST", "/api/v1/services/shop/checkpoints", R"({"note": "half"})");
  ASSERT_EQ(cp.status, 201u) << cp.body;
  EXPECT_EQ(parse_json(cp).at("deployment_id").as_int64(), 2);
  split(0, 100);  // 3

  Reply back = call("POST", "/api/v1/services/shop/rollback", R"({"message": "v2 is slow"})");
  ASSERT_EQ(back.status, 201u) << back.body;
  auto d = parse_json(back);
  EXPECT_EQ(d.at("id").as_int64(), 4);
  EXPECT_EQ(d.at("cause").as_string(), "rollback");
  EXPECT_EQ(d.at("rolled_back_to").as_int64(), 2);
  EXPECT_EQ(d.at("message").as_string(), "v2 is slow");

  Reply to_one = call("POST", "/api/v1/services/shop/rollback", R"({"deployment_id": 1})");
  ASSERT_EQ(to_one.status, 201u) << to_one.body;
  EXPECT_EQ(served(20)["v1"], 20);

  Reply to_cp = call("POST", "/api/v1/services/shop/rollback", R"({"checkpoint_id": 1})");
  ASSERT_EQ(to_cp.status, 201u) << to_cp.body;
  EXPECT_EQ(json::serialize(parse_json(to_cp).at("split")), R"({"v1":50,"v2":50})");

  Reply shop = call("GET", "/api/v1/services/shop");
  auto s = parse_json(shop);
  EXPECT_EQ(s.at("analytics").at("deployments").as_int64(), 6);
  EXPECT_EQ(s.at("analytics").at("rollbacks").as_int64(), 3);
  EXPECT_EQ(s.at("checkpoints").as_int64(), 1);
  EXPECT_TRUE(s.at("metrics").as_object().contains("v1"));
}

TEST_F(ApiTest, ApplyThroughTheApi) {
  const std::string changed =
      service_config("shop", "\"/\"", "none", {{"v1", {v1_}, 40}, {"v2", {v2_}, 60}});
  json::object body{{"config", changed}, {"source", "shop.toml"}, {"message", "move"}};
  Reply r = call("POST", "/api/v1/apply", json::serialize(body));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto v = parse_json(r);
  EXPECT_TRUE(v.at("changed").as_bool());
  ASSERT_EQ(v.at("deployments").as_array().size(), 1u);
  EXPECT_EQ(v.at("deployments").at(0).at("cause").as_string(), "apply");
  Reply again = call("POST", "/api/v1/apply", json::serialize(body));
  EXPECT_FALSE(parse_json(again).at("changed").as_bool()) << again.body;

  json::object bad{{"config", "[[service]]\nname = \"shop\"\nroutes = 5\n"},
                   {"source", "shop.toml"}};
  Reply invalid = call("POST", "/api/v1/apply", json::serialize(bad));
  EXPECT_EQ(invalid.status, 400u);
  EXPECT_EQ(parse_json(invalid).at("error").as_string(), "invalid_config");
  EXPECT_NE(invalid.body.find("shop.toml:3:"), std::string::npos) << invalid.body;
}

TEST_F(ApiTest, ARestartWithOnlyTheDataDirectoryServesTheLastState) {
  split(0, 100);
  cluster.stop_gateway(SIGTERM);
  // The config file says 100% v1; a restart does not re-seed from it (and does not need it).
  std::filesystem::remove(cluster.config_path());
  cluster.restart_gateway();
  EXPECT_EQ(served(20)["v2"], 20);
  Reply list = call("GET", "/api/v1/services/shop/deployments");
  EXPECT_EQ(parse_json(list).at("deployments").as_array().size(), 2u);
}

TEST_F(ApiTest, ARemovedStoreFileDegradesWithoutStoppingTheGateway) {
  std::filesystem::remove(cluster.data_dir() + "/rampart.db");
  std::filesystem::remove(cluster.data_dir() + "/rampart.db-wal");
  Reply r = call("POST", "/api/v1/services/shop/deployments", R"({"split": {"v2": 100}})");
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_NE(r.body.find("removed"), std::string::npos) << r.body;
  auto health = parse_json(cluster.admin().get("/health?detailed=true"));
  EXPECT_EQ(health.at("status").as_string(), "degraded");
  EXPECT_EQ(health.at("components").at("store").at("status").as_string(), "degraded");
  // The gateway keeps serving the last published split; reads still answer.
  EXPECT_EQ(served(20)["v1"], 20);
  EXPECT_EQ(call("GET", "/api/v1/services/shop").status, 200u);
}

TEST_F(ApiTest, AFullDiskAnswers503AndRecoversWhenSpaceReturns) {
  const std::string pid = std::to_string(cluster.gateway().pid());
  auto prlimit = [&](const std::string& value) {
    const std::string cmd = "prlimit --pid " + pid + " --fsize=" + value;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  };
  // No file may grow: every commit (WAL append) fails with EFBIG, as on a full disk.
  prlimit("0:unlimited");
  Reply r = call("POST", "/api/v1/services/shop/deployments", R"({"split": {"v2": 100}})");
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(parse_json(cluster.admin().get("/health?detailed=true")).at("status").as_string(),
            "degraded");
  EXPECT_EQ(served(20)["v1"], 20);

  prlimit("unlimited:unlimited");
  split(0, 100);
  EXPECT_EQ(parse_json(cluster.admin().get("/health?detailed=true")).at("status").as_string(),
            "ok");
  EXPECT_EQ(served(20)["v2"], 20);
}

TEST_F(ApiTest, Every405CarriesAllowAndOnlyDocumentedMethodsAreServed) {
  struct Case {
    std::string method, target, allow;
  };
  for (const auto& c : std::vector<Case>{
           {"POST", "/health", "GET, HEAD"},
           {"DELETE", "/health", "GET, HEAD"},
           {"POST", "/metrics", "GET, HEAD"},
           {"GET", "/reload", "POST"},
           {"PUT", "/api/v1/tokens", "GET, POST"},
           {"POST", "/api/v1/audit", "GET"},
           {"POST", "/api/v1/services/shop", "GET"},
           {"DELETE", "/api/v1/services/shop/checkpoints", "GET, POST"},
       }) {
    Reply r = call(c.method, c.target, c.method == "GET" ? "" : "{}");
    SCOPED_TRACE(c.method + " " + c.target + " -> " + r.body);
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(r.header("Allow"), c.allow);
    EXPECT_EQ(parse_json(r).at("error").as_string(), "method_not_allowed");
  }
  EXPECT_EQ(call("GET", "/health").status, 200u);
  EXPECT_EQ(call("HEAD", "/metrics").status, 200u);
}

TEST_F(ApiTest, DetailedHealthTakesTrue) {
  Reply r = call("GET", "/health?detailed=true");
  ASSERT_EQ(r.status, 200u);
  EXPECT_TRUE(parse_json(r).as_object().contains("components")) << r.body;
}

TEST_F(ApiTest, TheSplitServedAgainChangesNothingUnlessForced) {
  Reply same = call("POST", "/api/v1/services/shop/deployments", R"({"split": {"v1": 100}})");
  ASSERT_EQ(same.status, 200u) << same.body;
  auto unchanged = parse_json(same);
  EXPECT_FALSE(unchanged.at("changed").as_bool());
  EXPECT_EQ(unchanged.at("id").as_int64(), 1);
  auto forced = split(100, 0, R"(, "force": true)");
  EXPECT_TRUE(forced.at("changed").as_bool());
  EXPECT_EQ(forced.at("id").as_int64(), 2);
  auto changed = split(50, 50);
  EXPECT_TRUE(changed.at("changed").as_bool());
  EXPECT_EQ(changed.at("id").as_int64(), 3);
  Reply list = call("GET", "/api/v1/services/shop/deployments");
  EXPECT_EQ(parse_json(list).at("deployments").as_array().size(), 3u);
}

TEST_F(ApiTest, TokensAreRevokedAtOnceAndExpire) {
  Reply created =
      call("POST", "/api/v1/tokens",
           R"({"name": "ci", "role": "deployer", "expires_at": "2999-01-01T00:00:00Z"})");
  ASSERT_EQ(created.status, 201u) << created.body;
  auto token = parse_json(created);
  EXPECT_EQ(token.at("expires_at").as_string(), "2999-01-01T00:00:00.000Z");
  EXPECT_TRUE(token.at("revoked_at").is_null());
  const std::string secret(token.at("token").as_string());
  EXPECT_EQ(call("GET", "/api/v1/services", "", secret).status, 200u);

  Reply revoked = call("DELETE", "/api/v1/tokens/ci");
  ASSERT_EQ(revoked.status, 200u) << revoked.body;
  EXPECT_TRUE(parse_json(revoked).at("revoked_at").is_string());
  Reply refused = call("GET", "/api/v1/services", "", secret);
  EXPECT_EQ(refused.status, 401u);
  EXPECT_NE(refused.body.find("token \\\"ci\\\" was revoked"), std::string::npos) << refused.body;
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/ci").status, 409u);
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/bootstrap").status, 409u);  // the last admin

  // A token that expires in a moment.
  const auto soon = std::chrono::system_clock::now() + std::chrono::milliseconds(1500);
  const std::time_t t = std::chrono::system_clock::to_time_t(soon);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  Reply brief =
      call("POST", "/api/v1/tokens",
           std::string(R"({"name": "brief", "role": "read-only", "expires_at": ")") + when + "\"}");
  ASSERT_EQ(brief.status, 201u) << brief.body;
  const std::string brief_secret(parse_json(brief).at("token").as_string());
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  Reply expired = call("GET", "/api/v1/services", "", brief_secret);
  EXPECT_EQ(expired.status, 401u);
  EXPECT_NE(expired.body.find("has expired"), std::string::npos) << expired.body;

  Reply audit = call("GET", "/api/v1/audit");
  EXPECT_NE(audit.body.find(R"("action":"token.revoke")"), std::string::npos) << audit.body;
}

TEST_F(ApiTest, AuditEventsShowRecordsInTheApiFormat) {
  split(70, 30);
  Reply r = call("GET", "/api/v1/audit");
  ASSERT_EQ(r.status, 200u);
  const auto events = parse_json(r).at("events").as_array();
  ASSERT_GE(events.size(), 2u);
  const auto& e = events.back().as_object();
  EXPECT_EQ(e.at("action").as_string(), "split");
  const auto& before = e.at("before").as_object();
  const auto& after = e.at("after").as_object();
  EXPECT_EQ(json::serialize(before.at("split")), R"({"v1":100,"v2":0})");
  EXPECT_EQ(json::serialize(after.at("split")), R"({"v1":70,"v2":30})");
  EXPECT_TRUE(after.at("created_at").is_string());
  EXPECT_FALSE(after.contains("schema"));
  // The apply's records too: times as text, routes as "host/prefix", no storage fields.
  const auto apply = std::find_if(events.begin(), events.end(), [](const json::value& v) {
    return v.at("action").as_string() == "apply";
  });
  ASSERT_NE(apply, events.end());
  const auto& seed = apply->at("after").as_object();
  EXPECT_EQ(json::serialize(seed.at("services").at(0).at("routes")), R"(["/"])");
  EXPECT_TRUE(seed.at("versions").at(0).at("created_at").is_string());
  EXPECT_EQ(r.body.find("basis_points"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"schema\""), std::string::npos) << r.body;
}

// A plain TCP connection to the admin listener.
boost::asio::ip::tcp::socket admin_socket(boost::asio::io_context& ioc, int port) {
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  return s;
}

// Reads until the peer closes (or 20 s pass); answers what it sent and when it closed.
std::pair<std::string, std::chrono::steady_clock::duration> read_until_closed(
    boost::asio::ip::tcp::socket& s, std::chrono::steady_clock::time_point start) {
  std::string got;
  char buf[4096];
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = s.read_some(boost::asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec) {
      return {got, std::chrono::steady_clock::now() - start};
    }
  }
}

TEST_F(ApiTest, TheAdminListenerHasTheGatewaysDeadlines) {
  // header_timeout_ms defaults to 10 s: an idle connection is closed then, and a header
  // trickled in over longer is never answered.
  using namespace std::chrono;
  boost::asio::io_context ioc;
  auto idle = admin_socket(ioc, cluster.admin_port());
  auto trickle = admin_socket(ioc, cluster.admin_port());
  const auto start = steady_clock::now();
  std::thread writer([&] {
    const std::string request =
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(40, 'a') + "\r\n\r\n";
    for (char c : request) {
      boost::system::error_code ec;
      boost::asio::write(trickle, boost::asio::buffer(&c, 1), ec);
      if (ec) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(250));  // 17 s for the whole header
    }
  });
  auto [idle_got, idle_after] = read_until_closed(idle, start);
  auto [trickle_got, trickle_after] = read_until_closed(trickle, start);
  writer.join();
  EXPECT_EQ(idle_got, "");
  EXPECT_GE(idle_after, seconds(9));
  EXPECT_LT(idle_after, seconds(13));
  EXPECT_EQ(trickle_got, "");  // never answered
  EXPECT_LT(trickle_after, seconds(13));
}

}  // namespace
}  // namespace rampart::testing
