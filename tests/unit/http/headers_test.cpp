#include "http/headers.hpp"

#include "http/error_response.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <utility>
#include <vector>

namespace rampart::http {
namespace {

namespace bhttp = boost::beast::http;
using Fields = std::vector<std::pair<std::string, std::string>>;

bhttp::fields make(const Fields& list) {
  bhttp::fields f;
  for (const auto& [k, v] : list) {
    f.insert(k, v);
  }
  return f;
}

TEST(Headers, FramingTable) {
  struct Case {
    const char* name;
    Fields fields;
    Framing want;
  };
  const Case cases[] = {
      {"none", {{"Host", "x"}}, Framing::kNone},
      {"content-length", {{"Content-Length", "5"}}, Framing::kContentLength},
      {"chunked", {{"Transfer-Encoding", "chunked"}}, Framing::kChunked},
      {"chunked any case", {{"Transfer-Encoding", "Chunked"}}, Framing::kChunked},
      {"gzip then chunked", {{"Transfer-Encoding", "gzip, chunked"}}, Framing::kUnsupportedCoding},
      {"chunked with spaces", {{"Transfer-Encoding", " chunked "}}, Framing::kChunked},
      {"chunked not last", {{"Transfer-Encoding", "chunked, gzip"}}, Framing::kInvalid},
      {"gzip only", {{"Transfer-Encoding", "gzip"}}, Framing::kInvalid},
      {"chunked twice in one", {{"Transfer-Encoding", "chunked, chunked"}}, Framing::kInvalid},
      {"two TE fields",
       {{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}},
       Framing::kInvalid},
      {"TE with CL",
       {{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}},
       Framing::kInvalid},
      {"CL with TE",
       {{"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}},
       Framing::kInvalid},
      {"empty TE", {{"Transfer-Encoding", ""}}, Framing::kInvalid},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(request_framing(make(c.fields)), c.want);
  }
}

TEST(Headers, HasToken) {
  EXPECT_TRUE(has_token("100-continue", "100-continue"));
  EXPECT_TRUE(has_token("foo, 100-Continue", "100-continue"));
  EXPECT_FALSE(has_token("100-continued", "100-continue"));
  EXPECT_FALSE(has_token("", "close"));
}

TEST(Headers, ValidAuthorities) {
  struct Case {
    std::string_view authority;
    bool valid;
  };
  const Case cases[] = {
      {"shop.example.com", true},
      {"SHOP.Example.COM", true},
      {"shop.example.com:8080", true},
      {"shop.example.com:", true},  // RFC 3986: port = *DIGIT
      {"localhost", true},
      {"192.0.2.7:80", true},
      {"[::1]", true},
      {"[2001:db8::7]:8080", true},
      {"xn--bcher-kva.example", true},
      {"a%41b.example", true},
      {"under_score.example", true},
      {"", false},
      {":80", false},
      {"a b", false},
      {"a\tb", false},
      {"a\r\n b", false},
      {"good.example/evil", false},
      {"a, b", false},
      {"a.example,evil.example", false},
      {"user@shop.example.com", false},
      {"a<b>", false},
      {"shop.example.com:abc", false},
      {"shop.example.com:80:81", false},
      {"shop.example.com:123456", false},
      {"a%4", false},
      {"a%zz", false},
      {"[::1", false},
      {"[]", false},
      {"[::1]x", false},
      {"[a b]", false},
      {"a\\b", false},
      {std::string_view("a\0b", 3), false},
      {"caf\xc3\xa9.example", false},  // not percent-encoded
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.authority));
    EXPECT_EQ(is_valid_authority(c.authority), c.valid);
  }
}

TEST(ErrorResponse, IsJsonWithNullsForMissingNames) {
  auto res =
      make_error_response(bhttp::status::not_found, "no_route", "nothing \"here\"", "", "", true);
  EXPECT_EQ(res.result(), bhttp::status::not_found);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  auto v = boost::json::parse(res.body()).as_object();
  EXPECT_EQ(v.at("error").as_string(), "no_route");
  EXPECT_EQ(v.at("detail").as_string(), "nothing \"here\"");
  EXPECT_TRUE(v.at("service").is_null());
  EXPECT_TRUE(v.at("version").is_null());
  EXPECT_TRUE(res.keep_alive());
  auto named = make_error_response(bhttp::status::gateway_timeout, "upstream_timeout", "", "shop",
                                   "v2", false);
  auto w = boost::json::parse(named.body()).as_object();
  EXPECT_EQ(w.at("service").as_string(), "shop");
  EXPECT_EQ(w.at("version").as_string(), "v2");
  EXPECT_FALSE(named.keep_alive());
}

}  // namespace
}  // namespace rampart::http
