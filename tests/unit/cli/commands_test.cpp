// The verbs against a fake admin API: what each sends, what it prints, how it exits.

#include "cli/commands.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <deque>
#include <sstream>

namespace rampart::cli {
namespace {

namespace json = boost::json;

constexpr std::int64_t kNow = 1795447201123;  // 2026-11-23T15:20:01.123Z

const char* kDeployment =
    R"({"service":"shop","id":5,"split":{"v1":90,"v2":10},"cause":"split","message":"m",)"
    R"("author":"bootstrap","created_at":"2026-11-23T15:20:01.123Z","revision":9})";

class Commands : public ::testing::Test {
 protected:
  Commands() {
    ctx_.settings.address = "127.0.0.1:9901";
    ctx_.settings.token = "secret";
    ctx_.settings.token_source = "--token";
    ctx_.now_ms = [] { return kNow; };
    ctx_.transport = [this](const ApiRequest& req) -> Result<HttpResult> {
      sent_.push_back(req);
      if (answers_.empty()) {
        return make_error(Errc::kUnavailable,
                          "cannot reach the admin API at 127.0.0.1:9901: "
                          "Connection refused (is rampart server running?)");
      }
      HttpResult r = answers_.front();
      answers_.pop_front();
      return r;
    };
  }

  void answer(unsigned status, std::string body) { answers_.push_back({status, std::move(body)}); }
  json::value sent_body(std::size_t i = 0) const { return json::parse(sent_.at(i).body); }

  std::ostringstream out_, err_;
  Context ctx_{ClientSettings{}, false, out_, err_};
  std::deque<HttpResult> answers_;
  std::vector<ApiRequest> sent_;
};

TEST_F(Commands, SplitSendsSharesInOrderAndPrintsTheDeployment) {
  answer(201, kDeployment);
  int rc = run_split(ctx_, {.service = "shop",
                            .shares = {"v2@12.5", "v1=87.5"},
                            .message = "canary",
                            .expect_revision = 7});
  EXPECT_EQ(rc, kExitOk) << err_.str();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].method, "POST");
  EXPECT_EQ(sent_[0].target, "/api/v1/services/shop/deployments");
  EXPECT_EQ(sent_[0].body,
            R"({"split":{"v2":1.25E1,"v1":8.75E1},"message":"canary","expected_revision":7})");
  EXPECT_EQ(out_.str(), "shop: deployment 5 (split) v1 90%, v2 10%\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(Commands, SplitWholePercentsAreIntegers) {
  answer(201, kDeployment);
  ASSERT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=90", "v2=10"}}), kExitOk);
  EXPECT_EQ(sent_[0].body, R"({"split":{"v1":90,"v2":10}})");
}

TEST_F(Commands, SplitJsonPrintsTheDeploymentObject) {
  ctx_.json = true;
  answer(201, kDeployment);
  ASSERT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=90", "v2=10"}}), kExitOk);
  json::value printed = json::parse(out_.str());
  ASSERT_TRUE(printed.is_object());
  EXPECT_EQ(printed.at("id").as_int64(), 5);
  EXPECT_EQ(out_.str().back(), '\n');
}

TEST_F(Commands, SplitBadArgumentIsAUsageErrorAndSendsNothing) {
  EXPECT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=abc"}}), kExitUsage);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(err_.str(),
            "rampart: split: \"v1=abc\" is not VERSION=PERCENT (PERCENT is a number from 0 to 100 "
            "with at most two decimals)\n");
}

TEST_F(Commands, ApiErrorIsOneLineAndExitOne) {
  answer(
      400,
      R"j({"error":"invalid_argument","field":"split","detail":"sums to 9000 bp (90%); it must sum to 10000 bp (100%)"})j");
  EXPECT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=80", "v2=10"}}), kExitFailure);
  EXPECT_EQ(err_.str(), "rampart: split: sums to 9000 bp (90%); it must sum to 10000 bp (100%)\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(Commands, ConnectionFailureExitsOne) {
  EXPECT_EQ(run_status(ctx_, {}), kExitFailure);
  EXPECT_EQ(err_.str().rfind("rampart: cannot reach the admin API at 127.0.0.1:9901", 0), 0u);
}

TEST_F(Commands, AnswerThatIsNotJsonExitsOne) {
  answer(200, "<html>");
  EXPECT_EQ(run_status(ctx_, {}), kExitFailure);
  EXPECT_NE(err_.str().find("not JSON"), std::string::npos) << err_.str();
}

TEST_F(Commands, StatusListsServicesOrPrintsTheApiObject) {
  const char* services =
      R"({"services":[{"name":"shop","routes":["/"],"sticky":"ip","latest":null}]})";
  answer(200, services);
  ASSERT_EQ(run_status(ctx_, {}), kExitOk);
  EXPECT_EQ(sent_[0].target, "/api/v1/services");
  EXPECT_EQ(out_.str(),
            "NAME  ROUTES  DEPLOYMENT  SPLIT  AGE\nshop  /       none        -      -\n");

  // --json prints the API's answer as it came: {"services": [...]}.
  out_.str("");
  ctx_.json = true;
  answer(200, services);
  ASSERT_EQ(run_status(ctx_, {}), kExitOk);
  EXPECT_EQ(json::parse(out_.str()), json::parse(services));
}

TEST_F(Commands, StatusOfOneServiceEncodesItsName) {
  answer(404, R"({"error":"not_found","detail":"service \"a b\" not found"})");
  EXPECT_EQ(run_status(ctx_, {.service = "a b"}), kExitFailure);
  EXPECT_EQ(sent_[0].target, "/api/v1/services/a%20b");
  EXPECT_EQ(err_.str(), "rampart: service \"a b\" not found\n");
}

TEST_F(Commands, JsonIsTheApiObjectForEveryList) {
  ctx_.json = true;
  const std::string deployments = std::string(R"({"deployments":[)") + kDeployment + "]}";
  answer(200, deployments);
  ASSERT_EQ(run_deployments_list(ctx_, {.service = "shop", .limit = 3}), kExitOk);
  EXPECT_EQ(sent_[0].target, "/api/v1/services/shop/deployments?limit=3");
  EXPECT_EQ(json::parse(out_.str()), json::parse(deployments));

  out_.str("");
  answer(200, R"({"events":[]})");
  ASSERT_EQ(run_audit(ctx_, {}), kExitOk);
  EXPECT_EQ(out_.str(), "{\"events\":[]}\n");

  out_.str("");
  answer(200, R"({"tokens":[]})");
  ASSERT_EQ(run_token_list(ctx_), kExitOk);
  EXPECT_EQ(out_.str(), "{\"tokens\":[]}\n");
}

TEST_F(Commands, AnAnswerOfAnotherShapeIsNotRampart) {
  struct Case {
    const char* name;
    unsigned status;
    const char* body;
    const char* says;
  };
  const Case cases[] = {
      {"a JSON object without the list", 200, R"({"hello":"world"})",
       "(GET /api/v1/services: the answer has no \"services\")"},
      {"a JSON array", 200, "[]", "the answer is not a JSON object"},
      {"not JSON", 200, "<html>", "the answer is not JSON"},
      {"an error page", 404, "<h1>Not Found</h1>", "(HTTP 404: <h1>Not Found</h1>)"},
  };
  for (const auto& c : cases) {
    err_.str("");
    out_.str("");
    answer(c.status, c.body);
    EXPECT_EQ(run_status(ctx_, {}), kExitFailure) << c.name;
    const std::string err = err_.str();
    EXPECT_EQ(err.rfind("rampart: 127.0.0.1:9901 does not answer as a rampart admin API", 0), 0u)
        << c.name << ": " << err;
    EXPECT_NE(err.find(c.says), std::string::npos) << c.name << ": " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << c.name;
    EXPECT_EQ(out_.str(), "") << c.name;
  }
  // A deployment answer must be one.
  err_.str("");
  answer(201, R"({"status":"ok"})");
  EXPECT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=100"}}), kExitFailure);
  EXPECT_NE(err_.str().find("does not answer as a rampart admin API"), std::string::npos);
}

TEST_F(Commands, AnEmptyServiceNameIsAUsageErrorAndSendsNothing) {
  EXPECT_EQ(run_split(ctx_, {.service = "", .shares = {"v1=100"}}), kExitUsage);
  EXPECT_EQ(run_status(ctx_, {.service = std::string()}), kExitUsage);
  EXPECT_EQ(run_deployments_list(ctx_, {.service = ""}), kExitUsage);
  EXPECT_EQ(run_rollback(ctx_, {.service = ""}), kExitUsage);
  EXPECT_EQ(run_checkpoint(ctx_, {.service = "", .note = "n"}), kExitUsage);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(err_.str().substr(0, err_.str().find('\n')),
            "rampart: split: the service name is empty; name a service");
}

TEST_F(Commands, SplitThatChangesNothingSaysSoAndForceIsSent) {
  answer(200, R"({"service":"shop","id":5,"split":{"v1":90,"v2":10},"cause":"split",)"
              R"("changed":false})");
  ASSERT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=90", "v2=10"}}), kExitOk);
  EXPECT_EQ(out_.str(),
            "shop: no change: deployment 5 serves v1 90%, v2 10% already (--force makes a new "
            "deployment)\n");
  answer(201, kDeployment);
  ASSERT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=90", "v2=10"}, .force = true}),
            kExitOk);
  EXPECT_EQ(sent_[1].body, R"({"split":{"v1":90,"v2":10},"force":true})");
}

TEST_F(Commands, JsonFailuresPrintAnErrorObject) {
  ctx_.json = true;
  EXPECT_EQ(run_reload(ctx_), kExitFailure);  // no answer: connection refused
  json::value printed = json::parse(out_.str());
  EXPECT_EQ(printed.at("error").as_string(), "failed");
  EXPECT_NE(std::string_view(printed.at("detail").as_string()).find("cannot reach"),
            std::string_view::npos);
  out_.str("");
  EXPECT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=abc"}}), kExitUsage);
  EXPECT_EQ(json::parse(out_.str()).at("error").as_string(), "invalid_argument");
}

TEST_F(Commands, CheckpointNeedsANote) {
  EXPECT_EQ(run_checkpoint(ctx_, {.service = "shop", .note = ""}), kExitUsage);
  EXPECT_EQ(run_checkpoint(ctx_, {.service = "shop", .note = "  "}), kExitUsage);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(err_.str().rfind("rampart: checkpoint: --note is empty", 0), 0u) << err_.str();
}

TEST_F(Commands, TokenRevokeAndExpiry) {
  answer(200, R"({"name":"ci","role":"deployer","created_at":"x","expires_at":null,)"
              R"("revoked_at":"2026-11-23T15:20:01.123Z"})");
  ASSERT_EQ(run_token_revoke(ctx_, {.name = "ci"}), kExitOk);
  EXPECT_EQ(sent_[0].method, "DELETE");
  EXPECT_EQ(sent_[0].target, "/api/v1/tokens/ci");
  EXPECT_EQ(out_.str(),
            "token \"ci\" revoked at 2026-11-23T15:20:01.123Z: it is refused from now on\n");

  answer(201, R"({"name":"ci","role":"deployer","created_at":"x","token":"9f2c"})");
  ASSERT_EQ(run_token_create(ctx_, {.name = "ci", .role = "deployer", .expires = "30d"}), kExitOk);
  EXPECT_EQ(sent_body(1).at("expires_at").as_string(), "2026-12-23T15:20:01.123Z");
  EXPECT_EQ(run_token_create(ctx_, {.name = "ci", .role = "deployer", .expires = "soon"}),
            kExitUsage);
  EXPECT_EQ(sent_.size(), 2u);
}

TEST(ParseIntegerOption, SaysTheRangeInTheUsersWords) {
  struct Case {
    const char* text;
    std::int64_t min, max;
    const char* message;  // nullptr: accepted
  };
  const Case cases[] = {
      {"5", 1, 10000, nullptr},
      {"0", 0, 10, nullptr},
      {"0", 1, 10000, "--limit: 0 is out of range; give a whole number from 1 to 10000"},
      {"10001", 1, 10000, "--limit: 10001 is out of range; give a whole number from 1 to 10000"},
      {"99999999999999999999", 0, INT64_MAX,
       "--limit: 99999999999999999999 is out of range; give a whole number from 0 up"},
      {"-1", 0, INT64_MAX, "--limit: -1 is out of range; give a whole number from 0 up"},
      {"abc", 1, 10, "--limit: \"abc\" is not a whole number; give a whole number from 1 to 10"},
      {"1.5", 1, 10, "--limit: \"1.5\" is not a whole number; give a whole number from 1 to 10"},
      {"", 1, 10, "--limit: \"\" is not a whole number; give a whole number from 1 to 10"},
  };
  for (const auto& c : cases) {
    auto got = parse_integer_option("--limit", c.text, c.min, c.max);
    if (c.message == nullptr) {
      ASSERT_TRUE(got) << c.text << ": " << got.error().message;
      EXPECT_EQ(std::to_string(*got), c.text);
    } else {
      ASSERT_FALSE(got) << c.text;
      EXPECT_EQ(got.error().message, c.message);
    }
  }
}

TEST_F(Commands, RollbackBodies) {
  answer(201, kDeployment);
  answer(201, kDeployment);
  answer(201, kDeployment);
  ASSERT_EQ(run_rollback(ctx_, {.service = "shop"}), kExitOk);
  ASSERT_EQ(run_rollback(ctx_, {.service = "shop", .deployment_id = 2, .message = "why"}), kExitOk);
  ASSERT_EQ(run_rollback(ctx_, {.service = "shop", .checkpoint_id = 1}), kExitOk);
  EXPECT_EQ(sent_[0].target, "/api/v1/services/shop/rollback");
  EXPECT_EQ(sent_[0].body, "{}");
  EXPECT_EQ(sent_[1].body, R"({"deployment_id":2,"message":"why"})");
  EXPECT_EQ(sent_[2].body, R"({"checkpoint_id":1})");

  EXPECT_EQ(run_rollback(ctx_, {.service = "shop", .deployment_id = 2, .checkpoint_id = 1}),
            kExitUsage);
  EXPECT_EQ(sent_.size(), 3u);
}

TEST_F(Commands, Checkpoint) {
  answer(201, R"({"service":"shop","id":2,"deployment_id":7,"note":"freeze"})");
  ASSERT_EQ(run_checkpoint(ctx_, {.service = "shop", .note = "freeze"}), kExitOk);
  EXPECT_EQ(sent_[0].target, "/api/v1/services/shop/checkpoints");
  EXPECT_EQ(sent_[0].body, R"({"note":"freeze"})");
  EXPECT_EQ(out_.str(), "shop: checkpoint 2 of deployment 7\n");
}

TEST_F(Commands, AuditQuery) {
  answer(200, R"({"events":[]})");
  ASSERT_EQ(run_audit(ctx_, {.since = "10m", .limit = 5, .after = 3}), kExitOk);
  EXPECT_EQ(sent_[0].target,
            "/api/v1/audit?after=3&since=" + std::to_string(kNow - 600000) + "&limit=5");
  EXPECT_EQ(out_.str(), "SEQ  AT  ACTOR  ACTION  TARGET\n");

  EXPECT_EQ(run_audit(ctx_, {.since = "yesterday"}), kExitUsage);
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(err_.str().rfind("rampart: audit: --since: \"yesterday\"", 0), 0u) << err_.str();
}

TEST_F(Commands, TokenCreate) {
  answer(201, R"({"name":"ci","role":"deployer","created_at":"x","token":"9f2c"})");
  ASSERT_EQ(run_token_create(ctx_, {.name = "ci", .role = "deployer"}), kExitOk);
  EXPECT_EQ(sent_[0].body, R"({"name":"ci","role":"deployer"})");
  EXPECT_EQ(out_.str().substr(0, out_.str().find('\n')), "token \"ci\" (deployer): 9f2c");

  EXPECT_EQ(run_token_create(ctx_, {.name = "ci", .role = "root"}), kExitUsage);
  EXPECT_EQ(sent_.size(), 1u);
}

TEST_F(Commands, ApplyChecksTheFileLocallyFirst) {
  testing::TempDir dir;
  dir.write("bad.toml", "[server]\nlistn = \"127.0.0.1:1\"\nworkers = \"x\"\n");
  std::string bad = dir.file("bad.toml");
  EXPECT_EQ(run_apply(ctx_, {.file = bad}), kExitFailure);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(err_.str().rfind("rampart: " + bad + ":2: ", 0), 0u) << err_.str();
  // Every problem, one line each.
  const std::string err = err_.str();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2);
  EXPECT_NE(err.find("\nrampart: " + bad + ":3: "), std::string::npos) << err;

  err_.str("");
  EXPECT_EQ(run_apply(ctx_, {.file = dir.file("missing.toml")}), kExitFailure);
  EXPECT_NE(err_.str().find("missing.toml"), std::string::npos);
}

TEST_F(Commands, ApplySendsTheFileText) {
  testing::TempDir dir;
  const std::string text =
      "[[service]]\nname = \"shop\"\nroutes = [\"/\"]\n[[service.version]]\nname = \"v1\"\n"
      "upstreams = [\"http://127.0.0.1:9001\"]\n[service.split]\nv1 = 100\n";
  dir.write("rampart.toml", text);
  answer(200, R"({"changed":false,"revision":4,"deployments":[]})");
  ASSERT_EQ(run_apply(ctx_, {.file = dir.file("rampart.toml"), .message = "add v1"}), kExitOk)
      << err_.str();
  EXPECT_EQ(sent_[0].target, "/api/v1/apply");
  json::value body = sent_body();
  EXPECT_EQ(body.at("config").as_string(), text);
  EXPECT_EQ(body.at("source").as_string(), dir.file("rampart.toml"));
  EXPECT_EQ(body.at("message").as_string(), "add v1");
  EXPECT_EQ(out_.str(), "no change: the store already holds " + dir.file("rampart.toml") + "\n");
}

TEST_F(Commands, Reload) {
  answer(200, R"({"status":"reloaded","generation":3})");
  ASSERT_EQ(run_reload(ctx_), kExitOk);
  EXPECT_EQ(sent_[0].method, "POST");
  EXPECT_EQ(sent_[0].target, "/reload");
  EXPECT_EQ(out_.str(), "reloaded: routes generation 3\n");
}

TEST_F(Commands, Forbidden) {
  answer(403, R"({"error":"forbidden","detail":"role read-only may not change a split"})");
  EXPECT_EQ(run_split(ctx_, {.service = "shop", .shares = {"v1=100"}}), kExitFailure);
  EXPECT_EQ(err_.str(), "rampart: forbidden: role read-only may not change a split\n");
}

TEST(EncodePathSegment, Cases) {
  EXPECT_EQ(encode_path_segment("shop-1_a.b~"), "shop-1_a.b~");
  EXPECT_EQ(encode_path_segment("a/b?c#d"), "a%2Fb%3Fc%23d");
  EXPECT_EQ(encode_path_segment(".."), "..");
  EXPECT_EQ(encode_path_segment("é"), "%C3%A9");
}

}  // namespace
}  // namespace rampart::cli
