// The admin router on a table of its own: which entry a method and path reach, what the
// {…} segments capture, and the Allow of a path that only other methods serve.

#include "admin/router.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace rampart::admin {
namespace {

namespace bhttp = boost::beast::http;
using Verb = bhttp::verb;

Result<Reply> nothing(const Call&) { return Reply{}; }

constexpr std::array<Endpoint, 6> kShop = {{
    {Verb::get, "shelves", model::Role::kReadOnly, "limit", &nothing},
    {Verb::post, "shelves", model::Role::kDeployer, "", &nothing},
    {Verb::get, "shelves/top", model::Role::kReadOnly, "", &nothing},
    {Verb::get, "shelves/{shelf}", model::Role::kReadOnly, "", &nothing},
    {Verb::delete_, "shelves/{shelf}", model::Role::kAdmin, "", &nothing},
    {Verb::put, "shelves/{shelf}/items/{item}", model::Role::kDeployer, "", &nothing},
}};
constexpr std::array<Endpoint, 2> kOld = {{
    {Verb::get, "counter", model::Role::kReadOnly, "", &nothing},
    {Verb::post, "counter", model::Role::kDeployer, "", &nothing},
}};

TEST(Router, MatchesMethodAndPathAndCapturesSegments) {
  struct Case {
    Verb method;
    const char* path;
    const char* pattern;  // the entry that serves it; nullptr: none
    const char* allow;    // the Allow of a 405; empty: no entry matches the path (404)
    std::vector<std::string> params;
  };
  for (const auto& c : std::initializer_list<Case>{
           {Verb::get, "shelves", "shelves", "GET, HEAD, POST", {}},
           {Verb::post, "shelves", "shelves", "GET, HEAD, POST", {}},
           // HEAD is served as GET wherever GET is.
           {Verb::head, "shelves/7", "shelves/{shelf}", "GET, HEAD, DELETE", {"7"}},
           {Verb::put, "shelves", nullptr, "GET, HEAD, POST", {}},
           {Verb::head, "shelves/7/items/3", nullptr, "PUT", {}},
           // A literal entry before a {…} one reaches it; the {…} one still adds its methods.
           {Verb::get, "shelves/top", "shelves/top", "GET, HEAD, DELETE", {}},
           {Verb::delete_, "shelves/top", "shelves/{shelf}", "GET, HEAD, DELETE", {"top"}},
           {Verb::put, "shelves/a b/items/ü", "shelves/{shelf}/items/{item}", "PUT", {"a b", "ü"}},
           // Too few or too many segments, or another literal: no entry.
           {Verb::get, "shelves/7/items", nullptr, "", {}},
           {Verb::get, "shelves/7/items/3/x", nullptr, "", {}},
           {Verb::get, "shelf", nullptr, "", {}},
           {Verb::get, "", nullptr, "", {}},
       }) {
    SCOPED_TRACE(std::string(bhttp::to_string(c.method)) + " " + c.path);
    const auto m = match_endpoint(kShop, c.method, path_segments(c.path));
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

TEST(Router, FirstReleaseTablesKeepTheirAllowAndCheckTheQueryFirst) {
  const std::array<EndpointTable, 2> tables = {
      {{kShop, Conventions::kCurrent}, {kOld, Conventions::kFirstRelease}}};
  auto old = match_endpoint(tables, Verb::delete_, path_segments("counter"));
  EXPECT_EQ(old.endpoint, nullptr);
  EXPECT_EQ(old.allow, "GET, POST");
  EXPECT_TRUE(old.query_first);
  EXPECT_TRUE(match_endpoint(tables, Verb::get, path_segments("nowhere")).query_first);
  EXPECT_FALSE(match_endpoint(tables, Verb::put, path_segments("shelves")).query_first);
  auto head = match_endpoint(tables, Verb::head, path_segments("counter"));
  ASSERT_NE(head.endpoint, nullptr);
  EXPECT_EQ(head.endpoint->method, Verb::get);
  auto shop = match_endpoint(tables, Verb::put, path_segments("shelves"));
  EXPECT_EQ(shop.allow, "GET, HEAD, POST");
}

TEST(Router, PathSegmentsArePercentDecodedAndEmptyOnesLeftOut) {
  struct Case {
    const char* path;
    std::vector<std::string> parts;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"/services/shop", {"services", "shop"}},
           {"/services/shop/", {"services", "shop"}},
           {"services", {"services"}},
           {"/", {}},
           {"", {}},
           {"/services/caf%C3%A9", {"services", "café"}},
           {"/services/a%2Fb", {"services", "a/b"}},
           {"/services/a%20b%2x%", {"services", "a b%2x%"}},
           {"/services/%e4%b8%ad", {"services", "中"}},
       }) {
    EXPECT_EQ(path_segments(c.path), c.parts) << c.path;
  }
  EXPECT_TRUE(has_empty_segment("/services//deployments"));
  EXPECT_TRUE(has_empty_segment("//"));
  EXPECT_FALSE(has_empty_segment("/services/shop/"));
  EXPECT_FALSE(has_empty_segment("/services/a%2F%2Fb"));
}

TEST(Router, QueryNamesAreTheEntrysCommaSeparatedList) {
  EXPECT_EQ(query_names("after, since, limit"),
            (std::vector<std::string_view>{"after", "since", "limit"}));
  EXPECT_EQ(query_names("limit"), (std::vector<std::string_view>{"limit"}));
  EXPECT_TRUE(query_names("").empty());
}

}  // namespace
}  // namespace rampart::admin
