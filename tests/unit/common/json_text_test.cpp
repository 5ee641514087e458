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

}  // namespace
}  // namespace rampart
