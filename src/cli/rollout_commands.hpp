#pragma once
// The rollout verbs: `deploy`, `promote`, `pause`, `resume`, `abort`, `retry` and `report`, each
// one or two calls to the rollout endpoints (docs/api.md, "Rollouts"), with the exit codes and
// the one-line errors of cli/commands.hpp. Each verb's flags are declared next to its run
// function (register_rollout_verbs), so main.cpp only adds them and runs the one named.
//
// `deploy` first runs the service's `pre` commands (cli/pre_checks.hpp) and prints their
// table; a failure ends it with exit 1 before the server is asked for anything. `--dry-run`
// runs every gate (the pre commands, then the server's, with "dry_run": true) and prints the
// plan without changing anything (cli/deploy_command.cpp). `--upstream URL` declares the
// version with the rollout.
//
// `deploy --watch` (and `status SERVICE --watch`) follows the rollout: it polls the rollout,
// its events and the service's live metrics every kWatchInterval. On a terminal it redraws the
// live progress view (cli/progress_view.hpp) in place; otherwise (a CI log) it prints one line
// per event as it happens. It exits 0 once the rollout is promoted, 1 once it is rolled back
// (the reason on the last line), and on SIGINT leaves the rollout running, prints how to
// follow it again and exits 130.

#include "cli/commands.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace rampart::cli {

inline constexpr std::chrono::milliseconds kWatchInterval{300};
inline constexpr int kExitInterrupted = 130;

struct DeployArgs {
  std::string service{};
  std::string version{};
  std::string strategy{};  // empty: the service's policy
  std::string steps{};     // "10,50,100"; empty: the strategy's
  std::string pause{};     // with steps: each step's pause ("5m")
  std::string interval{};  // the analysis window ("30s")
  bool replace = false;
  bool force = false;
  std::string message{};
  bool watch = false;
  std::vector<std::string> upstreams{};  // --upstream: the deploy declares the version
  bool skip_checks = false;              // the pre commands are not run (audited)
  bool dry_run = false;
  std::string pre_timeout{};  // each pre command's time limit; empty: kDefaultPreTimeLimit
  // `-- CMD ARGS...`: the deploy declares a version that rampart runs.
  std::vector<std::string> command{};
  unsigned instances = 1;
  std::string workdir{};               // empty: the directory `rampart deploy` runs in
  std::vector<std::string> env{};      // --env NAME=VALUE
  std::vector<std::string> secrets{};  // --secret NAME: only these (default: all)
  std::string health{};                // --health PATH (default /health)
  std::string grace{};                 // --grace 10s
  // The variables it needs (seed 002's validation, docs/runner.md), checked before it starts.
  std::vector<std::string> env_required{};  // --require-env NAME
  std::vector<std::string> env_optional{};  // --optional-env NAME: a warning when missing
  std::vector<std::string> env_formats{};   // --env-format NAME=REGEX
};

// The rollout command on the service's latest rollout: "promote", "promote-full", "pause",
// "resume", "abort" or "retry".
struct RolloutCommandArgs {
  std::string service{};
  std::string command{};
};

struct ReportArgs {
  std::string service{};
  std::optional<std::int64_t> rollout{};  // none: the latest
};

// What `deploy --watch` waits with, and how it learns of a Ctrl-C: the seams unit tests
// replace. Empty: std::this_thread::sleep_for, and a SIGINT handler installed while watching.
// `live`: the redrawn view instead of one line per event (empty: when stdout is a terminal
// and there is no --json); `width`: the terminal's columns (empty: asked with TIOCGWINSZ).
struct WatchHooks {
  std::function<void(std::chrono::milliseconds)> sleep{};
  std::function<bool()> interrupted{};
  std::optional<bool> live{};
  std::function<int()> width{};
};

int run_deploy(Context& ctx, const DeployArgs& args, const WatchHooks& hooks = {});
int run_rollout_command(Context& ctx, const RolloutCommandArgs& args);
int run_report(Context& ctx, const ReportArgs& args);

// The body of POST /services/{s}/rollouts for `args` (without the pre results, which
// run_deploy adds); kInvalidArgument in the flags' words ("--pause: ...") for a value the API
// would refuse anyway, so it is refused before sending.
Result<boost::json::object> deploy_body(const DeployArgs& args);

// What `deploy --dry-run` prints: the would-be rollout (the API's dry-run answer) with the
// service's policy (GET /services/{s}'s "rollout"): from -> to, the expanded steps, the
// analysis and every check (marked when they are seed 004's defaults), health, verify,
// webhooks, deploy windows and whether `now_ms` is allowed. Ends in a newline.
std::string dry_run_plan(const boost::json::value& rollout, const boost::json::value& policy,
                         std::int64_t now_ms);
// Whether the deploy windows of `policy` allow a deploy at `now_ms`: "allowed", or why not.
std::string window_text(const boost::json::value& policy, std::int64_t now_ms);

// A Rollout (the API's JSON) in one line: "shop: rollout 3, v2 from v1 (10% for 5m, 100%):
// progressing at step 1 of 2, v2 at 10%: REASON". No trailing newline.
std::string rollout_line(const boost::json::value& rollout);
// A RolloutEvent in one line: "2026-11-23T15:20:01.000Z  step  step 2  50%  REASON". No
// trailing newline.
std::string event_line(const boost::json::value& event);
// The deployment report of a rollout and its events (oldest first), as markdown: a heading,
// the plan, the timeline (time, event, step, weight, reason) and each analysis window's checks
// with their verdicts, values and thresholds. Ends in a newline.
std::string report_markdown(const boost::json::value& rollout, const boost::json::value& events);
// What `status SERVICE` adds about the service's latest rollout when it is not final (pending,
// progressing or paused): "rollout: ..." lines; empty otherwise, and when the API does not
// answer the question (no rollout yet, an older server).
std::string active_rollout_text(Context& ctx, std::string_view service);

// Follows rollout `id` of `service` as `deploy --watch` does (its events from the first), with
// the same exit codes.
int watch_rollout(Context& ctx, const std::string& service, const std::string& id,
                  const WatchHooks& hooks = {});
// `status SERVICE --watch`: watch_rollout() of the service's latest rollout when it is not
// final; kExitOk at once when there is none to follow.
int watch_active_rollout(Context& ctx, const std::string& service, const WatchHooks& hooks = {});

// The rollout verbs' flags, added to `app` by register_rollout_verbs; `add_client_flags` gives
// each verb --addr, --token, --data and --json. Keep it until run().
class RolloutVerbs {
 public:
  RolloutVerbs(CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags);
  RolloutVerbs(const RolloutVerbs&) = delete;
  RolloutVerbs& operator=(const RolloutVerbs&) = delete;

  // The exit code of the rollout verb the command line named; nullopt when it named none.
  std::optional<int> run(Context& ctx);

 private:
  struct CommandVerb {
    CLI::App* verb = nullptr;
    std::string command;  // as RolloutCommandArgs::command
  };

  std::string service_;
  DeployArgs deploy_args_;
  CLI::App* deploy_ = nullptr;
  bool watch_flag_ = false;
  CLI::Option* watch_option_ = nullptr;
  std::vector<CommandVerb> commands_;
  bool promote_full_ = false;
  CLI::App* report_ = nullptr;
  std::string report_id_;
  CLI::Option* report_id_option_ = nullptr;
};

std::unique_ptr<RolloutVerbs> register_rollout_verbs(
    CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags);

}  // namespace rampart::cli
