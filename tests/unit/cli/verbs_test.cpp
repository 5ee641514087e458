// The client verbs as the command line declares them: the flags each verb takes reach its run
// function, and a value out of range is the one-line usage error, before anything is sent.

#include "cli/verbs.hpp"

#include <gtest/gtest.h>
#include <CLI/CLI.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace rampart::cli {
namespace {

const char* kDeployment =
    R"({"service":"shop","id":5,"split":{"v1":90,"v2":10},"cause":"split","message":"m",)"
    R"("author":"bootstrap","created_at":"2026-11-23T15:20:01.123Z","revision":9})";

class Verbs : public ::testing::Test {
 protected:
  Verbs() {
    ctx_.transport = [this](const ApiRequest& req) -> Result<HttpResult> {
      sent_.push_back(req);
      return HttpResult{200, answer_};
    };
    ctx_.now_ms = [] { return std::int64_t{1795447201123}; };
  }

  // Parses `line` as the command line after "rampart" and runs the verb it names.
  int run(const std::string& line) {
    app_.parse(line, false);
    for (const auto& verb : verbs_) {
      if (verb.command->parsed()) {
        return verb.run(ctx_);
      }
    }
    ADD_FAILURE() << "no verb parsed: " << line;
    return -1;
  }

  CLI::App app_{"test", "rampart"};
  ClientOptions client_;
  std::vector<Verb> verbs_ = register_client_verbs(app_, client_);
  std::ostringstream out_, err_;
  Context ctx_{ClientSettings{}, false, out_, err_};
  std::string answer_ = kDeployment;
  std::vector<ApiRequest> sent_;
};

TEST_F(Verbs, EveryVerbIsRegisteredInHelpOrder) {
  std::vector<std::string> names;
  for (const auto& verb : verbs_) {
    const CLI::App* parent = verb.command->get_parent();
    names.push_back((parent == &app_ ? "" : parent->get_name() + " ") + verb.command->get_name());
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "apply", "status", "split", "deployments list", "rollback", "checkpoint",
                       "audit", "token create", "token list", "token revoke", "reload",
                       "secret put", "secret list", "secret delete", "tail", "logs", "restart"}));
}

TEST_F(Verbs, ASecretValueIsNeverAnArgument) {
  CLI::App app{"test", "rampart"};
  ClientOptions client;
  auto verbs = register_client_verbs(app, client);
  EXPECT_THROW(app.parse(std::vector<std::string>{"hunter2", "API_KEY", "shop", "put", "secret"}),
               CLI::ParseError);
}

TEST_F(Verbs, SplitFlagsReachItsRunFunction) {
  ASSERT_EQ(run("split shop v1=90 v2@10 -m canary --expect-revision 7 --force"), kExitOk)
      << err_.str();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].target, "/api/v1/services/shop/deployments");
  EXPECT_EQ(sent_[0].body,
            R"({"split":{"v1":90,"v2":10},"message":"canary","expected_revision":7,"force":true})");
}

TEST_F(Verbs, IntegerOptionsReachTheirRunFunctions) {
  ASSERT_EQ(run("rollback shop --checkpoint 2 -m why"), kExitOk) << err_.str();
  EXPECT_EQ(sent_.back().body, R"({"checkpoint_id":2,"message":"why"})");
  answer_ = R"({"deployments": []})";
  ASSERT_EQ(run("deployments list shop --limit 5"), kExitOk) << err_.str();
  EXPECT_EQ(sent_.back().target, "/api/v1/services/shop/deployments?limit=5");
  answer_ = R"({"events": []})";
  ASSERT_EQ(run("audit --after 3 --limit 2"), kExitOk) << err_.str();
  EXPECT_EQ(sent_.back().target, "/api/v1/audit?after=3&limit=2");
}

TEST_F(Verbs, AnOptionOutOfRangeIsAUsageErrorNamingTheVerb) {
  struct Case {
    const char* line;
    const char* err;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"deployments list shop --limit 0",
            "rampart: deployments list: --limit: 0 is out of range; give a whole number from 1 "
            "to 10000 (see rampart deployments list --help)\n"},
           {"split shop v1=100 --expect-revision x",
            "rampart: split: --expect-revision: \"x\" is not a whole number; give a whole number "
            "from 0 up (see rampart split --help)\n"},
           {"audit --after -1",
            "rampart: audit: --after: -1 is out of range; give a whole number from 0 to "
            "9999999999 (see rampart audit --help)\n"},
       }) {
    SCOPED_TRACE(c.line);
    CLI::App app{"test", "rampart"};
    ClientOptions client;
    auto verbs = register_client_verbs(app, client);
    app.parse(c.line, false);
    std::ostringstream err;
    Context ctx{ClientSettings{}, false, out_, err};
    ctx.transport = ctx_.transport;
    int rc = -1;
    for (const auto& verb : verbs) {
      rc = verb.command->parsed() ? verb.run(ctx) : rc;
    }
    EXPECT_EQ(rc, kExitUsage);
    EXPECT_EQ(err.str(), c.err);
  }
  EXPECT_TRUE(sent_.empty());
}

TEST_F(Verbs, StatusWithoutAServiceListsEveryService) {
  answer_ = R"({"services": []})";
  ASSERT_EQ(run("status"), kExitOk) << err_.str();
  EXPECT_EQ(sent_.back().target, "/api/v1/services");
}

}  // namespace
}  // namespace rampart::cli
