#include "common/json_text.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace rampart {
namespace {

TEST(JsonText, WritesDoublesInTheirShortestExactForm) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"a":0.5})", R"({"a":0.5})"},
           {R"([12.5,33.33,0.01])", R"([12.5,33.33,0.01])"},
           {R"({"big":1e21,"neg":-2.25})", R"({"big":1e+21,"neg":-2.25})"},
           {R"({"i":90,"u":18446744073709551615,"s":"x\"y","n":null,"b":true})",
            R"({"i":90,"u":18446744073709551615,"s":"x\"y","n":null,"b":true})"},
           {R"({"nested":{"list":[{"k":[]},{}]}})", R"({"nested":{"list":[{"k":[]},{}]}})"},
       }) {
    auto v = boost::json::parse(c.in);
    EXPECT_EQ(to_json_text(v), c.out) << c.in;
    // And it reads back as the same value.
    EXPECT_EQ(boost::json::parse(to_json_text(v)), v) << c.in;
  }
}

TEST(JsonText, KeepsObjectKeysInInsertionOrderAndEscapesThem) {
  boost::json::object o;
  o["z"] = 1;
  o["a\n"] = 2;
  EXPECT_EQ(to_json_text(o), "{\"z\":1,\"a\\n\":2}");
}

TEST(ParseJson, RefusesADuplicateKeyNamingItsPath) {
  struct Case {
    const char* in;
    const char* error;  // nullptr: accepted
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"split":{"v1":50,"v2":50}})", nullptr},
           {R"({"a":{"x":1},"b":{"x":1}})", nullptr},  // the same key in two objects
           {R"([{"k":1},{"k":2}])", nullptr},
           {R"({"split":{"v1":50,"v1":50}})",
            R"(split.v1: the key "v1" appears twice; give each key once)"},
           {R"({"name":"a","name":"b"})",
            R"(name: the key "name" appears twice; give each key once)"},
           {R"({"l":[{"k":1},{"k":1,"k":2}]})",
            R"(l[1].k: the key "k" appears twice; give each key once)"},
           {R"({"ab":1,"ab":2})", R"(ab: the key "ab" appears twice; give each key once)"},
           {R"({"a":)", "not valid JSON: "},
       }) {
    auto got = parse_json(c.in);
    if (c.error == nullptr) {
      ASSERT_TRUE(got) << c.in << ": " << got.error().message;
      EXPECT_EQ(*got, boost::json::parse(c.in)) << c.in;
      continue;
    }
    ASSERT_FALSE(got) << c.in;
    EXPECT_EQ(got.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(got.error().message.starts_with(c.error)) << c.in << ": " << got.error().message;
  }
}

}  // namespace
}  // namespace rampart
