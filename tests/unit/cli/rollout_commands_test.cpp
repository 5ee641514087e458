// The rollout verbs against a fake admin API: their flags, what they send, what they print
// (the deployment report from fixed JSON) and how they exit, --watch included.

#include "cli/rollout_commands.hpp"

#include "cli/times.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <deque>
#include <sstream>

namespace rampart::cli {
namespace {

namespace json = boost::json;

std::string rollout(std::string_view phase, int step, double weight, std::string_view reason) {
  return fmt::format(
      R"({{"service":"shop","id":3,"version":"v2","stable":"v1","strategy":"canary",)"
      R"("steps":[{{"weight":10,"pause":"5m"}},{{"weight":100,"pause":"0s"}}],)"
      R"("plan":"10% for 5m, 100%","interval":"30s","analysis":{{"min_requests":200,)"
      R"("failure_limit":2,"inconclusive":"extend","default_checks":false,"checks":[)"
      R"({{"metric":"error_rate","max":0.01,"min":null,"critical":0.05,)"
      R"("max_ratio_to_stable":null}}]}},"phase":"{}","step":{},"weight":{},)"
      R"("step_started_at":null,"paused_at":null,"failed_windows":0,"reason":"{}",)"
      R"("author":"alice","message":"faster search","created_at":"2026-11-23T15:20:00.000Z",)"
      R"("updated_at":"2026-11-23T15:20:00.000Z","events":1}})",
      phase, step, weight, reason);
}

std::string event(int seq, std::string_view name, int step, std::string_view weight,
                  std::string_view reason, std::string_view judgement = "null") {
  return fmt::format(
      R"({{"service":"shop","rollout":3,"seq":{},"at":"2026-11-23T15:2{}:00.000Z","event":"{}",)"
      R"("phase":"progressing","step":{},"weight":{},"deployment":null,"actor":"rampart",)"
      R"("reason":"{}","judgement":{}}})",
      seq, seq, name, step, weight, reason, judgement);
}

std::string events(std::initializer_list<std::string> items) {
  std::string out = R"({"events":[)";
  for (const auto& e : items) {
    out += (out.back() == '[' ? "" : ",") + e;
  }
  return out + "]}";
}

const std::string kCreated = event(1, "created", 1, "null", "v2 from v1: 10% for 5m, 100%");
const std::string kStarted = event(2, "started", 1, "10", "checks passed");
const std::string kWindow =
    event(3, "window", 1, "null", "error_rate 0.002 is within max 0.01",
          R"({"decision":"continue","reason":"error_rate 0.002 is within max 0.01","checks":[)"
          R"({"metric":"error_rate","verdict":"pass","canary":0.002,"stable":0.001,)"
          R"("canary_requests":500,"stable_requests":4500,"bound":"","reason":"ok"}]})");
const std::string kPromoted = event(4, "promoted", 2, "100", "analysis passed at the last step");

// GET /services/shop as deploy reads it first: a policy without pre commands.
const std::string kService =
    R"({"name":"shop","rollout":{"checks":{"pre":[],"health":{"path":"/health","tries":3,)"
    R"("backoff_ms":1000},"verify":[],"verify_tries":5},"webhooks":[],)"
    R"("deploy_windows":{"deny":[],"utc_offset_minutes":0}},"metrics":{}})";

class RolloutCommands : public ::testing::Test {
 protected:
  RolloutCommands() {
    ctx_.settings.address = "127.0.0.1:9901";
    ctx_.transport = [this](const ApiRequest& req) -> Result<HttpResult> {
      sent_.push_back(req.method + " " + req.target);
      bodies_.push_back(req.body);
      if (answers_.empty()) {
        return make_error(Errc::kUnavailable, "cannot reach the admin API at 127.0.0.1:9901");
      }
      HttpResult r = answers_.front();
      answers_.pop_front();
      return r;
    };
    hooks_.sleep = [this](std::chrono::milliseconds d) {
      ++sleeps_;
      EXPECT_EQ(d, kWatchInterval);
    };
    hooks_.interrupted = [this] { return interrupt_; };
  }

  void answer(unsigned status, std::string body) { answers_.push_back({status, std::move(body)}); }

  std::ostringstream out_, err_;
  Context ctx_{ClientSettings{}, false, out_, err_};
  std::deque<HttpResult> answers_;
  std::vector<std::string> sent_;
  std::vector<std::string> bodies_;
  WatchHooks hooks_;
  int sleeps_ = 0;
  bool interrupt_ = false;
};

TEST(DeployBody, Cases) {
  struct Case {
    DeployArgs args;
    const char* body;   // the JSON sent; nullptr: refused
    const char* error;  // a prefix of the refusal
  };
  for (const auto& c : std::initializer_list<Case>{
           {{.version = "v2"}, R"({"version":"v2"})", nullptr},
           {{.version = "v2",
           .strategy = "linear25-1m",
           .interval = "10s",
           .replace = true,
           .message = "m"},
            R"({"version":"v2","strategy":"linear25-1m","interval":"10s","replace":true,)"
            R"("message":"m"})",
            nullptr},
           {{.version = "v2", .steps = "10,50,100", .pause = "1m"},
            R"({"version":"v2","pause":"1m","steps":[10,50,100]})",
            nullptr},
           {{.version = ""}, nullptr, "--version:"},
           {{.version = "v2", .pause = "5m"}, nullptr, "--pause goes with --steps"},
           {{.version = "v2", .steps = "10,50"}, nullptr, "--steps: the last step must be 100%"},
           {{.version = "v2", .steps = "ten,100"}, nullptr, "--steps \"ten,100\""},
           {{.version = "v2", .steps = "10,100", .pause = "5 min"}, nullptr, "--pause: \"5 min\""},
           {{.version = "v2", .interval = "often"}, nullptr, "--interval: \"often\""},
           {{.version = "v3",
           .upstreams = {"http://127.0.0.1:9003", "http://127.0.0.1:9004"},
           .skip_checks = true},
            R"({"version":"v3","upstreams":["http://127.0.0.1:9003","http://127.0.0.1:9004"],)"
            R"("skip_checks":true})",
            nullptr},
           {{.version = "v3", .upstreams = {"127.0.0.1:9003"}},
            nullptr,
            "--upstream: \"127.0.0.1:9003\" is not a URL"},
           {{.version = "v4",
           .command = {"./server", "--port", "{port}"},
           .instances = 2,
           .workdir = "/srv/shop",
           .env = {"MODE=live", "EMPTY="},
           .secrets = {"API_KEY"},
           .health = "/ready",
           .grace = "5s"},
            R"({"version":"v4","run":{"argv":["./server","--port","{port}"],"instances":2,)"
            R"("workdir":"/srv/shop","env":{"MODE":"live","EMPTY":""},"secrets":["API_KEY"],)"
            R"("grace_ms":5000},"health_path":"/ready"})",
            nullptr},
           {{.version = "v4",
           .command = {"./server"},
           .workdir = "/srv",
           .env_required = {"DATABASE_URL", "API_KEY"},
           .env_optional = {"SENTRY_DSN"},
           .env_formats = {"DATABASE_URL=postgres://.+", "PORTS=[0-9,]*"}},
            R"({"version":"v4","run":{"argv":["./server"],"instances":1,"workdir":"/srv",)"
            R"("env":{},"env_required":["DATABASE_URL","API_KEY"],"env_optional":["SENTRY_DSN"],)"
            R"("env_formats":{"DATABASE_URL":"postgres://.+","PORTS":"[0-9,]*"}}})",
            nullptr},
           {{.version = "v4", .command = {"./server"}, .env = {"=x"}},
            nullptr,
            "--env: \"=x\" is not NAME=VALUE"},
           {{.version = "v4", .command = {"./server"}, .env_formats = {"DATABASE_URL"}},
            nullptr,
            "--env-format: \"DATABASE_URL\" is not NAME=REGEX"},
           {{.version = "v4", .command = {"./server"}, .grace = "soon"}, nullptr, "--grace:"},
           {{.version = "v4", .env_required = {"X"}}, nullptr, "--instances, --workdir"},
           {{.version = "v4", .upstreams = {"http://127.0.0.1:1"}, .command = {"./server"}},
            nullptr,
            "--upstream and a command"},
       }) {
    auto body = deploy_body(c.args);
    if (c.body == nullptr) {
      ASSERT_FALSE(body) << json::serialize(*body);
      EXPECT_TRUE(body.error().message.starts_with(c.error)) << body.error().message;
      continue;
    }
    ASSERT_TRUE(body) << body.error().message;
    EXPECT_EQ(json::serialize(*body), c.body);
  }
}

TEST_F(RolloutCommands, DeployWithoutWatchPrintsTheRolloutStarted) {
  answer(200, kService);
  answer(201, rollout("pending", 1, 0, "waiting for the checks before traffic"));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2"}, hooks_), kExitOk);
  EXPECT_EQ(sent_, (std::vector<std::string>{"GET /api/v1/services/shop",
                                             "POST /api/v1/services/shop/rollouts"}));
  EXPECT_EQ(out_.str(),
            "shop: rollout 3, v2 from v1 (10% for 5m, 100%): pending, v2 at 0%: waiting for the "
            "checks before traffic\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(RolloutCommands, DeployWatchPrintsEachEventOnceAndExitsZeroWhenPromoted) {
  answer(200, kService);
  answer(201, rollout("pending", 1, 0, "waiting"));
  answer(200, rollout("progressing", 1, 10, "checks passed"));
  answer(200, events({kCreated, kStarted}));
  answer(200, rollout("progressing", 1, 10, "window"));
  answer(200, events({kCreated, kStarted, kWindow}));
  answer(200, rollout("promoted", 2, 100, "analysis passed at the last step"));
  answer(200, events({kCreated, kStarted, kWindow, kPromoted}));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .watch = true}, hooks_), kExitOk)
      << err_.str();
  EXPECT_EQ(sleeps_, 2);
  EXPECT_EQ(sent_.at(2), "GET /api/v1/services/shop/rollouts/3");
  EXPECT_EQ(sent_.at(3), "GET /api/v1/services/shop/rollouts/3/events");
  EXPECT_EQ(out_.str(),
            "shop: rollout 3, v2 from v1 (10% for 5m, 100%): pending, v2 at 0%: waiting\n"
            "2026-11-23T15:21:00.000Z  created      step 1     -  v2 from v1: 10% for 5m, 100%\n"
            "2026-11-23T15:22:00.000Z  started      step 1   10%  checks passed\n"
            "2026-11-23T15:23:00.000Z  window       step 1     -  error_rate 0.002 is within "
            "max 0.01\n"
            "2026-11-23T15:24:00.000Z  promoted     step 2  100%  analysis passed at the last "
            "step\n"
            "shop: rollout 3 promoted: v2 serves 100%\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(RolloutCommands, DeployWatchExitsOneWithTheReasonLastWhenRolledBack) {
  answer(200, kService);
  answer(201, rollout("pending", 1, 0, "waiting"));
  answer(200, rollout("rolled_back", 1, 0, "aborted by alice"));
  answer(200, events({kCreated, event(2, "rolled_back", 1, "0", "aborted by alice")}));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .watch = true}, hooks_),
            kExitFailure);
  EXPECT_EQ(sleeps_, 0);
  EXPECT_NE(out_.str().find("rolled_back  step 1    0%  aborted by alice\n"), std::string::npos)
      << out_.str();
  EXPECT_EQ(err_.str(), "rampart: shop: rollout 3 rolled back: aborted by alice\n");
}

TEST_F(RolloutCommands, DeployWatchInterruptedLeavesTheRolloutAndSaysHowToFollowIt) {
  answer(200, kService);
  answer(201, rollout("pending", 1, 0, "waiting"));
  interrupt_ = true;
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .watch = true}, hooks_),
            kExitInterrupted);
  EXPECT_EQ(sent_.size(), 2u);  // no abort sent
  EXPECT_EQ(err_.str(),
            "rampart: interrupted; rollout 3 of shop goes on; follow it with `rampart status "
            "shop --watch`\n");
}

// GET /services/shop with a policy of its own: pre commands, health, verify, a webhook and
// deploy windows.
std::string service_with(std::string_view pre) {
  return fmt::format(
      R"({{"name":"shop","rollout":{{"checks":{{"pre":[{}],"health":{{"path":"/healthz",)"
      R"("tries":3,"backoff_ms":1000}},"verify":[{{"path":"/health","status":200,)"
      R"("max_ms":null}},{{"path":"/api/stats","status":200,"max_ms":2000}}],"verify_tries":5}},)"
      R"("webhooks":[{{"url":"https://hooks.example.com/deploys","events":["rollback"]}}],)"
      R"("deploy_windows":{{"deny":["Fri"],"utc_offset_minutes":0}}}},"metrics":{{}}}})",
      pre);
}

// A rollout whose checks are seed 004's defaults.
std::string default_checks_rollout() {
  std::string r = rollout("pending", 1, 0, "waiting for the checks before traffic");
  const std::string from = R"("default_checks":false)";
  r.replace(r.find(from), from.size(), R"("default_checks":true)");
  return r;
}

TEST_F(RolloutCommands, AFailingPreCommandBlocksTheDeployBeforeTheServerIsAsked) {
  answer(200, service_with(R"({"name":"ok","run":"true"},{"name":"branch","run":"echo not on )"
                           R"(main; exit 1"})"));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2"}, hooks_), kExitFailure);
  EXPECT_EQ(sent_, std::vector<std::string>{"GET /api/v1/services/shop"});  // nothing started
  const std::string out = out_.str();
  EXPECT_NE(out.find("=== Pre-deploy checks (each limited to 10m) ==="), std::string::npos);
  EXPECT_NE(out.find("✓ ok"), std::string::npos) << out;
  EXPECT_NE(out.find("✗ branch  failed (exit 1)"), std::string::npos) << out;
  EXPECT_NE(out.find("    | not on main\n"), std::string::npos) << out;
  EXPECT_NE(out.find("DEPLOYMENT BLOCKED"), std::string::npos) << out;
  EXPECT_EQ(err_.str(), "rampart: deploy: 1 of 2 pre-deploy checks failed; nothing was started\n");
}

TEST_F(RolloutCommands, PassingPreCommandsAreSentWithTheRequest) {
  answer(200, service_with(R"({"name":"tests","run":"true"})"));
  answer(201, rollout("pending", 1, 0, "waiting"));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2"}, hooks_), kExitOk) << err_.str();
  ASSERT_EQ(sent_.size(), 2u);
  auto body = json::parse(bodies_.at(1));
  ASSERT_EQ(body.at("pre").as_array().size(), 1u);
  EXPECT_EQ(body.at("pre").at(0).at("name"), "tests");
  EXPECT_EQ(body.at("pre").at(0).at("passed"), true);
  EXPECT_TRUE(body.at("pre").at(0).at("ms").is_int64());
  EXPECT_NE(out_.str().find("All checks passed.\n"), std::string::npos) << out_.str();
}

TEST_F(RolloutCommands, SkipChecksRunsNoPreCommandAndSaysSo) {
  answer(200, service_with(R"({"name":"branch","run":"exit 1"})"));
  answer(201, rollout("pending", 1, 0, "waiting"));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .skip_checks = true}, hooks_),
            kExitOk)
      << err_.str();
  EXPECT_EQ(bodies_.at(1), R"({"version":"v2","skip_checks":true})");
  EXPECT_EQ(out_.str().find("Pre-deploy"), std::string::npos) << out_.str();
}

TEST_F(RolloutCommands, APreCommandPastItsTimeLimitFails) {
  answer(200, service_with(R"({"name":"slow","run":"sleep 20"})"));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .pre_timeout = "200ms"}, hooks_),
            kExitFailure);
  EXPECT_NE(out_.str().find("✗ slow  failed (killed after 200ms)"), std::string::npos)
      << out_.str();
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .pre_timeout = "soon"}, hooks_),
            kExitUsage);
}

TEST_F(RolloutCommands, DryRunPrintsThePlanAndStartsNothing) {
  ctx_.now_ms = [] { return *parse_rfc3339("2026-11-23T15:20:00Z"); };  // a Monday
  answer(200, service_with(R"({"name":"tests","run":"true"})"));
  answer(200, default_checks_rollout());
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .dry_run = true}, hooks_),
            kExitOk)
      << err_.str();
  EXPECT_EQ(sent_.back(), "POST /api/v1/services/shop/rollouts");
  auto body = json::parse(bodies_.back());
  EXPECT_EQ(body.at("dry_run"), true);
  const std::string out = out_.str();
  const std::string plan = out.substr(out.find("Dry run:"));
  EXPECT_EQ(plan,
            "Dry run: shop v2 from v1; nothing was changed\n"
            "  strategy        canary: 10% for 5m, 100%\n"
            "  steps           1. 10%, then pause 5m\n"
            "                  2. 100%\n"
            "  analysis        every 30s, at least 200 requests per version, 2 failed windows "
            "roll back, inconclusive: extend\n"
            "  checks          seed 004's defaults (the service sets no check)\n"
            "                  error_rate  max 0.01, critical 0.05\n"
            "  health          GET /healthz, 3 tries, backoff 1s (doubled after each)\n"
            "  verify          GET /health -> 200; GET /api/stats -> 200 within 2000ms (before "
            "traffic, and 5 tries after promotion)\n"
            "  webhooks        https://hooks.example.com/deploys (events: rollback)\n"
            "  deploy windows  deny Fri; now: allowed\n"
            "All gates passed: `rampart deploy shop --version v2` would start rollout 3.\n");
}

TEST_F(RolloutCommands, DryRunRefusedByAServerGateExitsOne) {
  answer(200, service_with(""));
  answer(409, R"({"error":"conflict","detail":"service \"shop\": deploys are refused on Fri"})");
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .dry_run = true}, hooks_),
            kExitFailure);
  EXPECT_EQ(err_.str(), "rampart: service \"shop\": deploys are refused on Fri\n");
}

TEST_F(RolloutCommands, DryRunJsonIsThePlanAsJson) {
  ctx_.json = true;
  ctx_.now_ms = [] { return *parse_rfc3339("2026-11-27T10:00:00Z"); };  // a Friday
  answer(200, service_with(R"({"name":"tests","run":"true"})"));
  answer(200, rollout("pending", 1, 0, "waiting"));
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .force = true, .dry_run = true},
                       hooks_),
            kExitOk);
  auto plan = json::parse(out_.str());
  EXPECT_EQ(plan.at("dry_run"), true);
  EXPECT_EQ(plan.at("rollout").at("id"), 3);
  EXPECT_EQ(plan.at("pre").at(0).at("name"), "tests");
  EXPECT_EQ(plan.at("policy").at("checks").at("verify_tries"), 5);
  const std::string window(plan.at("deploy_window").as_string());
  EXPECT_TRUE(window.starts_with("refused: deploys are refused on Fri")) << window;
  EXPECT_NE(err_.str().find("All checks passed."), std::string::npos);  // the table: stderr
}

TEST_F(RolloutCommands, WatchOnATerminalRedrawsTheViewInPlaceAndRestoresTheCursor) {
  hooks_.live = true;
  hooks_.width = [] { return 80; };
  ctx_.now_ms = [] { return *parse_rfc3339("2026-11-23T15:22:00Z"); };
  const std::string metrics =
      R"({"name":"shop","metrics":{"v2":{"requests":10,"5xx":0,"p95_ms":5,"p99_ms":9}}})";
  answer(200, rollout("progressing", 1, 10, "checks passed"));
  answer(200, events({kCreated, kStarted}));
  answer(200, metrics);
  answer(200, rollout("promoted", 2, 100, "analysis passed at the last step"));
  answer(200, events({kCreated, kStarted, kWindow, kPromoted}));
  answer(200, metrics);
  EXPECT_EQ(watch_rollout(ctx_, "shop", "3", hooks_), kExitOk) << err_.str();
  EXPECT_EQ(sent_.at(2), "GET /api/v1/services/shop");
  const std::string out = out_.str();
  EXPECT_TRUE(out.starts_with("\x1b[?25l\x1b[2Kshop  rollout 3  v2 from v1")) << out;
  // The second drawing goes back up over the first (its 10 lines) and clears below it.
  EXPECT_NE(out.find("\x1b[J\x1b[10A\r\x1b[2Kshop  rollout 3"), std::string::npos) << out;
  EXPECT_NE(out.find("promoted  step 2 of 2  [██████████████████████████████] 100%"),
            std::string::npos);
  EXPECT_TRUE(out.ends_with("shop: rollout 3 promoted: v2 serves 100%\n\x1b[?25h")) << out;
}

TEST_F(RolloutCommands, WatchOnATerminalInterruptedRestoresTheCursor) {
  hooks_.live = true;
  interrupt_ = true;
  EXPECT_EQ(watch_rollout(ctx_, "shop", "3", hooks_), kExitInterrupted);
  EXPECT_EQ(out_.str(), "\x1b[?25l\x1b[?25h");
  EXPECT_NE(err_.str().find("`rampart status shop --watch`"), std::string::npos);
}

TEST_F(RolloutCommands, DeployRefusedPrintsTheApisOneLine) {
  answer(200, kService);
  answer(409, R"({"error":"conflict","detail":"service \"shop\" has an active rollout 2 of v2"})");
  EXPECT_EQ(run_deploy(ctx_, {.service = "shop", .version = "v2", .watch = true}, hooks_),
            kExitFailure);
  EXPECT_EQ(err_.str(), "rampart: service \"shop\" has an active rollout 2 of v2\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(RolloutCommands, CommandsPostToTheLatestRollout) {
  for (auto [command, target] : {std::pair{"promote", "/api/v1/services/shop/rollout/promote"},
                                 {"promote-full", "/api/v1/services/shop/rollout/promote-full"},
                                 {"pause", "/api/v1/services/shop/rollout/pause"},
                                 {"resume", "/api/v1/services/shop/rollout/resume"},
                                 {"abort", "/api/v1/services/shop/rollout/abort"},
                                 {"retry", "/api/v1/services/shop/rollout/retry"}}) {
    sent_.clear();
    out_.str("");
    answer(200, rollout("paused", 1, 10, "paused by alice"));
    EXPECT_EQ(run_rollout_command(ctx_, {"shop", command}), kExitOk) << command;
    EXPECT_EQ(sent_, (std::vector<std::string>{std::string("POST ") + target}));
    EXPECT_EQ(out_.str(),
              "shop: rollout 3, v2 from v1 (10% for 5m, 100%): paused at step 1 of 2, v2 at 10%: "
              "paused by alice\n");
  }
  answer(409, R"({"error":"conflict","detail":"the rollout is pending; only a progressing or )"
              R"(paused rollout can be promoted"})");
  EXPECT_EQ(run_rollout_command(ctx_, {"shop", "promote"}), kExitFailure);
  EXPECT_EQ(err_.str(),
            "rampart: the rollout is pending; only a progressing or paused rollout can be "
            "promoted\n");
  EXPECT_EQ(run_rollout_command(ctx_, {"", "abort"}), kExitUsage);
}

TEST(ReportMarkdown, FromFixedJson) {
  const auto r = json::parse(rollout("promoted", 2, 100, "analysis passed at the last step"));
  const auto e = json::parse(events({kCreated, kStarted, kWindow, kPromoted})).at("events");
  EXPECT_EQ(report_markdown(r, e),
            R"(# Deployment report: shop, rollout 3

| | |
|---|---|
| Version | v2 (from v1) |
| Strategy | canary: 10% for 5m, 100% |
| Analysis | every 30s, at least 200 requests per version, 2 failed windows roll back, inconclusive: extend |
| Check error_rate | max 0.01, critical 0.05 |
| Started | 2026-11-23T15:20:00.000Z by alice |
| Message | faster search |
| Outcome | promoted: analysis passed at the last step |

## Timeline

| Time | Event | Step | Weight | Reason |
|------|-------|------|--------|--------|
| 2026-11-23T15:21:00.000Z | created | 1 | - | v2 from v1: 10% for 5m, 100% |
| 2026-11-23T15:22:00.000Z | started | 1 | 10% | checks passed |
| 2026-11-23T15:23:00.000Z | window | 1 | - | error_rate 0.002 is within max 0.01 |
| 2026-11-23T15:24:00.000Z | promoted | 2 | 100% | analysis passed at the last step |

## Analysis windows

### 2026-11-23T15:23:00.000Z, step 1: continue

error_rate 0.002 is within max 0.01

| Check | Verdict | Canary | Stable | Requests (canary / stable) | Thresholds |
|-------|---------|--------|--------|----------------------------|------------|
| error_rate | pass | 0.002 | 0.001 | 500 / 4500 | max 0.01, critical 0.05 |
)");
}

TEST(ReportMarkdown, TheSequentialJudgesEvidenceFollowsTheThresholds) {
  auto r = json::parse(rollout("rolled_back", 1, 0, "rolled back by the analysis"));
  r.as_object()["analysis"].as_object()["judge"] = "sequential";
  r.as_object()["analysis"].as_object()["alpha"] = 0.01;
  const auto e = json::parse(
      R"([{"seq":3,"at":"2026-11-23T15:23:00.000Z","event":"rolled_back","step":1,"weight":0,)"
      R"("reason":"rolled back","judgement":{"decision":"rollback","reason":"e-value 140",)"
      R"("checks":[{"metric":"error_rate","verdict":"critical","canary":0.03,"stable":0.01,)"
      R"("canary_requests":900,"stable_requests":8100,"bound":"e-value 100","reason":"x",)"
      R"("e_value":140.2,"e_threshold":100,"canary_events":27,"stable_events":81},)"
      R"({"metric":"error_rate","verdict":"fail","canary":0.03,"stable":0.01,)"
      R"("canary_requests":900,"stable_requests":0,"bound":"max 0.01","reason":"y",)"
      R"("interval":[0.0151,0.0522],"canary_events":27,"stable_events":0},)"
      R"({"metric":"p95_ms","verdict":"inconclusive","canary":0,"stable":null,)"
      R"("canary_requests":900,"stable_requests":0,)"
      R"("bound":"critical 0.05 of requests slower than 750 ms","reason":"z",)"
      R"("interval":[0,0.0083],"canary_events":0,"stable_events":0}]}}])");
  const std::string md = report_markdown(r, e);
  EXPECT_NE(md.find("| Analysis | sequential judge at alpha 1% (of 100 canaries no worse than "
                    "stable, at most 1 rolled back)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("(past e-value 100); e-value 140.2 of 100 (27 and 81 events) |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("(past max 0.01); interval [0.0151, 0.0522] (27 events) |"), std::string::npos)
      << md;
  // Not decided yet: nothing is past the bound.
  EXPECT_NE(md.find("(undecided against critical 0.05 of requests slower than 750 ms); "
                    "interval [0, 0.0083] (0 events) |"),
            std::string::npos)
      << md;
}

TEST(ReportMarkdown, EscapesCellsAndSurvivesAnOddShape) {
  const auto r = json::parse(R"({"id":1,"reason":"a | b\nc"})");
  const std::string md = report_markdown(r, json::parse("{}"));
  EXPECT_NE(md.find("| Outcome | -: a \\| b c |"), std::string::npos) << md;
  EXPECT_EQ(md.find("## Analysis windows"), std::string::npos);
}

TEST_F(RolloutCommands, ReportAsksForTheRolloutAndItsEvents) {
  answer(200, rollout("promoted", 2, 100, "done"));
  answer(200, events({kCreated}));
  EXPECT_EQ(run_report(ctx_, {"shop", std::nullopt}), kExitOk);
  EXPECT_EQ(sent_, (std::vector<std::string>{"GET /api/v1/services/shop/rollouts/latest",
                                             "GET /api/v1/services/shop/rollouts/3/events"}));
  EXPECT_TRUE(out_.str().starts_with("# Deployment report: shop, rollout 3\n")) << out_.str();

  sent_.clear();
  out_.str("");
  ctx_.json = true;
  answer(200, rollout("promoted", 2, 100, "done"));
  answer(200, events({kCreated}));
  EXPECT_EQ(run_report(ctx_, {"shop", 3}), kExitOk);
  EXPECT_EQ(sent_.at(0), "GET /api/v1/services/shop/rollouts/3");
  const auto printed = json::parse(out_.str());
  EXPECT_EQ(printed.at("rollout").at("id"), 3);
  EXPECT_EQ(printed.at("events").as_array().size(), 1u);
}

TEST_F(RolloutCommands, ActiveRolloutTextOnlyForOneThatRuns) {
  answer(200, rollout("paused", 1, 10, "paused by alice"));
  EXPECT_EQ(active_rollout_text(ctx_, "shop"),
            "\nrollout 3: v2 from v1, 10% for 5m, 100%\n"
            "  phase:  paused at step 1 of 2\n"
            "  weight: v2 at 10%\n"
            "  reason: paused by alice\n");
  answer(200, rollout("promoted", 2, 100, "done"));
  EXPECT_EQ(active_rollout_text(ctx_, "shop"), "");
  answer(404, R"({"error":"not_found","detail":"no rollout yet"})");
  EXPECT_EQ(active_rollout_text(ctx_, "shop"), "");
  EXPECT_EQ(active_rollout_text(ctx_, "shop"), "");  // unreachable
  EXPECT_EQ(err_.str(), "");
}

TEST_F(RolloutCommands, StatusWatchFollowsTheActiveRollout) {
  answer(200, R"({"name":"shop","versions":[]})");
  answer(200, rollout("paused", 1, 10, "paused by alice"));  // status's rollout lines
  answer(200, rollout("paused", 1, 10, "paused by alice"));  // the rollout to follow
  answer(200, rollout("rolled_back", 1, 0, "aborted by hand"));
  answer(200, events({kCreated}));
  EXPECT_EQ(run_status(ctx_, {.service = "shop", .watch = true}), kExitFailure);
  EXPECT_EQ(sent_.back(), "GET /api/v1/services/shop/rollouts/3/events");
  EXPECT_NE(out_.str().find("  phase:  paused at step 1 of 2\n"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("  created  "), std::string::npos) << out_.str();
  EXPECT_EQ(err_.str(), "rampart: shop: rollout 3 rolled back: aborted by hand\n");

  // Nothing to follow: the status alone.
  sent_.clear();
  answer(200, R"({"name":"shop","versions":[]})");
  answer(404, R"({"error":"not_found","detail":"no rollout yet"})");
  answer(404, R"({"error":"not_found","detail":"no rollout yet"})");
  EXPECT_EQ(run_status(ctx_, {.service = "shop", .watch = true}), kExitOk);
  EXPECT_EQ(sent_.size(), 3u);
  EXPECT_EQ(run_status(ctx_, {.watch = true}), kExitUsage);
}

// The flags as main.cpp registers them, parsed from a command line.
class RolloutVerbFlags : public RolloutCommands {
 protected:
  int parse_and_run(std::vector<std::string> args) {
    CLI::App app;
    bool json = false;
    auto verbs =
        register_rollout_verbs(app, [&](CLI::App* verb) { verb->add_flag("--json", json); });
    std::reverse(args.begin(), args.end());
    app.parse(args);
    ctx_.json = json;
    auto code = verbs->run(ctx_);
    return code.value_or(-1);
  }
};

TEST_F(RolloutVerbFlags, DeployFlagsReachTheBody) {
  answer(200, kService);
  answer(201, rollout("pending", 1, 0, "waiting"));
  EXPECT_EQ(parse_and_run({"deploy", "shop", "--version", "v2", "--steps", "10,100", "--pause",
                           "30s", "--replace", "--force", "-m", "why", "--no-watch"}),
            kExitOk);
  EXPECT_EQ(
      bodies_.at(1),
      R"({"version":"v2","pause":"30s","steps":[10,100],"replace":true,"force":true,"message":"why"})");
  EXPECT_EQ(sent_.size(), 2u);  // --no-watch: no polling
}

TEST_F(RolloutVerbFlags, EveryRolloutVerbTakesJson) {
  for (const auto& verb : {"promote", "pause", "resume", "abort", "retry", "undo"}) {
    SCOPED_TRACE(verb);
    out_.str("");
    answer(200, rollout("paused", 1, 10, "by alice"));
    EXPECT_EQ(parse_and_run({verb, "shop", "--json"}), kExitOk) << err_.str();
    EXPECT_EQ(json::parse(out_.str()).at("id"), 3) << out_.str();
  }
  out_.str("");
  answer(200, kService);
  answer(201, rollout("pending", 1, 0, "waiting"));
  EXPECT_EQ(parse_and_run({"deploy", "shop", "--version", "v2", "--no-watch", "--json"}), kExitOk);
  EXPECT_EQ(json::parse(out_.str()).at("phase"), "pending") << out_.str();
  // --watch --json: one JSON object per line, never the redrawn view.
  out_.str("");
  answer(200, kService);
  answer(201, rollout("pending", 1, 0, "waiting"));
  answer(200, rollout("promoted", 2, 100, "done"));
  answer(200, events({kCreated, kPromoted}));
  EXPECT_EQ(parse_and_run({"deploy", "shop", "--version", "v2", "--watch", "--json"}), kExitOk);
  std::istringstream lines(out_.str());
  int objects = 0;
  for (std::string line; std::getline(lines, line); ++objects) {
    EXPECT_TRUE(json::parse(line).is_object()) << line;
  }
  EXPECT_EQ(objects, 4);  // started, two events, the final rollout
}

TEST_F(RolloutVerbFlags, PromoteFullAndReportId) {
  answer(200, rollout("promoted", 2, 100, "promoted by alice"));
  EXPECT_EQ(parse_and_run({"promote", "shop", "--full"}), kExitOk);
  EXPECT_EQ(sent_.at(0), "POST /api/v1/services/shop/rollout/promote-full");
  EXPECT_EQ(parse_and_run({"report", "shop", "0"}), kExitUsage);
  EXPECT_NE(err_.str().find("report: ROLLOUT: 0 is out of range"), std::string::npos) << err_.str();
  EXPECT_THROW(parse_and_run({"deploy", "shop"}), CLI::RequiredError);  // --version
}

}  // namespace
}  // namespace rampart::cli
