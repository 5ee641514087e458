// The secret verbs against a fake admin API (the transport seam): what they send, what they
// print, how they exit; and how a value is read from stdin.

#include "cli/secret_commands.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <deque>
#include <sstream>

namespace rampart::cli {
namespace {

namespace json = boost::json;

TEST(ReadValue, StripsOneTrailingNewlineOnly) {
  struct Case {
    std::string in;
    std::string value;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"v\n", "v"},
           {"v", "v"},
           {"v\n\n", "v\n"},
           {"two\nlines\n", "two\nlines"},
           {"", ""},
           {"\n", ""},
           {"spaces kept \n", "spaces kept "},
           {"crlf\r\n", "crlf\r"},
       }) {
    std::istringstream in(c.in);
    auto v = read_value(in);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(*v, c.value) << c.in;
  }
}

TEST(ReadValue, AtMostTheLimit) {
  std::istringstream at(std::string(kMaxSecretValueBytes, 'x') + "\n");
  auto fits = read_value(at);
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->size(), kMaxSecretValueBytes);
  std::istringstream over(std::string(kMaxSecretValueBytes + 1, 'x'));
  auto refused = read_value(over);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "the value on stdin is longer than 65536 bytes, the most a secret holds");
}

class SecretCommands : public ::testing::Test {
 protected:
  SecretCommands() {
    ctx_.settings.address = "127.0.0.1:9901";
    ctx_.settings.token = "t";
    ctx_.settings.token_source = "--token";
    ctx_.transport = [this](const ApiRequest& req) -> Result<HttpResult> {
      sent_.push_back(req);
      if (answers_.empty()) {
        return make_error(Errc::kUnavailable, "cannot reach the admin API");
      }
      HttpResult r = answers_.front();
      answers_.pop_front();
      return r;
    };
  }
  void answer(unsigned status, std::string body) { answers_.push_back({status, std::move(body)}); }
  static ValueReader value(std::string v) {
    return [v](std::string_view) -> Result<std::string> { return v; };
  }

  std::ostringstream out_, err_;
  Context ctx_{ClientSettings{}, false, out_, err_};
  std::deque<HttpResult> answers_;
  std::vector<ApiRequest> sent_;
};

TEST_F(SecretCommands, PutSendsTheValueInTheBodyAndNeverPrintsIt) {
  answer(201, R"({"name":"API_KEY","version":1,"created_at":"2026-11-23T15:20:01.123Z"})");
  EXPECT_EQ(run_secret_put(ctx_, {"shop", "API_KEY"}, value("hunter2")), kExitOk) << err_.str();
  ASSERT_EQ(sent_.size(), 1U);
  EXPECT_EQ(sent_[0].method, "PUT");
  EXPECT_EQ(sent_[0].target, "/api/v1/services/shop/secrets/API_KEY");
  EXPECT_EQ(json::parse(sent_[0].body), json::parse(R"({"value":"hunter2"})"));
  EXPECT_EQ(out_.str(), "shop: secret API_KEY version 1 stored\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(SecretCommands, PutRefusesAnEmptyValueWithoutSending) {
  EXPECT_EQ(run_secret_put(ctx_, {"shop", "API_KEY"}, value("")), kExitUsage);
  EXPECT_TRUE(sent_.empty());
  EXPECT_TRUE(err_.str().starts_with("rampart: secret put: the value is empty")) << err_.str();
  EXPECT_EQ(run_secret_put(ctx_, {"", "API_KEY"}, value("v")), kExitUsage);
  EXPECT_EQ(run_secret_put(ctx_, {"shop", ""}, value("v")), kExitUsage);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(SecretCommands, PutReportsTheApiErrorInOneLine) {
  answer(403, R"({"error":"forbidden","detail":"token \"viewer\" has role read-only; this needs )"
              R"(role deployer or higher"})");
  EXPECT_EQ(run_secret_put(ctx_, {"shop", "API_KEY"}, value("hunter2")), kExitFailure);
  EXPECT_EQ(err_.str(),
            "rampart: forbidden: token \"viewer\" has role read-only; this needs role deployer "
            "or higher\n");
  EXPECT_EQ(out_.str().find("hunter2"), std::string::npos);
}

TEST_F(SecretCommands, ListPrintsATableOrTheJson) {
  const std::string body = R"({"service":"shop","secrets":[{"name":"API_KEY","version":2,)"
                           R"("created_at":"2026-11-23T15:20:01.123Z"},{"name":"DB","version":1,)"
                           R"("created_at":"2026-11-22T10:00:00.000Z"}]})";
  answer(200, body);
  EXPECT_EQ(run_secret_list(ctx_, {"shop", ""}), kExitOk) << err_.str();
  EXPECT_EQ(sent_.at(0).target, "/api/v1/services/shop/secrets");
  EXPECT_EQ(out_.str(),
            "NAME     VERSION  UPDATED\n"
            "API_KEY  2        2026-11-23T15:20:01.123Z\n"
            "DB       1        2026-11-22T10:00:00.000Z\n");
  out_.str("");
  ctx_.json = true;
  answer(200, body);
  EXPECT_EQ(run_secret_list(ctx_, {"shop", ""}), kExitOk);
  EXPECT_EQ(json::parse(out_.str()), json::parse(body));
}

TEST_F(SecretCommands, DeleteNamesWhatWasDeleted) {
  answer(200, R"({"name":"API_KEY","version":3,"created_at":"2026-11-23T15:20:01.123Z",)"
              R"("deleted":true})");
  EXPECT_EQ(run_secret_delete(ctx_, {"shop", "API_KEY"}), kExitOk) << err_.str();
  EXPECT_EQ(sent_.at(0).method, "DELETE");
  EXPECT_EQ(out_.str(), "shop: secret API_KEY deleted (it was at version 3)\n");
  answer(404, R"({"error":"not_found","detail":"no secret named \"X\" in service \"shop\""})");
  EXPECT_EQ(run_secret_delete(ctx_, {"shop", "X"}), kExitFailure);
}

}  // namespace
}  // namespace rampart::cli
