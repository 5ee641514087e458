// The write-side rules: names, free text, ids, splits and their stored order.

#include "model/validate.hpp"

#include "rollout/strategy.hpp"

#include <gtest/gtest.h>

namespace rampart::model {
namespace {

std::vector<Version> shop_versions() {
  // Ordinals deliberately not in name order.
  return {Version{.service = "shop", .name = "v2", .ordinal = 2},
          Version{.service = "shop", .name = "v1", .ordinal = 1},
          Version{.service = "shop", .name = "canary", .ordinal = 3}};
}

struct SplitCase {
  std::string name;
  std::vector<SplitEntry> split;
  std::string error;  // empty: valid
};

TEST(ValidateSplit, Table) {
  const std::vector<SplitCase> cases = {
      {"one version", {{"v1", 10000}}, ""},
      {"two versions", {{"v1", 9000}, {"v2", 1000}}, ""},
      {"zero share is allowed", {{"v1", 10000}, {"v2", 0}}, ""},
      {"smallest step", {{"v1", 9999}, {"canary", 1}}, ""},
      {"empty",
       {},
       "split: is empty; give at least one version its share (the shares sum to 100%)"},
      {"sums below",
       {{"v1", 9000}},
       "split: sums to 9000 bp (90%); it must sum to 10000 bp (100%)"},
      {"sums above",
       {{"v1", 9000}, {"v2", 1250}},
       "split: sums to 10250 bp (102.5%); it must sum to 10000 bp (100%)"},
      {"all zero", {{"v1", 0}}, "split: sums to 0 bp (0%); it must sum to 10000 bp (100%)"},
      {"unknown version",
       {{"v1", 5000}, {"v9", 5000}},
       "split: names version \"v9\", which service \"shop\" does not have; deploy it first"},
      {"twice", {{"v1", 5000}, {"v1", 5000}}, "split: names version \"v1\" twice"},
      {"share above 100%",
       {{"v1", 20000}, {"v2", 0}},
       "split: gives version \"v1\" 20000 bp (200%), more than 10000 bp (100%)"},
      {"overflowing shares",
       {{"v1", 4294967295u}, {"v2", 10001}},
       "split: gives version \"v1\" 4294967295 bp (42949672.95%), more than 10000 bp (100%)"},
  };
  for (const auto& c : cases) {
    auto st = validate_split("shop", c.split, shop_versions());
    if (c.error.empty()) {
      EXPECT_TRUE(st) << c.name << ": " << st.error().message;
    } else {
      ASSERT_FALSE(st) << c.name;
      EXPECT_EQ(st.error().code, Errc::kInvalidArgument) << c.name;
      EXPECT_EQ(st.error().message, c.error) << c.name;
    }
  }
}

TEST(CanonicalSplit, OrdersByOrdinal) {
  auto split = canonical_split({{"canary", 100}, {"v2", 900}, {"v1", 9000}}, shop_versions());
  EXPECT_EQ(split, (std::vector<SplitEntry>{{"v1", 9000}, {"v2", 900}, {"canary", 100}}));
  // Already in order: unchanged.
  EXPECT_EQ(canonical_split(split, shop_versions()), split);
}

struct NameCase {
  std::string name;
  bool service_ok;
  bool version_ok;
};

TEST(ValidateNames, Table) {
  const std::vector<NameCase> cases = {
      {"shop", true, true},
      {"shop-2_b", true, true},
      {"0shop", true, true},
      {"Shop", false, true},
      {"v1.2", false, true},
      {"", false, false},
      {"-x", false, false},
      {".x", false, false},
      {"a/b", false, false},
      {"a b", false, false},
      {std::string(63, 'a'), true, true},
      {std::string(64, 'a'), false, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(static_cast<bool>(validate_service_name("service", c.name)), c.service_ok) << c.name;
    EXPECT_EQ(static_cast<bool>(validate_version_name("version", c.name)), c.version_ok) << c.name;
    EXPECT_EQ(static_cast<bool>(validate_token_name("name", c.name)), c.version_ok) << c.name;
  }
  auto st = validate_service_name("service", "Shop");
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().message.starts_with("service: \"Shop\" is not a valid service name"))
      << st.error().message;
}

TEST(ValidateText, LengthAndUtf8) {
  struct Case {
    std::string text;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"", true},
      {"plain", true},
      {"multi\nline", true},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80", true},  // é € 🚀
      {std::string(kMaxTextBytes, 'x'), true},
      {std::string(kMaxTextBytes + 1, 'x'), false},
      {"\xff", false},
      {"\xc3", false},              // truncated
      {"\xc0\xaf", false},          // overlong '/'
      {"\xed\xa0\x80", false},      // surrogate
      {"\xf4\x90\x80\x80", false},  // above U+10FFFF
      {"ok\xe2\x82", false},        // truncated at the end
  };
  for (const auto& c : cases) {
    EXPECT_EQ(static_cast<bool>(validate_text("message", c.text)), c.ok) << c.text.size();
  }
  auto st = validate_text("note", "\xff");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "note: is not valid UTF-8");
}

TEST(ValidateId, Range) {
  EXPECT_TRUE(validate_id("id", 1));
  EXPECT_TRUE(validate_id("id", kMaxId));
  EXPECT_FALSE(validate_id("id", 0));
  EXPECT_FALSE(validate_id("id", -1));
  EXPECT_FALSE(validate_id("id", kMaxId + 1));
}

// The percentages validation messages print (rollout::percent_text, shared with config).
TEST(FormatPercent, Table) {
  EXPECT_EQ(rollout::percent_text(10000), "100%");
  EXPECT_EQ(rollout::percent_text(9000), "90%");
  EXPECT_EQ(rollout::percent_text(1250), "12.5%");
  EXPECT_EQ(rollout::percent_text(3333), "33.33%");
  EXPECT_EQ(rollout::percent_text(9950), "99.5%");
  EXPECT_EQ(rollout::percent_text(1), "0.01%");
  EXPECT_EQ(rollout::percent_text(0), "0%");
  EXPECT_EQ(rollout::percent_text(4294967295U), "42949672.95%");
}

RunSpec good_run() {
  RunSpec run;
  run.argv = {"./server", "--port", "{port}"};
  run.env = {{"LOG_LEVEL", "info"}};
  run.env_spec.required = {"DATABASE_URL"};
  run.env_spec.formats = {{"DATABASE_URL", "^postgres://"}};
  return run;
}

TEST(ValidateRunSpec, AcceptsAGoodSpecAndNamesTheFieldOfEachProblem) {
  EXPECT_TRUE(validate_run_spec(good_run()));
  struct Case {
    std::string_view name;
    void (*mutate)(RunSpec&);
    std::string_view expect;
  };
  const Case cases[] = {
      {"no command", [](RunSpec& r) { r.argv.clear(); }, "run.argv: is empty"},
      {"empty program", [](RunSpec& r) { r.argv = {""}; }, "run.argv: is empty"},
      {"zero instances", [](RunSpec& r) { r.instances = 0; }, "run.instances: is 0"},
      {"too many", [](RunSpec& r) { r.instances = 65; }, "run.instances: is 65"},
      {"PORT", [](RunSpec& r) { r.env["PORT"] = "1"; }, "run.env: PORT is set by rampart"},
      {"bad name", [](RunSpec& r) { r.env["1X"] = "1"; }, "run.env: \"1X\" is not"},
      {"NUL value", [](RunSpec& r) { r.env["X"] = std::string("a\0b", 3); }, "run.env: X:"},
      {"grace", [](RunSpec& r) { r.grace_ms = kMaxGraceMs + 1; }, "run.grace:"},
      {"secret twice",
       [](RunSpec& r) {
         r.secrets = std::vector<std::string>{"A", "A"};
       },
       "run.secrets: \"A\" is listed twice"},
      {"both lists", [](RunSpec& r) { r.env_spec.optional = {"DATABASE_URL"}; },
       "run.env_optional: \"DATABASE_URL\" is also required"},
      {"empty format", [](RunSpec& r) { r.env_spec.formats["X"] = ""; }, "run.env_formats: X:"},
  };
  for (const auto& c : cases) {
    RunSpec run = good_run();
    c.mutate(run);
    auto s = validate_run_spec(run);
    ASSERT_FALSE(s) << c.name;
    EXPECT_EQ(s.error().code, Errc::kInvalidArgument) << c.name;
    EXPECT_NE(s.error().message.find(c.expect), std::string::npos)
        << c.name << ": " << s.error().message;
  }
}

TEST(ValidateRunSpec, EnvNames) {
  EXPECT_TRUE(is_valid_env_name("API_KEY"));
  EXPECT_TRUE(is_valid_env_name("_x9"));
  EXPECT_FALSE(is_valid_env_name(""));
  EXPECT_FALSE(is_valid_env_name("9X"));
  EXPECT_FALSE(is_valid_env_name("A-B"));
  EXPECT_FALSE(is_valid_env_name(std::string(129, 'A')));
}

}  // namespace
}  // namespace rampart::model
