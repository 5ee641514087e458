#pragma once
// The environment check of a version (seed 002's validation; docs/runner.md, "Environment
// checks"): a decision without I/O. Given the version's EnvSpec and the variables it would get
// (its own `env` merged with its secrets), check_env answers what is wrong and what is only a
// warning; the deploy path that calls it refuses the deploy on errors and shows the summary.
//
// The rules:
//   - a required variable that is absent, or whose value is empty, is missing (an error);
//   - an optional variable that is absent or empty is a warning;
//   - a variable with a format that is given (not empty) must match it whole (ECMAScript,
//     boost::regex_match); one that does not is malformed (an error). A format of a variable that
//     is not given is not checked: missing or not, that is the lists' business.
// The report names variables and their formats, NEVER a value: values may be secrets, and the
// report is shown to the user, logged and kept in a rollout's report.
//
// Errors (kInvalidArgument, starting with the field): a format that is not a valid regex
// ("env.formats.PORT: ..."), a format longer than kMaxEnvFormatBytes, a spec that declares more
// than kMaxEnvSpecVariables variables, more than kMaxEnvVariables variables given, an empty
// name in the spec. Thread safety: the functions keep no state.

#include "common/result.hpp"
#include "model/run_spec.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace rampart::runner {

inline constexpr std::size_t kMaxEnvFormatBytes = 256;
// required + optional + formats entries of one spec.
inline constexpr std::size_t kMaxEnvSpecVariables = 256;
// Variables given: the version's env (at most 256) and the service's secrets (at most 256).
inline constexpr std::size_t kMaxEnvVariables = 512;
// A value longer than this is not run through a format (a bound on the work one deploy asks
// of the server); it is reported malformed as too long to check.
inline constexpr std::size_t kMaxFormatCheckedBytes = 8 * 1024;

// A variable whose value does not satisfy its format.
struct MalformedVariable {
  std::string name;
  std::string format;  // the regex, as the spec gives it
  std::string reason;  // "must match ^[0-9]+$"; never the value

  friend bool operator==(const MalformedVariable&, const MalformedVariable&) = default;
};

struct EnvReport {
  std::vector<std::string> missing;           // required and not given, in spec order
  std::vector<MalformedVariable> malformed;   // by name
  std::vector<std::string> missing_optional;  // warnings, in spec order

  // No errors (warnings allowed).
  bool ok() const { return missing.empty() && malformed.empty(); }
};

// The report for `vars` against `spec`, or the spec's own problem (see above).
Result<EnvReport> check_env(const model::EnvSpec& spec,
                            const std::map<std::string, std::string>& vars);

// The errors in one line: "env: missing DATABASE_URL, API_KEY; malformed PORT_BASE (must match
// ^[0-9]+$)". Empty when the report has no errors.
std::string env_error_text(const EnvReport& report);

// The warnings in one line: "env: optional LOG_LEVEL, SENTRY_DSN not set". Empty when none.
std::string env_warning_text(const EnvReport& report);

// {"ok": bool, "missing": [names], "malformed": [{"name", "format", "reason"}],
//  "missing_optional": [names]}.
boost::json::object env_report_json(const EnvReport& report);

}  // namespace rampart::runner
