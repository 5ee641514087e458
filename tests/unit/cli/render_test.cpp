#include "cli/render.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace rampart::cli {
namespace {

namespace json = boost::json;

// 2026-11-23T15:20:01.123Z
constexpr std::int64_t kNow = 1795447201123;

struct LineCase {
  const char* deployment;  // JSON
  const char* line;
};

TEST(Render, DeploymentLine) {
  const LineCase cases[] = {
      {R"({"service":"shop","id":3,"split":{"v1":90,"v2":10},"cause":"apply"})",
       "shop: deployment 3 (apply) v1 90%, v2 10%"},
      {R"({"service":"shop","id":5,"split":{"v1":87.5,"v2":12.5},"cause":"split"})",
       "shop: deployment 5 (split) v1 87.5%, v2 12.5%"},
      {R"({"service":"shop","id":6,"split":{"v1":33.33,"v2":66.67},"cause":"split"})",
       "shop: deployment 6 (split) v1 33.33%, v2 66.67%"},
      {R"({"service":"shop","id":7,"split":{"v2":100,"v1":0},"cause":"split"})",
       "shop: deployment 7 (split) v2 100%, v1 0%"},
      {R"({"service":"shop","id":4,"split":{"v1":100,"v2":0},"cause":"rollback",
           "rolled_back_from":3,"rolled_back_to":2})",
       "shop: deployment 4 (rollback) v1 100%, v2 0%; rolled back from 3 to 2"},
      {R"({"service":"shop","id":4.0,"split":{},"cause":"split"})", "shop: deployment 4 (split) -"},
      {R"({"id":9})", "-: deployment 9 (-) -"},
      {R"([1,2])", "-: deployment - (-) -"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.deployment);
    EXPECT_EQ(deployment_line(json::parse(c.deployment)), c.line);
  }
}

TEST(Render, CheckpointAndTokenAndApply) {
  EXPECT_EQ(checkpoint_line(json::parse(
                R"({"service":"shop","id":2,"deployment_id":7,"note":"n","author":"a"})")),
            "shop: checkpoint 2 of deployment 7");
  std::string t = token_created(json::parse(
      R"({"name":"ci","role":"deployer","created_at":"2026-11-23T15:20:01.123Z","token":"9f2c"})"));
  EXPECT_EQ(t.substr(0, t.find('\n')), "token \"ci\" (deployer): 9f2c");
  EXPECT_NE(t.find("only"), std::string::npos);

  EXPECT_EQ(apply_summary(json::parse(R"({"changed":false,"revision":9,"deployments":[]})"),
                          "rampart.toml"),
            "no change: the store already holds rampart.toml\n");
  EXPECT_EQ(apply_summary(json::parse(R"({"changed":true,"revision":10,"deployments":[
              {"service":"shop","id":3,"split":{"v1":90,"v2":10},"cause":"apply"},
              {"service":"api","id":1,"split":{"a":100},"cause":"apply"}]})"),
                          "rampart.toml"),
            "shop: deployment 3 (apply) v1 90%, v2 10%\napi: deployment 1 (apply) a 100%\n");
  EXPECT_EQ(
      apply_summary(json::parse(R"({"changed":true,"revision":11,"deployments":[]})"), "x.toml"),
      "x.toml applied at revision 11: no split changed\n");

  EXPECT_EQ(reload_summary(json::parse(R"({"status":"reloaded","generation":4})")),
            "reloaded: routes generation 4\n");
  EXPECT_EQ(reload_summary(json::parse(R"({"changed":false,"revision":3,"deployments":[]})")),
            "reloaded: no change, the store already holds the server's config file\n");
}

TEST(Render, ServicesTable) {
  auto services = json::parse(R"([
    {"name":"shop","routes":["shop.example.com/","/shop/"],"sticky":"ip","balance":"least_request",
     "latest":{"service":"shop","id":5,"split":{"v1":90,"v2":10},"cause":"split",
               "created_at":"2026-11-23T15:19:49.123Z"}},
    {"name":"api","routes":["/api/"],"sticky":"none","latest":null}])");
  EXPECT_EQ(services_table(services, kNow),
            "NAME  ROUTES                    DEPLOYMENT  SPLIT           AGE\n"
            "shop  shop.example.com/,/shop/  5 (split)   v1 90%, v2 10%  12s\n"
            "api   /api/                     none        -               -\n");
  EXPECT_EQ(services_table(json::parse("[]"), kNow), "NAME  ROUTES  DEPLOYMENT  SPLIT  AGE\n");
}

TEST(Render, DeploymentsAndAuditAndTokensTables) {
  auto deployments = json::parse(R"([
    {"service":"shop","id":2,"split":{"v1":90,"v2":10},"cause":"split","message":"canary",
     "author":"ci","created_at":"2026-11-23T15:20:01.123Z","revision":7},
    {"service":"shop","id":1,"split":{"v1":100,"v2":0},"cause":"apply","message":"",
     "author":"rampart","created_at":"2026-11-23T15:00:00.000Z","revision":3}])");
  EXPECT_EQ(deployments_table(deployments),
            "ID  CREATED                   CAUSE  AUTHOR   SPLIT           MESSAGE\n"
            "2   2026-11-23T15:20:01.123Z  split  ci       v1 90%, v2 10%  canary\n"
            "1   2026-11-23T15:00:00.000Z  apply  rampart  v1 100%, v2 0%\n");

  auto events = json::parse(R"([
    {"seq":1,"at":"2026-11-23T15:00:00.000Z","actor":"rampart","action":"apply","target":"shop",
     "before":null,"after":{},"revision":3},
    {"seq":2,"at":"2026-11-23T15:20:01.123Z","actor":"ci","action":"token.create",
     "target":"ro","before":null,"after":{},"revision":8}])");
  EXPECT_EQ(audit_table(events),
            "SEQ  AT                        ACTOR    ACTION        TARGET\n"
            "1    2026-11-23T15:00:00.000Z  rampart  apply         shop\n"
            "2    2026-11-23T15:20:01.123Z  ci       token.create  ro\n");

  auto tokens = json::parse(
      R"([{"name":"bootstrap","role":"admin","created_at":"2026-11-23T15:00:00.000Z",)"
      R"("expires_at":null,"revoked_at":null},)"
      R"({"name":"ci","role":"deployer","created_at":"2026-11-23T15:00:00.000Z",)"
      R"("expires_at":"2026-12-23T15:00:00.000Z","revoked_at":"2026-11-24T15:00:00.000Z"}])");
  EXPECT_EQ(tokens_table(tokens),
            "NAME       ROLE      CREATED                   EXPIRES                   STATE\n"
            "bootstrap  admin     2026-11-23T15:00:00.000Z  never                     active\n"
            "ci         deployer  2026-11-23T15:00:00.000Z  2026-12-23T15:00:00.000Z  revoked "
            "2026-11-24T15:00:00.000Z\n");
}

TEST(Render, ServiceDetailWarnsOfUpstreamsWithoutAnAddress) {
  auto service = json::parse(R"({
    "name":"shop","routes":["/shop/"],"sticky":"none",
    "latest":{"service":"shop","id":2,"split":{"v1":0,"v2":100},"cause":"apply","message":"",
              "author":"bootstrap","created_at":"2026-11-23T15:17:01.123Z","revision":9},
    "versions":[{"name":"v1","upstreams":["http://127.0.0.1:9001"]},
                {"name":"v2","upstreams":["http://locahost:9002"]}],
    "metrics":{"v1":{"requests":0,"upstreams":[{"upstream":"127.0.0.1:9001","state":"ok","problem":null}]},
               "v2":{"requests":3,"5xx":3,"upstreams":[{"upstream":"locahost:9002","state":"unresolved",
                     "problem":"does not resolve: Name or service not known"}]}}})");
  const std::string out = service_detail(service, kNow);
  EXPECT_NE(out.find("warning: v2 upstream locahost:9002 does not resolve: Name or service not "
                     "known: its requests get 503 until it resolves\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("warning: v1"), std::string::npos) << out;
}

TEST(Render, ServiceDetail) {
  auto service = json::parse(R"({
    "name":"shop","routes":["shop.example.com/","/shop/"],"sticky":"ip","balance":"least_request",
    "latest":{"service":"shop","id":5,"split":{"v1":90,"v2":10},"cause":"split",
              "message":"canary at 10%","author":"bootstrap",
              "created_at":"2026-11-23T15:17:01.123Z","revision":9},
    "versions":[
      {"service":"shop","name":"v1","ordinal":1,"upstreams":["http://127.0.0.1:9001","http://127.0.0.1:9011"]},
      {"service":"shop","name":"v2","ordinal":2,"upstreams":["http://127.0.0.1:9002"]},
      {"service":"shop","name":"v3","ordinal":3,"upstreams":["http://127.0.0.1:9003"]}],
    "checkpoints":2,
    "analytics":{"deployments":5,"rollbacks":1,"rolled_back":1,"success_rate":0.75},
    "metrics":{"v1":{"requests":1200,"2xx":1190,"4xx":2,"5xx":8,"p50_ms":1.2,"p95_ms":3.4,"p99_ms":7.9},
               "v2":{"requests":0,"2xx":0,"4xx":0,"5xx":0,"p50_ms":0,"p99_ms":0}}})");
  EXPECT_EQ(
      service_detail(service, kNow),
      "service:      shop\n"
      "routes:       shop.example.com/, /shop/\n"
      "sticky:       ip\n"
      "balance:      least_request\n"
      "deployment:   5 (split) by bootstrap, 2026-11-23T15:17:01.123Z (3m ago)\n"
      "message:      canary at 10%\n"
      "checkpoints:  2\n"
      "\n"
      "VERSION  WEIGHT  UPSTREAMS                                    REQUESTS  5XX%   P50    P99\n"
      "v1       90%     http://127.0.0.1:9001,http://127.0.0.1:9011  1200      0.67%  1.2ms  "
      "7.9ms\n"
      "v2       10%     http://127.0.0.1:9002                        0         -      0ms    0ms\n"
      "v3       0%      http://127.0.0.1:9003                        -         -      -      -\n"
      "\n"
      "analytics: 5 deployments, 1 rollback, 1 rolled back, success rate 75%\n");

  auto never = json::parse(R"({"name":"api","routes":["/api/"],"sticky":"none","latest":null,
    "versions":[{"name":"a","upstreams":["http://127.0.0.1:1"]}],"checkpoints":0,
    "analytics":{"deployments":0,"rollbacks":0,"rolled_back":0,"success_rate":null},"metrics":{}})");
  std::string out = service_detail(never, kNow);
  EXPECT_NE(out.find("deployment:   none\n"), std::string::npos) << out;
  EXPECT_NE(out.find("a        -       http://127.0.0.1:1"), std::string::npos) << out;
  EXPECT_NE(out.find("analytics: 0 deployments, 0 rollbacks, 0 rolled back, success rate -\n"),
            std::string::npos)
      << out;
}

struct ErrorCase {
  unsigned status;
  const char* body;
  const char* message;
};

TEST(Render, ApiErrorMessage) {
  ClientSettings settings;
  settings.address = "127.0.0.1:9901";
  settings.token = "abc";
  settings.token_source = "--token";
  const ErrorCase cases[] = {
      {400,
       R"j({"error":"invalid_argument","field":"split","detail":"sums to 9000 bp (90%); it must sum to 10000 bp (100%)"})j",
       "split: sums to 9000 bp (90%); it must sum to 10000 bp (100%)"},
      {400, R"({"error":"invalid_argument","field":"split","detail":"split: sums to 9000 bp"})",
       "split: sums to 9000 bp"},
      {400, R"({"error":"invalid_config","detail":"a.toml:4: unknown key \"x\"\na.toml:9: bad"})",
       "a.toml:4: unknown key \"x\"\na.toml:9: bad"},  // every problem of the file
      {403,
       R"({"error":"forbidden","detail":"token \"ro\" is read-only; splitting needs deployer"})",
       "forbidden: token \"ro\" is read-only; splitting needs deployer"},
      {403, R"({"error":"forbidden","detail":"forbidden: read-only"})", "forbidden: read-only"},
      {404, R"({"error":"not_found","detail":"service \"nope\" not found"})",
       "service \"nope\" not found"},
      {404, R"({"error":"not_found","detail":"unknown service \"nope\""})",
       "unknown service \"nope\""},
      {404, R"({"error":"not_found","detail":"service \"nope\" does not exist"})",
       "service \"nope\" does not exist"},
      {404, R"({"error":"not_found","detail":"no route for GET /api/v1/x"})",
       "not found: no route for GET /api/v1/x"},
      {409, R"({"error":"conflict"})", "conflict"},
      {502, "<html>bad gateway</html>",
       "127.0.0.1:9901 does not answer as a rampart admin API (HTTP 502: <html>bad "
       "gateway</html>); "
       "check --addr, $RAMPART_ADDR or the data directory's admin.addr"},
      {500, "",
       "127.0.0.1:9901 does not answer as a rampart admin API (HTTP 500); check --addr, "
       "$RAMPART_ADDR or the data directory's admin.addr"},
      {500, R"({"something":"else"})",
       "127.0.0.1:9901 does not answer as a rampart admin API (HTTP 500: "
       "{\"something\":\"else\"}); "
       "check --addr, $RAMPART_ADDR or the data directory's admin.addr"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    EXPECT_EQ(api_error_message(c.status, c.body, settings), c.message);
  }
}

TEST(Render, UnauthorizedNamesTheTokenSources) {
  ClientSettings settings;
  settings.address = "127.0.0.1:9901";
  settings.data_dir = "/srv/rampart";
  std::string none =
      api_error_message(401, R"({"error":"unauthorized","detail":"no token"})", settings);
  EXPECT_NE(none.find("needs a token"), std::string::npos) << none;
  EXPECT_NE(none.find("no /srv/rampart/admin.token"), std::string::npos) << none;
  for (const char* source : {"--token", "RAMPART_TOKEN", "--data", "admin.token"}) {
    EXPECT_NE(none.find(source), std::string::npos) << source << ": " << none;
  }
  settings.token = "abc";
  settings.token_source = "/tmp/d/admin.token";
  std::string bad =
      api_error_message(401, R"({"error":"unauthorized","detail":"unknown token"})", settings);
  EXPECT_NE(bad.find("refused the token from /tmp/d/admin.token (unknown token)"),
            std::string::npos)
      << bad;
  EXPECT_EQ(bad.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace rampart::cli
