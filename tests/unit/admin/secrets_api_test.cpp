// The secret endpoints through admin::Api over a real (memory) store and a real SecretStore:
// what they answer, the roles they need, the bodies they refuse, and that a value never comes
// back out, in an answer, an error or the audit log.

#include "admin/api.hpp"

#include "common/json_text.hpp"
#include "secrets/secret_store.hpp"
#include "store/memory_store.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>

namespace rampart::admin {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kValue = "sk_live_9f8e7d6c5b4a";

class SecretsApi : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [name, role] :
         {std::pair{"root", model::Role::kAdmin}, std::pair{"ci", model::Role::kDeployer},
          std::pair{"viewer", model::Role::kReadOnly}}) {
      auto created = service_.create_token(name, role, "rampart");
      ASSERT_TRUE(created) << created.error().message;
      tokens_[name] = created->secret;
    }
  }

  Response send(bhttp::verb method, const std::string& target, std::string body = "",
                const std::string& token = "ci") {
    Request req{method, target, 11};
    req.set(bhttp::field::authorization, "Bearer " + tokens_[token]);
    req.body() = std::move(body);
    req.prepare_payload();
    auto res = api_.handle(req);
    EXPECT_TRUE(res) << target;
    answers_ += res ? res->body() : "";
    return res ? std::move(*res) : Response{};
  }
  Response put(const std::string& name, std::string_view value, const std::string& token = "ci") {
    return send(bhttp::verb::put, "/api/v1/services/shop/secrets/" + name,
                json::serialize(json::object{{"value", value}}), token);
  }
  static json::object body_of(const Response& res) { return json::parse(res.body()).as_object(); }

  // Every audit event, as JSON text.
  std::string audit_text() {
    auto events = service_.audit({});
    EXPECT_TRUE(events);
    std::string out;
    for (const auto& e : *events) {
      out += to_json_text(api_json(e)) + "\n";
    }
    return out;
  }

  store::MemoryStore store_;
  control::DeploymentService service_{store_};
  metrics::Registry registry_{1};
  control::RolloutService rollouts_{store_};
  secrets::SecretStore secrets_{store_, *secrets::MasterKey::generate()};
  Api api_{service_, registry_, rollouts_, Extensions{.secrets = &secrets_}};
  std::map<std::string, std::string> tokens_;
  std::string answers_;  // every answer's body so far
};

TEST_F(SecretsApi, PutMakesVersionsListShowsThemDeleteRemoves) {
  auto first = put("API_KEY", kValue);
  EXPECT_EQ(first.result(), bhttp::status::created);
  auto o = body_of(first);
  EXPECT_EQ(o.at("name"), "API_KEY");
  EXPECT_EQ(o.at("version"), 1);
  EXPECT_TRUE(o.at("created_at").as_string().ends_with("Z"));
  EXPECT_FALSE(o.contains("value"));

  auto second = put("API_KEY", "another");
  EXPECT_EQ(second.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(second).at("version"), 2);
  EXPECT_EQ(put("DB_PASSWORD", "pw").result(), bhttp::status::created);

  auto list = send(bhttp::verb::get, "/api/v1/services/shop/secrets");
  EXPECT_EQ(list.result(), bhttp::status::ok);
  auto l = body_of(list);
  EXPECT_EQ(l.at("service"), "shop");
  const auto& items = l.at("secrets").as_array();
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[0].at("name"), "API_KEY");
  EXPECT_EQ(items[0].at("version"), 2);
  EXPECT_EQ(items[1].at("name"), "DB_PASSWORD");
  EXPECT_EQ(items[1].as_object().size(), 3U);  // name, version, created_at: nothing else

  auto gone = send(bhttp::verb::delete_, "/api/v1/services/shop/secrets/API_KEY");
  EXPECT_EQ(gone.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(gone).at("deleted"), true);
  EXPECT_EQ(body_of(gone).at("version"), 2);
  auto after = body_of(send(bhttp::verb::get, "/api/v1/services/shop/secrets"));
  ASSERT_EQ(after.at("secrets").as_array().size(), 1U);

  // The secret store itself still opens what the API put.
  auto got = secrets_.get("shop", "DB_PASSWORD");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->value, "pw");
}

TEST_F(SecretsApi, AnEmptyListForAServiceWithoutSecrets) {
  auto list = send(bhttp::verb::get, "/api/v1/services/nothing-here/secrets", "", "viewer");
  EXPECT_EQ(list.result(), bhttp::status::ok);
  EXPECT_TRUE(body_of(list).at("secrets").as_array().empty());
}

TEST_F(SecretsApi, UnknownSecretIs404) {
  auto res = send(bhttp::verb::delete_, "/api/v1/services/shop/secrets/NOPE");
  EXPECT_EQ(res.result(), bhttp::status::not_found);
  EXPECT_EQ(body_of(res).at("error"), "not_found");
  EXPECT_EQ(body_of(res).at("detail"), "no secret named \"NOPE\" in service \"shop\"");
}

TEST_F(SecretsApi, Roles) {
  // read-only lists, but neither puts nor deletes.
  auto refused = put("API_KEY", kValue, "viewer");
  EXPECT_EQ(refused.result(), bhttp::status::forbidden);
  EXPECT_NE(body_of(refused).at("detail").as_string().find("this needs role deployer"),
            std::string::npos);
  EXPECT_EQ(send(bhttp::verb::get, "/api/v1/services/shop/secrets", "", "viewer").result(),
            bhttp::status::ok);
  EXPECT_EQ(put("API_KEY", kValue, "ci").result(), bhttp::status::created);
  EXPECT_EQ(put("API_KEY", kValue, "root").result(), bhttp::status::ok);
  EXPECT_EQ(
      send(bhttp::verb::delete_, "/api/v1/services/shop/secrets/API_KEY", "", "viewer").result(),
      bhttp::status::forbidden);
  EXPECT_EQ(send(bhttp::verb::delete_, "/api/v1/services/shop/secrets/API_KEY").result(),
            bhttp::status::ok);
  // No token at all.
  Request anonymous{bhttp::verb::get, "/api/v1/services/shop/secrets", 11};
  EXPECT_EQ(api_.handle(anonymous)->result(), bhttp::status::unauthorized);
}

TEST_F(SecretsApi, BadBodiesAreJson400sNamingTheProblem) {
  struct Case {
    std::string name;  // the secret's name in the path
    std::string body;
    std::string field;
    std::string detail_start;
  };
  const std::string v(kValue);
  for (const auto& c : std::initializer_list<Case>{
           {"API_KEY", "", "value", "value: missing; send {\"value\": \"...\"}"},
           {"API_KEY", "{}", "value", "value: missing"},
           {"API_KEY", v, "body", "body: not valid JSON"},
           {"API_KEY", "\"" + v + "\"", "body", "body: must be a JSON object"},
           {"API_KEY", "[\"" + v + "\"]", "body", "body: must be a JSON object"},
           {"API_KEY", "{\"value\": 42}", "value", "value: must be a string"},
           {"API_KEY", "{\"value\": \"" + v + "\", \"note\": \"x\"}", "note",
            "note: unknown field; this endpoint takes value"},
           {"API_KEY", "{\"value\": \"" + v + "\", \"value\": \"" + v + "\"}", "value",
            "value: the key \"value\" appears twice"},
           {"API_KEY", "{\"value\": \"\"}", "value", "value: is empty"},
           {"API_KEY", "{\"value\": \"a\\u0000b\"}", "value", "value: holds a NUL byte"},
           {"api_key", "{\"value\": \"" + v + "\"}", "name", "name: \"api_key\" holds"},
           {"9LIVES", "{\"value\": \"" + v + "\"}", "name", "name: \"9LIVES\" starts with a digit"},
       }) {
    SCOPED_TRACE(c.body);
    auto res = send(bhttp::verb::put, "/api/v1/services/shop/secrets/" + c.name, c.body);
    EXPECT_EQ(res.result(), bhttp::status::bad_request);
    auto o = body_of(res);
    EXPECT_EQ(o.at("error"), "invalid_argument");
    EXPECT_EQ(o.at("field").as_string(), c.field);
    EXPECT_TRUE(o.at("detail").as_string().starts_with(c.detail_start)) << o.at("detail");
  }
  // A value too large is refused by its size, not quoted.
  auto big = put("API_KEY", std::string(secrets::kMaxValueBytes + 1, 'x'));
  EXPECT_EQ(big.result(), bhttp::status::bad_request);
  EXPECT_EQ(big.body().find("xxxx"), std::string::npos);
  EXPECT_EQ(answers_.find(kValue), std::string::npos) << answers_;
  EXPECT_TRUE(body_of(send(bhttp::verb::get, "/api/v1/services/shop/secrets"))
                  .at("secrets")
                  .as_array()
                  .empty());
}

TEST_F(SecretsApi, NoValueInAnswersOrTheAuditLog) {
  ASSERT_EQ(put("API_KEY", kValue).result(), bhttp::status::created);
  ASSERT_EQ(put("API_KEY", std::string(kValue) + "-2").result(), bhttp::status::ok);
  send(bhttp::verb::get, "/api/v1/services/shop/secrets");
  send(bhttp::verb::get, "/api/v1/audit");
  send(bhttp::verb::delete_, "/api/v1/services/shop/secrets/API_KEY");
  const std::string audit = audit_text();
  // The audit log records that the secret changed...
  EXPECT_NE(audit.find("secret.put"), std::string::npos) << audit;
  EXPECT_NE(audit.find("secret.delete"), std::string::npos) << audit;
  EXPECT_NE(audit.find("secret:shop/API_KEY"), std::string::npos) << audit;
  // ...and never what it holds, nor does any answer.
  EXPECT_EQ(audit.find(kValue), std::string::npos) << audit;
  EXPECT_EQ(answers_.find(kValue), std::string::npos) << answers_;
  EXPECT_EQ(audit.find("sealed"), std::string::npos) << audit;
}

TEST(SecretsApiNotWired, EveryEndpointAnswers503) {
  store::MemoryStore store;
  control::DeploymentService service{store};
  metrics::Registry registry{1};
  control::RolloutService rollouts{store};
  Api api{service, registry, rollouts};
  auto token = service.create_token("root", model::Role::kAdmin, "rampart");
  ASSERT_TRUE(token);
  for (auto method : {bhttp::verb::get, bhttp::verb::put, bhttp::verb::delete_}) {
    const std::string target = method == bhttp::verb::get ? "/api/v1/services/shop/secrets"
                                                          : "/api/v1/services/shop/secrets/K";
    Request req{method, target, 11};
    req.set(bhttp::field::authorization, "Bearer " + token->secret);
    req.body() = method == bhttp::verb::put ? R"({"value": "v"})" : "";
    req.prepare_payload();
    auto res = api.handle(req);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), bhttp::status::service_unavailable) << target;
    auto o = json::parse(res->body()).as_object();
    EXPECT_EQ(o.at("error"), "unavailable");
    EXPECT_NE(o.at("detail").as_string().find("secrets are not available"), std::string::npos);
  }
  // A server without secrets is not a server whose store fails.
  EXPECT_EQ(api.store_error(), "");
}

}  // namespace
}  // namespace rampart::admin
