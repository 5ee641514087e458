#pragma once
// The client verbs of `rampart` (every verb but `server`): each is one or two admin API calls
// (docs/api.md) and their output. main.cpp parses the command line into the structs below and
// calls a run_* function, which answers the process's exit code:
//   0 success; 1 the server, the API or the connection failed (or a config file is invalid);
//   2 a usage error found here (a bad argument the command line parser could not catch).
// Output: human text on `out`, or with `json` the API's answer as it came (one JSON object and
// a newline; docs/api.md has each verb's shape). Every failure is ONE line on `err`: "rampart:
// what went wrong" (a config file's problems: one such line each), and with `json` also
// {"error": "invalid_argument" (exit 2) or "failed" (exit 1), "detail": the message} on `out`.
// An answer that is not the shape of the API's (another server at the address) is exit 1,
// "ADDR does not answer as a rampart admin API (...)".

#include "cli/admin_client.hpp"
#include "cli/settings.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace rampart::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct ApiRequest {
  std::string method;
  std::string target;  // "/api/v1/services?x=y"
  std::string body;    // JSON, or empty
};

// Sends one request to the admin API. The seam unit tests replace; the default (empty) sends
// it with admin_request() to settings.address with settings.token.
using Transport = std::function<Result<HttpResult>(const ApiRequest&)>;

struct Context {
  ClientSettings settings;
  bool json = false;
  std::ostream& out;
  std::ostream& err;
  Transport transport{};
  std::function<std::int64_t()> now_ms{};  // empty: the system clock
};

struct ApplyArgs {
  std::string file{};
  std::string message{};  // empty: none
};
struct StatusArgs {
  std::optional<std::string> service{};  // none: every service; empty: a usage error
  bool watch = false;  // then follow the service's active rollout (cli/rollout_commands.hpp)
};
struct SplitArgs {
  std::string service{};
  std::vector<std::string> shares{};  // "v1=90", "v2@10"
  std::string message{};
  std::optional<std::int64_t> expect_revision{};
  bool force = false;  // a new deployment even when the split is the one served
};
struct DeploymentsListArgs {
  std::string service{};
  std::optional<std::int64_t> limit{};
};
struct RollbackArgs {
  std::string service{};
  std::optional<std::int64_t> deployment_id{};
  std::optional<std::int64_t> checkpoint_id{};
  std::string message{};
};
struct CheckpointArgs {
  std::string service{};
  std::string note{};
};
struct AuditArgs {
  std::string since{};  // empty: none; else as parse_since() takes it
  std::optional<std::int64_t> limit{};
  std::optional<std::int64_t> after{};
};
struct TokenCreateArgs {
  std::string name{};
  std::string role{};     // admin, deployer or read-only
  std::string expires{};  // empty: never; else a duration from now (parse_duration_ms)
};
struct TokenRevokeArgs {
  std::string name{};
};

int run_apply(Context& ctx, const ApplyArgs& args);
int run_status(Context& ctx, const StatusArgs& args);
int run_split(Context& ctx, const SplitArgs& args);
int run_deployments_list(Context& ctx, const DeploymentsListArgs& args);
int run_rollback(Context& ctx, const RollbackArgs& args);
int run_checkpoint(Context& ctx, const CheckpointArgs& args);
int run_audit(Context& ctx, const AuditArgs& args);
int run_token_create(Context& ctx, const TokenCreateArgs& args);
int run_token_list(Context& ctx);
int run_token_revoke(Context& ctx, const TokenRevokeArgs& args);
int run_reload(Context& ctx);

// What the verbs in other files share with these (cli/rollout_commands.hpp).
// Prints the failure: each line of `message` as "rampart: LINE" (most messages are one line;
// a config file's problems are one per line); with --json also {"error", "detail"} on `out`.
// Answers `code`.
int fail(Context& ctx, int code, std::string_view message);
// What a rampart answer holds: the members an object answer must have.
using Shape = std::initializer_list<std::string_view>;
// Sends the request; the answer's JSON on 2xx when it is an object with every member of
// `shape`. Otherwise prints the one-line error (an answer of another shape says that the
// address does not answer as a rampart admin API) and answers nullopt.
std::optional<boost::json::value> call(Context& ctx, std::string method, std::string target,
                                       Shape shape, const boost::json::object* body = nullptr);
// "/api/v1/services/NAME", the name percent-encoded.
std::string service_path(std::string_view service);

// A whole number given to `option` (e.g. "--limit"), from `min` to `max`. kInvalidArgument,
// one line in the user's words: `--limit: "0" is out of range; give a whole number from 1 to
// 10000` (a number too large for 64 bits is out of range too, never clamped).
Result<std::int64_t> parse_integer_option(std::string_view option, std::string_view text,
                                          std::int64_t min, std::int64_t max);

// A path segment with every byte but [A-Za-z0-9-._~] percent-encoded.
std::string encode_path_segment(std::string_view segment);

}  // namespace rampart::cli
