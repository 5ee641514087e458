// The environment check (runner/env_check.hpp), from a table of cases: a spec and the variables
// given -> the errors, the warnings and the summary line.

#include "runner/env_check.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <map>
#include <string>
#include <vector>

namespace rampart::runner {
namespace {

using Vars = std::map<std::string, std::string>;
using Names = std::vector<std::string>;

struct Case {
  std::string name;  // what it pins down
  model::EnvSpec spec;
  Vars vars;
  Names missing;
  Names malformed;  // names only; the reasons are checked by the summary
  Names missing_optional;
  std::string errors;    // env_error_text
  std::string warnings;  // env_warning_text
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"an empty spec accepts anything", {}, {{"X", "1"}}, {}, {}, {}, "", ""},
      {"every required variable given",
       {{"A", "B"}, {}, {}},
       {{"A", "1"}, {"B", "2"}},
       {},
       {},
       {},
       "",
       ""},
      {"missing required ones are listed in spec order",
       {{"DATABASE_URL", "API_KEY", "PORT_BASE"}, {}, {}},
       {{"PORT_BASE", "1"}},
       {"DATABASE_URL", "API_KEY"},
       {},
       {},
       "env: missing DATABASE_URL, API_KEY",
       ""},
      {"an empty value counts as missing",
       {{"A"}, {}, {}},
       {{"A", ""}},
       {"A"},
       {},
       {},
       "env: missing A",
       ""},
      {"a missing optional one is a warning, not an error",
       {{}, {"LOG_LEVEL", "SENTRY_DSN"}, {}},
       {{"SENTRY_DSN", "x"}},
       {},
       {},
       {"LOG_LEVEL"},
       "",
       "env: optional LOG_LEVEL not set"},
      {"an empty optional one is a warning",
       {{}, {"A", "B"}, {}},
       {{"A", ""}},
       {},
       {},
       {"A", "B"},
       "",
       "env: optional A, B not set"},
      {"a format must match the whole value",
       {{"PORT_BASE"}, {}, {{"PORT_BASE", "[0-9]+"}}},
       {{"PORT_BASE", "80a"}},
       {},
       {"PORT_BASE"},
       {},
       "env: malformed PORT_BASE (must match [0-9]+)",
       ""},
      {"a value that matches its format",
       {{"P"}, {}, {{"P", "^[0-9]+$"}}},
       {{"P", "8080"}},
       {},
       {},
       {},
       "",
       ""},
      {"missing and malformed together, in one line",
       {{"DATABASE_URL", "API_KEY", "PORT_BASE"}, {}, {{"PORT_BASE", "^[0-9]+$"}}},
       {{"PORT_BASE", "eighty"}},
       {"DATABASE_URL", "API_KEY"},
       {"PORT_BASE"},
       {},
       "env: missing DATABASE_URL, API_KEY; malformed PORT_BASE (must match ^[0-9]+$)",
       ""},
      {"several malformed ones by name",
       {{}, {}, {{"B", "b+"}, {"A", "a+"}}},
       {{"A", "x"}, {"B", "y"}},
       {},
       {"A", "B"},
       {},
       "env: malformed A (must match a+), B (must match b+)",
       ""},
      {"a format of a variable not given is not checked",
       {{}, {"A"}, {{"A", "[0-9]+"}}},
       {},
       {},
       {},
       {"A"},
       "",
       "env: optional A not set"},
      {"a format applies to a variable in neither list",
       {{}, {}, {{"MODE", "dev|prod"}}},
       {{"MODE", "test"}},
       {},
       {"MODE"},
       {},
       "env: malformed MODE (must match dev|prod)",
       ""},
      {"alternation is anchored as a whole",
       {{}, {}, {{"MODE", "dev|prod"}}},
       {{"MODE", "production"}},
       {},
       {"MODE"},
       {},
       "env: malformed MODE (must match dev|prod)",
       ""},
      {"the seed's SMTP format",
       {{"SMTP_INBOX_1"}, {}, {{"SMTP_INBOX_1", "([^|]+\\|){3,}[^|]+"}}},
       {{"SMTP_INBOX_1", "a@b.c|pw|host|25|Name"}},
       {},
       {},
       {},
       "",
       ""},
      {"names are case-sensitive",
       {{"api_key"}, {}, {}},
       {{"API_KEY", "x"}},
       {"api_key"},
       {},
       {},
       "env: missing api_key",
       ""},
  };
  return kCases;
}

Names names_of(const std::vector<MalformedVariable>& malformed) {
  Names out;
  for (const auto& m : malformed) {
    out.push_back(m.name);
  }
  return out;
}

TEST(EnvCheck, Cases) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    auto report = check_env(c.spec, c.vars);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->missing, c.missing);
    EXPECT_EQ(names_of(report->malformed), c.malformed);
    EXPECT_EQ(report->missing_optional, c.missing_optional);
    EXPECT_EQ(report->ok(), c.missing.empty() && c.malformed.empty());
    EXPECT_EQ(env_error_text(*report), c.errors);
    EXPECT_EQ(env_warning_text(*report), c.warnings);
  }
}

TEST(EnvCheck, NoValueAppearsInTheReport) {
  const std::string secret = "s3cr3t-value-xyz";
  model::EnvSpec spec{{"API_KEY", "MISSING"}, {"OPT"}, {{"API_KEY", "^sk_[a-z]+$"}}};
  auto report = check_env(spec, {{"API_KEY", secret}, {"OTHER", secret}});
  ASSERT_TRUE(report);
  ASSERT_EQ(report->malformed.size(), 1U);
  EXPECT_EQ(report->malformed[0].format, "^sk_[a-z]+$");
  EXPECT_EQ(report->malformed[0].reason, "must match ^sk_[a-z]+$");
  const std::string all = env_error_text(*report) + env_warning_text(*report) +
                          boost::json::serialize(env_report_json(*report));
  EXPECT_EQ(all.find(secret), std::string::npos) << all;
  EXPECT_EQ(all.find("s3cr3t"), std::string::npos) << all;
}

TEST(EnvCheck, JsonForm) {
  model::EnvSpec spec{{"A"}, {"O"}, {{"P", "[0-9]+"}}};
  auto report = check_env(spec, {{"P", "x"}});
  ASSERT_TRUE(report);
  EXPECT_EQ(boost::json::serialize(env_report_json(*report)),
            R"({"ok":false,"missing":["A"],"malformed":[{"name":"P","format":"[0-9]+",)"
            R"("reason":"must match [0-9]+"}],"missing_optional":["O"]})");
  auto fine = check_env(spec, {{"A", "1"}, {"O", "2"}, {"P", "3"}});
  ASSERT_TRUE(fine);
  EXPECT_EQ(boost::json::serialize(env_report_json(*fine)),
            R"({"ok":true,"missing":[],"malformed":[],"missing_optional":[]})");
}

struct SpecErrorCase {
  std::string name;
  model::EnvSpec spec;
  std::string message_start;
};

TEST(EnvCheck, SpecErrors) {
  model::EnvSpec too_many;
  for (std::size_t i = 0; i <= kMaxEnvSpecVariables; ++i) {
    too_many.required.push_back(std::to_string(i).insert(0, "V"));
  }
  const std::vector<SpecErrorCase> kCases = {
      {"a bad regex names the variable",
       {{}, {}, {{"PORT", "[0-9"}}},
       "env.formats.PORT: \"[0-9\" is not a valid ECMAScript regex"},
      {"a bad regex is an error even for a variable not given",
       {{}, {}, {{"X", "(a"}}},
       "env.formats.X: "},
      {"a format too long",
       {{}, {}, {{"X", std::string(kMaxEnvFormatBytes + 1, 'a')}}},
       "env.formats.X: the format has 257 bytes; at most 256"},
      {"too many variables declared", too_many, "env: the spec declares 257 variables"},
      {"an empty required name", {{""}, {}, {}}, "env.required: a variable name is empty"},
      {"an empty optional name", {{}, {""}, {}}, "env.optional: a variable name is empty"},
      {"an empty format name", {{}, {}, {{"", "x"}}}, "env.formats: a variable name is empty"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    auto report = check_env(c.spec, {});
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(report.error().message.starts_with(c.message_start)) << report.error().message;
  }
}

TEST(EnvCheck, TooManyVariablesGiven) {
  Vars vars;
  for (std::size_t i = 0; i <= kMaxEnvVariables; ++i) {
    vars[std::to_string(i).insert(0, "V")] = "x";
  }
  auto report = check_env({}, vars);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().message, "env: 513 variables given; at most 512");
}

TEST(EnvCheck, LongValues) {
  model::EnvSpec spec{{}, {}, {{"CERT", "[A-Za-z0-9+/=]+"}}};
  // At the limit the value is checked (and std::regex copes with it)...
  auto fits = check_env(spec, {{"CERT", std::string(kMaxFormatCheckedBytes, 'A')}});
  ASSERT_TRUE(fits);
  EXPECT_TRUE(fits->ok());
  // ...past it, it is refused without being run through the regex.
  auto too_long = check_env(spec, {{"CERT", std::string(kMaxFormatCheckedBytes + 1, 'A')}});
  ASSERT_TRUE(too_long);
  ASSERT_EQ(too_long->malformed.size(), 1U);
  EXPECT_EQ(too_long->malformed[0].reason,
            "is longer than 8192 bytes, too long to check against [A-Za-z0-9+/=]+");
}

TEST(EnvCheck, AFormatThatBacktracksWithoutEndIsReportedNotRunForever) {
  // (a+)+b on a run of a's without a b tries every way to split the run: the matcher gives up
  // and the value is malformed as not checkable.
  model::EnvSpec spec{{}, {}, {{"TOKEN", "(a+)+b"}}};
  auto report = check_env(spec, {{"TOKEN", std::string(300, 'a')}});
  ASSERT_TRUE(report);
  ASSERT_EQ(report->malformed.size(), 1U);
  EXPECT_TRUE(report->malformed[0].reason.starts_with("could not be checked against (a+)+b: "))
      << report->malformed[0].reason;
}

}  // namespace
}  // namespace rampart::runner
