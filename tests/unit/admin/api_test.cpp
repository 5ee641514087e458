// The API's request rules that need no server: methods, query parameters, duplicate keys, the
// times it reads.

#include "admin/api.hpp"

#include "store/memory_store.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <optional>
#include <string>

namespace rampart::admin {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

TEST(ParseRfc3339Utc, Cases) {
  struct Case {
    const char* text;
    std::optional<std::int64_t> ms;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"1970-01-01T00:00:00Z", 0},
           {"2026-11-23T15:20:01.123Z", 1795447201123},
           {"2026-11-23T15:20:01Z", 1795447201000},
           {"2026-11-23t15:20:01.5z", 1795447201500},
           {"2024-02-29T00:00:00Z", 1709164800000},
           {"2023-02-29T00:00:00Z", std::nullopt},
           {"2026-11-23T15:20:01+01:00", std::nullopt},  // UTC only
           {"2026-11-23", std::nullopt},
           {"2026-13-01T00:00:00Z", std::nullopt},
           {"1969-12-31T23:59:59Z", std::nullopt},
           {"2026-11-23T15:20:01.Z", std::nullopt},
           {"tomorrow", std::nullopt},
       }) {
    EXPECT_EQ(parse_rfc3339_utc(c.text), c.ms) << c.text;
    if (c.ms && std::string_view(c.text).find('.') != std::string_view::npos &&
        std::string_view(c.text).ends_with("Z") && std::string_view(c.text)[10] == 'T') {
      EXPECT_EQ(rfc3339(*c.ms), c.text);
    }
  }
}

class ApiRules : public ::testing::Test {
 protected:
  Request request(bhttp::verb method, std::string target, std::string body = "") {
    Request req{method, target, 11};
    req.set(bhttp::field::authorization, "Bearer " + secret_);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }
  json::value body_of(const Response& res) { return json::parse(res.body()); }

  void SetUp() override {
    auto created = service_.create_token("root", model::Role::kAdmin, "rampart");
    ASSERT_TRUE(created) << created.error().message;
    secret_ = created->secret;
  }

  store::MemoryStore store_;
  control::DeploymentService service_{store_};
  metrics::Registry registry_{1};
  control::RolloutService rollouts_{store_};
  Api api_{service_, registry_, rollouts_};
  std::string secret_;
};

TEST_F(ApiRules, EveryEndpointOutsideTheApiRefusesOtherMethodsWithAllow) {
  struct Case {
    bhttp::verb method;
    const char* target;
    const char* allow;  // nullptr: served by the caller (nullopt)
  };
  for (const auto& c : std::initializer_list<Case>{
           {bhttp::verb::post, "/health", "GET, HEAD"},
           {bhttp::verb::get, "/health", nullptr},
           {bhttp::verb::head, "/health?detailed=1", nullptr},
           {bhttp::verb::post, "/metrics", "GET, HEAD"},
           {bhttp::verb::get, "/metrics", nullptr},
           {bhttp::verb::get, "/reload", "POST"},
           {bhttp::verb::post, "/reload", nullptr},
           {bhttp::verb::get, "/elsewhere", nullptr},
       }) {
    auto res = api_.handle(request(c.method, c.target));
    if (c.allow == nullptr) {
      EXPECT_FALSE(res) << c.target;
      continue;
    }
    ASSERT_TRUE(res) << c.target;
    EXPECT_EQ(res->result(), bhttp::status::method_not_allowed) << c.target;
    EXPECT_EQ((*res)[bhttp::field::allow], c.allow) << c.target;
  }
}

TEST_F(ApiRules, EveryApiPathIsAnEndpointA405OrA404) {
  struct Case {
    bhttp::verb method;
    const char* target;
    bhttp::status status;
    const char* allow;   // the 405's Allow
    const char* detail;  // a part of the answer's detail
  };
  for (const auto& c : std::initializer_list<Case>{
           {bhttp::verb::get, "/api/v1/tokens", bhttp::status::ok, "", ""},
           {bhttp::verb::head, "/api/v1/audit", bhttp::status::ok, "", ""},
           {bhttp::verb::get, "/api/v1/services/", bhttp::status::ok, "", ""},
           {bhttp::verb::put, "/api/v1/tokens", bhttp::status::method_not_allowed, "GET, POST",
            "/api/v1/tokens does not take PUT; use GET, POST"},
           {bhttp::verb::head, "/api/v1/tokens/root", bhttp::status::method_not_allowed, "DELETE",
            ""},
           {bhttp::verb::post, "/api/v1/services/shop/versions/v1",
            bhttp::status::method_not_allowed, "GET", ""},
           {bhttp::verb::get, "/api/v1/services/shop/rollout/pause",
            bhttp::status::method_not_allowed, "POST", ""},
           {bhttp::verb::get, "/api/v1/services/shop/nothing", bhttp::status::not_found, "",
            "no API endpoint GET /api/v1/services/shop/nothing; docs/api.md lists them"},
           {bhttp::verb::get, "/api/v1", bhttp::status::not_found, "", "docs/api.md lists them"},
           {bhttp::verb::get, "/api/v1/services//versions", bhttp::status::not_found, "",
            "a path segment is empty"},
           // Segments are decoded before the handler sees them.
           {bhttp::verb::get, "/api/v1/services/n%C3%B6pe", bhttp::status::bad_request, "", "nöpe"},
       }) {
    SCOPED_TRACE(c.target);
    auto res = api_.handle(request(c.method, c.target));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), c.status) << res->body();
    EXPECT_EQ((*res)[bhttp::field::allow], c.allow);
    EXPECT_NE(res->body().find(c.detail), std::string::npos) << res->body();
  }
}

TEST_F(ApiRules, AQueryParameterOnAWrongMethodIsA400ForTheFirstReleasesEndpointsOnly) {
  auto audit = api_.handle(request(bhttp::verb::post, "/api/v1/audit?after=1"));
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->result(), bhttp::status::bad_request);
  EXPECT_NE(audit->body().find("after: unknown query parameter; this endpoint takes none"),
            std::string::npos)
      << audit->body();
  auto rollouts = api_.handle(request(bhttp::verb::delete_, "/api/v1/services/shop/rollouts?x=1"));
  ASSERT_TRUE(rollouts);
  EXPECT_EQ(rollouts->result(), bhttp::status::method_not_allowed);
  EXPECT_EQ((*rollouts)[bhttp::field::allow], "GET, HEAD, POST");
}

TEST_F(ApiRules, QueryParametersAreCheckedBeforeTheRole) {
  auto created = service_.create_token("reader", model::Role::kReadOnly, "rampart");
  ASSERT_TRUE(created);
  Request req = request(bhttp::verb::get, "/api/v1/tokens?x=1");
  req.set(bhttp::field::authorization, "Bearer " + created->secret);
  auto bad_query = api_.handle(req);
  ASSERT_TRUE(bad_query);
  EXPECT_EQ(bad_query->result(), bhttp::status::bad_request);
  req.target("/api/v1/tokens");
  auto forbidden = api_.handle(req);
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->result(), bhttp::status::forbidden);
}

TEST_F(ApiRules, DetailedIsTrueOrOne) {
  for (const auto& [target, detailed] :
       std::initializer_list<std::pair<const char*, bool>>{{"/health", false},
                                                           {"/health?detailed=true", true},
                                                           {"/health?detailed=1", true},
                                                           {"/health?detailed=false", false},
                                                           {"/health?detailed=0", false}}) {
    EXPECT_EQ(wants_detail(request(bhttp::verb::get, target)), detailed) << target;
    EXPECT_FALSE(api_.handle(request(bhttp::verb::get, target))) << target;
  }
  auto bad = api_.handle(request(bhttp::verb::get, "/health?detailed=yes"));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->result(), bhttp::status::bad_request);
  EXPECT_EQ(body_of(*bad).at("field").as_string(), "detailed");
}

TEST_F(ApiRules, UnknownQueryParametersAreRefusedByName) {
  struct Case {
    const char* target;
    const char* field;  // nullptr: accepted
  };
  for (const auto& c : std::initializer_list<Case>{
           {"/api/v1/audit?limit=1&after=0&since=0", nullptr},
           {"/api/v1/audit?lmit=1", "lmit"},
           {"/api/v1/services?limit=1", "limit"},
           {"/api/v1/tokens?x", "x"},
           {"/metrics?format=json", "format"},
           // The first release's endpoints refuse the parameter before their 404 or 405.
           {"/api/v1/nowhere?x=1", "x"},
           {"/api/v1/services/shop/versions/v1/x?y=1", "y"},
       }) {
    auto res = api_.handle(request(bhttp::verb::get, c.target));
    ASSERT_TRUE(res) << c.target;
    if (c.field == nullptr) {
      EXPECT_EQ(res->result(), bhttp::status::ok) << c.target << ": " << res->body();
      continue;
    }
    EXPECT_EQ(res->result(), bhttp::status::bad_request) << c.target;
    EXPECT_EQ(body_of(*res).at("field").as_string(), c.field) << c.target;
    EXPECT_NE(res->body().find("unknown query parameter"), std::string::npos) << res->body();
  }
}

TEST_F(ApiRules, ADuplicateKeyIsRefusedWithItsField) {
  auto res = api_.handle(request(bhttp::verb::post, "/api/v1/tokens",
                                 R"({"name": "a", "role": "admin", "role": "read-only"})"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), bhttp::status::bad_request);
  EXPECT_EQ(body_of(*res).at("field").as_string(), "role");
  auto tokens = service_.tokens();
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->size(), 1u);  // nothing created
}

TEST_F(ApiRules, ARevokedTokenIsRefusedWithAClearDetail) {
  auto ci = service_.create_token("ci", model::Role::kDeployer, "root");
  ASSERT_TRUE(ci);
  auto revoke = api_.handle(request(bhttp::verb::delete_, "/api/v1/tokens/ci"));
  ASSERT_TRUE(revoke);
  EXPECT_EQ(revoke->result(), bhttp::status::ok) << revoke->body();
  Request req = request(bhttp::verb::get, "/api/v1/services");
  req.set(bhttp::field::authorization, "Bearer " + ci->secret);
  auto refused = api_.handle(req);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), bhttp::status::unauthorized);
  EXPECT_EQ(body_of(*refused).at("detail").as_string(),
            "token \"ci\" was revoked; ask an admin for a new one");
}

}  // namespace
}  // namespace rampart::admin
