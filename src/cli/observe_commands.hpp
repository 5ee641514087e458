#pragma once
// The verbs that watch a running service: `tail` (its live request events, a long poll of
// GET /services/{s}/tail) and `logs` (its instances' log lines, GET /services/{s}/logs;
// `--follow` polls with the answer's cursor). docs/cli.md has their output.
//
// `tail` prints one line (pretty) or one JSON object (json) per request as they come, and
// "... dropped N events" when the server's ring overwrote events before they were read. It
// runs until Ctrl-C, `--limit N` events or `--timeout D`, and then ends its subscription
// (exit 0). `--limit 0` only checks that the service can be tailed. `logs --follow` runs until
// Ctrl-C (exit 0). Failures are the one-line errors of cli/commands.hpp.

#include "cli/commands.hpp"
#include "cli/rollout_commands.hpp"
#include "cli/verbs.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rampart::cli {

// How long one tail poll may wait on the server for an event (its long poll).
inline constexpr std::chrono::milliseconds kTailWait{2000};
// The pause after an empty answer the server did not wait for (others were waiting).
inline constexpr std::chrono::milliseconds kTailBusyPause{500};
inline constexpr std::chrono::milliseconds kLogsFollowInterval{1000};

struct TailArgs {
  std::string service{};
  std::string version{};
  std::string status{};  // "5xx", "503"; empty: all
  bool json = false;     // --format json
  std::optional<std::int64_t> limit{};
  std::optional<std::chrono::milliseconds> timeout{};
};

struct LogsArgs {
  std::string service{};
  std::string version{};
  std::string since{};  // as `audit --since`
  std::string grep{};
  bool follow = false;
  std::optional<std::int64_t> limit{};
};

int run_tail(Context& ctx, const TailArgs& args, const WatchHooks& hooks = {});
int run_logs(Context& ctx, const LogsArgs& args, const WatchHooks& hooks = {});

// A tail event (the API's JSON) as one aligned line: time, version, method, path, status,
// latency, upstream, failure kind ("-" for none). No trailing newline.
std::string tail_line(const boost::json::value& event);
// A log line (the API's JSON): "TIME VERSION/INSTANCE text". No trailing newline.
std::string log_line(const boost::json::value& line);

// `tail` and `logs`, added to `app`. REQUIRES: `app` and `client` outlive the run functions.
std::vector<Verb> register_observe_verbs(CLI::App& app, ClientOptions& client);

}  // namespace rampart::cli
