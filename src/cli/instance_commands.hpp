#pragma once
// The verbs of the versions rampart runs (docs/cli.md, "Running versions"):
//   rampart restart SERVICE   replaces every instance of the service's running versions, one
//                             at a time, each new one healthy before an old one drains (after
//                             `secret put`, so every instance gets the new value); it follows
//                             the restart until every version runs again (--no-wait: it does
//                             not), and exits 1 when one reports an error.

#include "cli/commands.hpp"
#include "cli/verbs.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace rampart::cli {

inline constexpr std::chrono::milliseconds kRestartPoll{300};
inline constexpr std::chrono::minutes kRestartWait{10};

struct RestartArgs {
  std::string service{};
  std::string version{};  // empty: every version rampart runs
  bool wait = true;
};

// `sleep` waits between polls (the seam unit tests replace; empty: sleep_for).
int run_restart(Context& ctx, const RestartArgs& args,
                const std::function<void(std::chrono::milliseconds)>& sleep = {});

std::vector<Verb> register_instance_verbs(CLI::App& app, ClientOptions& client);

}  // namespace rampart::cli
