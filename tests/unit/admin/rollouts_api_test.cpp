// The rollout endpoints without a server: the table's matching, the deploy body's parsing, and
// the JSON and statuses of each endpoint over an in-memory store.

#include "admin/rollouts_api.hpp"

#include "admin/api.hpp"
#include "config/config.hpp"
#include "store/memory_store.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>
#include <string>

namespace rampart::admin {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    parts.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return parts;
}

TEST(MatchEndpoint, Cases) {
  struct Case {
    bhttp::verb method;
    const char* path;
    const char* pattern;  // the entry that serves it; nullptr: none
    const char* allow;    // the methods of the entries the path matches
    std::vector<std::string> params;
  };
  for (const auto& c : std::initializer_list<Case>{
           {bhttp::verb::post,
            "services/shop/rollouts",
            "services/{service}/rollouts",
            "GET, HEAD, POST",
            {"shop"}},
           {bhttp::verb::get,
            "services/shop/rollouts",
            "services/{service}/rollouts",
            "GET, HEAD, POST",
            {"shop"}},
           {bhttp::verb::head,
            "services/shop/rollouts",
            "services/{service}/rollouts",
            "GET, HEAD, POST",
            {"shop"}},
           {bhttp::verb::put, "services/shop/rollouts", nullptr, "GET, HEAD, POST", {}},
           // The literal "latest" before {id}.
           {bhttp::verb::get,
            "services/shop/rollouts/latest",
            "services/{service}/rollouts/latest",
            "GET, HEAD",
            {"shop"}},
           {bhttp::verb::get,
            "services/shop/rollouts/3",
            "services/{service}/rollouts/{id}",
            "GET, HEAD",
            {"shop", "3"}},
           {bhttp::verb::get,
            "services/shop/rollouts/3/events",
            "services/{service}/rollouts/{id}/events",
            "GET, HEAD",
            {"shop", "3"}},
           {bhttp::verb::post,
            "services/shop/rollout/abort",
            "services/{service}/rollout/{command}",
            "POST",
            {"shop", "abort"}},
           {bhttp::verb::get, "services/shop/rollout/abort", nullptr, "POST", {}},
           {bhttp::verb::delete_, "services/shop/rollouts/3", nullptr, "GET, HEAD", {}},
           // Not the table's: the rest of the router serves these.
           {bhttp::verb::get, "services/shop/deployments", nullptr, "", {}},
           {bhttp::verb::get, "services/shop", nullptr, "", {}},
           {bhttp::verb::get, "services/shop/rollouts/3/events/1", nullptr, "", {}},
           {bhttp::verb::post, "services/shop/rollout", nullptr, "", {}},
       }) {
    auto m = match_endpoint(rollout_endpoints(), c.method, segments(c.path));
    SCOPED_TRACE(std::string(bhttp::to_string(c.method)) + " " + c.path);
    if (c.pattern == nullptr) {
      EXPECT_EQ(m.endpoint, nullptr);
    } else {
      ASSERT_NE(m.endpoint, nullptr);
      EXPECT_EQ(m.endpoint->pattern, c.pattern);
      EXPECT_EQ(m.params, c.params);
    }
    EXPECT_EQ(m.allow, c.allow);
  }
}

TEST(DeployRequestFromBody, Cases) {
  struct Case {
    const char* body;
    const char* error;  // a prefix of the error; nullptr: parsed
    const char* steps;  // rollout::describe of the steps asked for; "" without
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"version": "v2"})", nullptr, ""},
           {R"({"version": "v2", "steps": [10, 50, 100]})", nullptr,
            "10% for 5m, 50% for 5m, 100%"},
           {R"({"version": "v2", "steps": [25, 100], "pause": "30s"})", nullptr,
            "25% for 30s, 100%"},
           {R"({})", "version: missing", ""},
           {R"({"version": 2})", "version: must be a string", ""},
           {R"({"version": "v2", "colour": "red"})", "colour: unknown field", ""},
           {R"({"version": "v2", "steps": "10,100"})", "steps: must be an array", ""},
           {R"({"version": "v2", "steps": [10.5, 100]})", "steps: must be an array", ""},
           {R"({"version": "v2", "steps": [50, 10, 100]})", "steps: weights must rise", ""},
           {R"({"version": "v2", "steps": [10, 50]})", "steps: the last step must be 100%", ""},
           {R"({"version": "v2", "steps": [0, 100]})", "steps: \"0\" is not a whole percent", ""},
           {R"({"version": "v2", "pause": "5m"})", "pause: goes with steps", ""},
           {R"({"version": "v2", "steps": [10, 100], "pause": "5 min"})", "pause: \"5 min\"", ""},
           {R"({"version": "v2", "interval": "soon"})", "interval: \"soon\"", ""},
           {R"({"version": "v2", "replace": "yes"})", "replace: must be true or false", ""},
           {R"({"version": "v2", "dry_run": 1})", "dry_run: must be true or false", ""},
           {R"({"version": "v2", "skip_checks": "no"})", "skip_checks: must be true or false", ""},
           {R"({"version": "v2", "upstreams": "http://h:1"})", "upstreams: must be an array", ""},
           {R"({"version": "v2", "upstreams": []})", "upstreams: must be an array of 1 to 64", ""},
           {R"({"version": "v2", "upstreams": [9002]})", "upstreams: each must be a URL", ""},
           {R"({"version": "v2", "pre": {}})", "pre: must be an array", ""},
           {R"({"version": "v2", "pre": [{"name": "t", "passed": true}]})", "pre: must be", ""},
           {R"({"version": "v2", "pre": [{"name": "t", "passed": true, "ms": -1}]})",
            "pre: must be", ""},
           {R"({"version": "v2", "pre": [{"name": "t", "passed": true, "ms": 1, "x": 1}]})",
            "pre: must be", ""},
           {R"({"version": "v2", "pre": [{"name": 1, "passed": true, "ms": 1}]})", "pre: must be",
            ""},
       }) {
    SCOPED_TRACE(c.body);
    auto r = deploy_request("shop", json::parse(c.body).as_object(), "alice");
    if (c.error != nullptr) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
      EXPECT_TRUE(r.error().message.starts_with(c.error)) << r.error().message;
      continue;
    }
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->service, "shop");
    EXPECT_EQ(r->version, "v2");
    EXPECT_EQ(r->actor, "alice");
    EXPECT_EQ(r->steps ? rollout::describe(*r->steps) : "", c.steps);
  }
}

TEST(DeployRequestFromBody, KeepsEveryOverride) {
  auto r = deploy_request("shop",
                          json::parse(R"({"version": "v2", "strategy": "linear25-1m", "interval":
                                         "10s", "replace": true, "force": true,
                                         "message": "faster"})")
                              .as_object(),
                          "alice");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->strategy, "linear25-1m");
  EXPECT_EQ(r->interval, std::chrono::seconds(10));
  EXPECT_TRUE(r->replace);
  EXPECT_TRUE(r->force);
  EXPECT_EQ(r->message, "faster");
}

TEST(DeployRequestFromBody, ReadsTheGatesAndTheDeclaredVersion) {
  auto r = deploy_request("shop",
                          json::parse(R"({"version": "v3", "dry_run": true, "skip_checks": true,
                      "upstreams": ["http://127.0.0.1:9003", "http://127.0.0.1:9004"],
                      "pre": [{"name": "tests", "passed": true, "ms": 1200},
                              {"name": "lint", "passed": false, "ms": 30}]})")
                              .as_object(),
                          "alice");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->dry_run);
  EXPECT_TRUE(r->skip_checks);
  EXPECT_EQ(r->upstreams,
            (std::vector<std::string>{"http://127.0.0.1:9003", "http://127.0.0.1:9004"}));
  ASSERT_EQ(r->pre.size(), 2u);
  EXPECT_EQ(r->pre[0].name, "tests");
  EXPECT_TRUE(r->pre[0].passed);
  EXPECT_EQ(r->pre[0].ms, 1200);
  EXPECT_FALSE(r->pre[1].passed);

  auto plain = deploy_request("shop", json::parse(R"({"version": "v2"})").as_object(), "alice");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->dry_run);
  EXPECT_FALSE(plain->skip_checks);
  EXPECT_TRUE(plain->upstreams.empty());
  EXPECT_TRUE(plain->pre.empty());
}

TEST(DeployRequestFromBody, BoundsThePreResultsAndTheUpstreams) {
  json::array pre(33, json::object{{"name", "t"}, {"passed", true}, {"ms", 1}});
  auto many = deploy_request("shop", json::object{{"version", "v2"}, {"pre", pre}}, "alice");
  ASSERT_FALSE(many);
  EXPECT_TRUE(many.error().message.ends_with("at most 32 of them")) << many.error().message;
  json::array urls(65, json::value("http://127.0.0.1:1"));
  auto wide = deploy_request("shop", json::object{{"version", "v2"}, {"upstreams", urls}}, "a");
  ASSERT_FALSE(wide);
  EXPECT_TRUE(wide.error().message.starts_with("upstreams: must be an array of 1 to 64"));
  auto long_url = deploy_request(
      "shop", json::object{{"version", "v2"}, {"upstreams", json::array{std::string(3000, 'h')}}},
      "a");
  ASSERT_FALSE(long_url);
  EXPECT_TRUE(long_url.error().message.starts_with("upstreams: each must be a URL string"));
}

TEST(ParseCommand, EveryNameAndNoOther) {
  EXPECT_EQ(parse_command("promote"), rollout::Command::kPromote);
  EXPECT_EQ(parse_command("promote-full"), rollout::Command::kPromoteFull);
  EXPECT_EQ(parse_command("pause"), rollout::Command::kPause);
  EXPECT_EQ(parse_command("resume"), rollout::Command::kResume);
  EXPECT_EQ(parse_command("abort"), rollout::Command::kAbort);
  EXPECT_EQ(parse_command("retry"), rollout::Command::kRetry);
  EXPECT_EQ(parse_command("undo"), rollout::Command::kUndo);
  EXPECT_EQ(parse_command("rewind"), std::nullopt);
  EXPECT_EQ(parse_command("Promote"), std::nullopt);
}

TEST(RolloutJson, ShowsTheApisUnits) {
  model::Rollout r;
  r.service = "shop";
  r.id = 4;
  r.plan.version = "v2";
  r.plan.stable = "v1";
  r.plan.strategy.steps = {{1000, std::chrono::minutes(5)},
                           {5000, std::chrono::milliseconds(0), true},
                           {10000, std::chrono::milliseconds(0)}};
  r.plan.interval = std::chrono::seconds(30);
  rollout::Check check;
  check.max = 0.01;
  check.critical = 0.05;
  r.plan.analysis.checks = {check};
  r.progress.phase = rollout::Phase::kPaused;
  r.progress.step = 1;
  r.progress.step_started_ms = 1'795'447'201'000;
  r.progress.paused_at_ms = 1'795'447'261'500;
  r.progress.reason = "paused by alice";
  r.created_at = 1'795'447'200'000;
  r.updated_at = 1'795'447'261'500;
  r.events = 5;
  const json::object o = api_json(r);
  EXPECT_EQ(o.at("phase"), "paused");
  EXPECT_EQ(o.at("step"), 2);  // 1-based
  EXPECT_EQ(o.at("weight"), 50);
  EXPECT_EQ(o.at("plan"), "10% for 5m, 50% until promoted, 100%");
  EXPECT_EQ(json::serialize(o.at("steps")),
            R"([{"weight":10,"pause":"5m"},{"weight":50,"pause":"until-promoted"},)"
            R"({"weight":100,"pause":"0s"}])");
  EXPECT_EQ(o.at("interval"), "30s");
  EXPECT_EQ(o.at("step_started_at"), "2026-11-23T15:20:01.000Z");
  EXPECT_EQ(o.at("paused_at"), "2026-11-23T15:21:01.500Z");
  EXPECT_EQ(o.at("created_at"), "2026-11-23T15:20:00.000Z");
  EXPECT_EQ(o.at("reason"), "paused by alice");
  const auto& analysis = o.at("analysis").as_object();
  EXPECT_EQ(analysis.at("default_checks"), false);
  EXPECT_EQ(json::serialize(analysis.at("checks")),
            R"([{"metric":"error_rate","max":1E-2,"min":null,"critical":5E-2,)"
            R"("max_ratio_to_stable":null}])");

  // The weight by phase: none before the first step and after a rollback, all once promoted.
  for (auto [phase, weight] : {std::pair{rollout::Phase::kPending, 0},
                               {rollout::Phase::kProgressing, 50},
                               {rollout::Phase::kPromoted, 100},
                               {rollout::Phase::kRolledBack, 0}}) {
    r.progress.phase = phase;
    EXPECT_EQ(api_json(r).at("weight"), weight) << rollout::to_string(phase);
    EXPECT_TRUE(api_json(r).at("paused_at").is_null());
  }
  // A plan without checks shows the defaults it is judged by.
  r.plan.analysis.checks.clear();
  const auto defaults = api_json(r).at("analysis").as_object();
  EXPECT_EQ(defaults.at("default_checks"), true);
  EXPECT_EQ(defaults.at("checks").as_array().size(), rollout::default_checks().size());
}

TEST(RolloutEventJson, ShowsTheApisUnits) {
  model::RolloutEvent e{.service = "shop",
                        .rollout = 4,
                        .seq = 3,
                        .at = 1'795'447'201'000,
                        .event = "step",
                        .phase = rollout::Phase::kProgressing,
                        .step = 1,
                        .weight_bp = 2550,
                        .deployment = 12,
                        .actor = "rampart",
                        .reason = "analysis passed",
                        .judgement = json::parse(R"({"decision":"next_step"})")};
  const json::object o = api_json(e);
  EXPECT_EQ(o.at("at"), "2026-11-23T15:20:01.000Z");
  EXPECT_EQ(o.at("step"), 2);
  EXPECT_EQ(o.at("weight"), 25.5);
  EXPECT_EQ(o.at("deployment"), 12);
  EXPECT_EQ(o.at("judgement").at("decision"), "next_step");
  e.weight_bp.reset();
  e.deployment.reset();
  EXPECT_TRUE(api_json(e).at("weight").is_null());
  EXPECT_TRUE(api_json(e).at("deployment").is_null());
}

constexpr const char* kConfig = R"(
[[service]]
name = "shop"
routes = ["/shop/"]

[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9001"]

[[service.version]]
name = "v2"
upstreams = ["http://127.0.0.1:9002"]

[service.split]
v1 = 100
v2 = 0
)";

class RolloutEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = config::parse_config(kConfig, "test.toml");
    ASSERT_TRUE(cfg) << cfg.error().message;
    ASSERT_TRUE(service_.apply(*cfg, "rampart", "seed"));
    for (auto [name, role] :
         {std::pair{"alice", model::Role::kDeployer}, {"reader", model::Role::kReadOnly}}) {
      auto created = service_.create_token(name, role, "rampart");
      ASSERT_TRUE(created) << created.error().message;
      secrets_[name] = created->secret;
    }
  }

  Response send(bhttp::verb method, std::string target, std::string body = "",
                const std::string& who = "alice") {
    Request req{method, "/api/v1" + target, 11};
    req.set(bhttp::field::authorization, "Bearer " + secrets_[who]);
    req.body() = std::move(body);
    req.prepare_payload();
    auto res = api_.handle(req);
    EXPECT_TRUE(res.has_value()) << target;
    return res ? *res : Response{};
  }
  static json::value body_of(const Response& res) { return json::parse(res.body()); }

  store::MemoryStore store_;
  control::DeploymentService service_{store_};
  control::RolloutService rollouts_{store_};
  metrics::Registry registry_{1};
  Api api_{service_, registry_, rollouts_};
  std::map<std::string, std::string> secrets_;
};

TEST_F(RolloutEndpoints, StartListGetEventsAndCommands) {
  auto started = send(bhttp::verb::post, "/services/shop/rollouts",
                      R"({"version": "v2", "steps": [10, 100], "pause": "1m", "message": "m"})");
  ASSERT_EQ(started.result(), bhttp::status::created) << started.body();
  auto r = body_of(started);
  EXPECT_EQ(r.at("id"), 1);
  EXPECT_EQ(r.at("phase"), "pending");
  EXPECT_EQ(r.at("step"), 1);
  EXPECT_EQ(r.at("weight"), 0);
  EXPECT_EQ(r.at("stable"), "v1");
  EXPECT_EQ(r.at("plan"), "10% for 1m, 100%");
  EXPECT_EQ(r.at("author"), "alice");
  EXPECT_EQ(r.at("message"), "m");

  // One active rollout per service: the second is refused, naming the first.
  auto second = send(bhttp::verb::post, "/services/shop/rollouts", R"({"version": "v2"})");
  EXPECT_EQ(second.result(), bhttp::status::conflict);
  EXPECT_NE(body_of(second).at("detail").as_string().find("active rollout 1"), std::string::npos)
      << second.body();

  // promote applies only to a progressing or paused rollout.
  auto promote = send(bhttp::verb::post, "/services/shop/rollout/promote");
  EXPECT_EQ(promote.result(), bhttp::status::conflict);
  EXPECT_NE(body_of(promote).at("detail").as_string().find("pending"), std::string::npos);

  auto aborted = send(bhttp::verb::post, "/services/shop/rollout/abort");
  ASSERT_EQ(aborted.result(), bhttp::status::ok) << aborted.body();
  EXPECT_EQ(body_of(aborted).at("phase"), "rolled_back");
  auto retried = send(bhttp::verb::post, "/services/shop/rollout/retry");
  ASSERT_EQ(retried.result(), bhttp::status::ok) << retried.body();
  EXPECT_EQ(body_of(retried).at("phase"), "pending");

  auto latest = send(bhttp::verb::get, "/services/shop/rollouts/latest", "", "reader");
  ASSERT_EQ(latest.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(latest).at("id"), 1);
  auto one = send(bhttp::verb::get, "/services/shop/rollouts/1", "", "reader");
  EXPECT_EQ(body_of(one), body_of(latest));

  auto events = send(bhttp::verb::get, "/services/shop/rollouts/1/events", "", "reader");
  ASSERT_EQ(events.result(), bhttp::status::ok);
  std::vector<std::string> names;
  const auto timeline = body_of(events);
  for (const auto& e : timeline.at("events").as_array()) {
    names.emplace_back(e.at("event").as_string());
    EXPECT_EQ(e.at("step"), 1);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"created", "rolled_back", "retried"}));

  // Newest first, `limit` honoured.
  ASSERT_EQ(send(bhttp::verb::post, "/services/shop/rollout/abort").result(), bhttp::status::ok);
  ASSERT_EQ(send(bhttp::verb::post, "/services/shop/rollouts", R"({"version": "v2"})").result(),
            bhttp::status::created);
  auto list = body_of(send(bhttp::verb::get, "/services/shop/rollouts", "", "reader"));
  ASSERT_EQ(list.at("rollouts").as_array().size(), 2u);
  EXPECT_EQ(list.at("rollouts").at(0).at("id"), 2);
  auto limited = body_of(send(bhttp::verb::get, "/services/shop/rollouts?limit=1", "", "reader"));
  EXPECT_EQ(limited.at("rollouts").as_array().size(), 1u);
}

TEST_F(RolloutEndpoints, Refusals) {
  struct Case {
    bhttp::verb method;
    const char* target;
    const char* body;
    const char* who;
    bhttp::status status;
    const char* detail;  // a part of the detail
  };
  for (const auto& c : std::initializer_list<Case>{
           {bhttp::verb::post, "/services/shop/rollouts", R"({"version": "v2"})", "reader",
            bhttp::status::forbidden, "needs role deployer"},
           {bhttp::verb::post, "/services/shop/rollouts", R"({"version": "v9"})", "alice",
            bhttp::status::not_found, "has no version"},
           {bhttp::verb::post, "/services/nope/rollouts", R"({"version": "v2"})", "alice",
            bhttp::status::not_found, "nope"},
           {bhttp::verb::post, "/services/shop/rollouts", R"({"version": "v1"})", "alice",
            bhttp::status::bad_request, "serves all of service"},
           {bhttp::verb::post, "/services/shop/rollouts", R"({"version": "v2", "strategy": "x"})",
            "alice", bhttp::status::bad_request, "strategy:"},
           {bhttp::verb::post, "/services/shop/rollouts", "[1]", "alice",
            bhttp::status::bad_request, "body: must be a JSON object"},
           {bhttp::verb::get, "/services/shop/rollouts/latest", "", "reader",
            bhttp::status::not_found, "has no rollout yet"},
           {bhttp::verb::get, "/services/shop/rollouts/7", "", "reader", bhttp::status::not_found,
            "has no rollout 7"},
           {bhttp::verb::get, "/services/shop/rollouts/x/events", "", "reader",
            bhttp::status::not_found, "is not a rollout id"},
           {bhttp::verb::post, "/services/shop/rollout/abort", "", "alice",
            bhttp::status::not_found, "has no rollout yet"},
           {bhttp::verb::post, "/services/shop/rollout/rewind", "", "alice",
            bhttp::status::not_found,
            "is not a rollout command; use promote, promote-full, pause, "
            "resume, abort, retry or undo"},
           {bhttp::verb::post, "/services/shop/rollout/abort", R"({"now": true})", "alice",
            bhttp::status::bad_request, "now: unknown field"},
           {bhttp::verb::get, "/services/shop/rollouts?limit=0", "", "reader",
            bhttp::status::bad_request, "limit: 0 is out of range"},
           {bhttp::verb::get, "/services/shop/rollouts?since=1", "", "reader",
            bhttp::status::bad_request,
            "since: unknown query parameter; this endpoint takes limit"},
           {bhttp::verb::get, "/services/shop/rollouts/latest?limit=1", "", "reader",
            bhttp::status::bad_request, "limit: unknown query parameter"},
           {bhttp::verb::delete_, "/services/shop/rollouts", "", "alice",
            bhttp::status::method_not_allowed, "use GET, HEAD, POST"},
       }) {
    SCOPED_TRACE(c.target);
    auto res = send(c.method, c.target, c.body, c.who);
    EXPECT_EQ(res.result(), c.status) << res.body();
    EXPECT_NE(res.body().find(c.detail), std::string::npos) << res.body();
  }
  auto res = send(bhttp::verb::put, "/services/shop/rollout/pause");
  EXPECT_EQ(res[bhttp::field::allow], "POST");
  auto field = body_of(send(bhttp::verb::post, "/services/shop/rollouts",
                            R"({"version": "v2", "steps": [50, 10, 100]})"));
  EXPECT_EQ(field.at("field"), "steps");
}

}  // namespace
}  // namespace rampart::admin
