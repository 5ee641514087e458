#pragma once
// The service's `pre` commands ([service.rollout.checks] pre), which `rampart deploy` runs on
// the deploying machine before it asks the server for anything (seed 002's
// pre-deploy-check.ts). Each runs with `/bin/sh -c RUN` in the current working directory, in a
// process group of its own, stdin from /dev/null, stdout and stderr captured together (the
// last kMaxPreOutput bytes kept). One that outlives its time limit is killed with its whole
// process group (SIGTERM, then SIGKILL a second later) and fails.
//
// The command is in a group of its own, so a Ctrl-C at the terminal reaches only rampart:
// while run_pre_commands() runs, SIGINT is caught, the running command's group is killed as on
// a time limit, the commands after it are not run, and the outcome says `interrupted`.
//
// Thread safety: run_pre_command() forks and waits for its child; call it from one thread.

#include <boost/json/array.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::cli {

inline constexpr std::chrono::milliseconds kDefaultPreTimeLimit{10 * 60 * 1000};
inline constexpr std::size_t kMaxPreOutput = 64 * 1024;
inline constexpr std::size_t kPreTailLines = 5;  // a failure's output lines the table shows

struct PreCommand {
  std::string name{};
  std::string run{};
};

struct PreOutcome {
  std::string name{};
  bool passed = false;
  bool timed_out = false;
  bool interrupted = false;  // by SIGINT (Ctrl-C) while it ran
  int exit_code = 0;         // or 128 + the signal that ended it
  std::int64_t ms = 0;       // how long it ran
  std::string output{};      // its last kMaxPreOutput bytes of stdout and stderr
};

PreOutcome run_pre_command(const PreCommand& command, std::chrono::milliseconds time_limit);

// Runs `commands` in order, every one even after a failure (the table shows them all, as seed
// 002's does), and none after an interrupted one; `on_start` is told each one before it
// starts, for a progress line.
std::vector<PreOutcome> run_pre_commands(
    const std::vector<PreCommand>& commands, std::chrono::milliseconds time_limit,
    const std::function<void(const PreCommand&)>& on_start = {});

// The last `lines` lines of `output`, without a trailing empty line.
std::vector<std::string> output_tail(std::string_view output, std::size_t lines);

// Seed 002's table: a heading naming the time limit, "✓ NAME  passed  1.2s" or
// "✗ NAME  failed (exit 1)  12ms" with the last kPreTailLines lines of a failure's output
// indented under it, and the verdict line. Ends in a newline.
std::string pre_table(const std::vector<PreOutcome>& outcomes, std::chrono::milliseconds limit);

bool all_passed(const std::vector<PreOutcome>& outcomes);
bool any_interrupted(const std::vector<PreOutcome>& outcomes);

// [{"name", "passed", "ms"}, ...]: what the deploy request carries (at most 32, as the API
// takes).
boost::json::array pre_json(const std::vector<PreOutcome>& outcomes);

}  // namespace rampart::cli
