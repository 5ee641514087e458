// Strategy presets and --steps expanded into explicit steps, from strategy_cases.json.

#include "rollout/strategy.hpp"

#include "common/duration.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace rampart::rollout {
namespace {

namespace json = boost::json;

json::object cases() {
  std::ifstream in(std::string(RAMPART_SOURCE_DIR) + "/tests/unit/rollout/strategy_cases.json");
  EXPECT_TRUE(in) << "missing strategy_cases.json";
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).as_object();
}

template <typename T>
void expect_case(const json::object& c, const Result<T>& got, const std::vector<Step>* steps) {
  if (c.contains("error")) {
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, Errc::kInvalidArgument);
    EXPECT_NE(got.error().message.find(std::string(c.at("error").as_string())), std::string::npos)
        << got.error().message;
    return;
  }
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(describe(*steps), c.at("expect").as_string());
  if (!steps->empty()) {
    EXPECT_TRUE(validate_steps("steps", *steps));
  }
}

TEST(Strategy, NamedStrategiesFromTheCaseFile) {
  const auto all = cases();
  ASSERT_GE(all.at("strategies").as_array().size(), 15u);
  for (const auto& v : all.at("strategies").as_array()) {
    const auto& c = v.as_object();
    SCOPED_TRACE(std::string(c.at("name").as_string()));
    auto s = strategy_from_name(c.at("strategy").as_string());
    expect_case(c, s, s ? &s->steps : nullptr);
  }
}

TEST(Strategy, StepsFromPercentsFromTheCaseFile) {
  const auto all = cases();
  for (const auto& v : all.at("percents").as_array()) {
    const auto& c = v.as_object();
    SCOPED_TRACE(std::string(c.at("name").as_string()));
    auto pause = parse_duration(c.at("pause").as_string());
    ASSERT_TRUE(pause);
    auto steps = steps_from_percents(c.at("steps").as_string(), *pause);
    expect_case(c, steps, steps ? &*steps : nullptr);
  }
}

TEST(Strategy, BlueGreenHasNoStepsAndCanaryEndsAtFull) {
  EXPECT_EQ(strategy_from_name("blue-green")->kind, StrategyKind::kBlueGreen);
  EXPECT_EQ(strategy_from_name("canary10-5m")->steps.back(),
            (Step{10000, std::chrono::milliseconds(0)}));
  EXPECT_EQ(describe({Step{1000, {}, true}, Step{10000}}), "10% until promoted, 100%");
}

}  // namespace
}  // namespace rampart::rollout
