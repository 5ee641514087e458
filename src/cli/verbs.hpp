#pragma once
// The command line's verbs, each declared next to what runs it: a verb group's register function
// adds its subcommands and their flags to the app and answers, for each, what runs it once the
// command line named it (cli/commands.cpp for the verbs of cli/commands.hpp,
// cli/rollout_commands.cpp for the rollout verbs). main.cpp only registers the groups, parses,
// and runs the verb that was named.

#include "cli/commands.hpp"
#include "cli/settings.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace rampart::cli {

// The flags every client verb takes. One set for all verbs: a command line names one verb.
struct ClientOptions {
  ClientFlags flags;
  bool json = false;
};

// Gives `verb` --addr (as `addr_names`), --token, --data and --json, bound to `o`.
void add_client_flags(CLI::App* verb, ClientOptions& o, const std::string& addr_names = "--addr");

// A verb and what runs it once parsed: its exit code (cli/commands.hpp).
struct Verb {
  CLI::App* command = nullptr;
  std::function<int(Context&)> run;
};

// A whole-number option, kept as typed so that its range is checked in the user's words
// (parse_integer_option) rather than by the command line parser.
struct IntegerOption {
  std::string text;
  CLI::Option* option = nullptr;
  std::int64_t min = 0;
  std::int64_t max = 0;
};

void add_integer(CLI::App* verb, IntegerOption& o, const std::string& name, const std::string& help,
                 std::int64_t min, std::int64_t max);
// The value of an integer option when it was given; an error in the user's words when it is
// out of range.
Result<std::optional<std::int64_t>> given(const IntegerOption& o);

// The verbs the command line named, e.g. "deployments list": the parsed subcommands under `app`.
std::string parsed_verb_path(const CLI::App& app);
// A usage error found after parsing, as the parser's are reported: "rampart: deployments list:
// WHAT (see rampart deployments list --help)" on `err`. Answers kExitUsage.
int usage_error(std::ostream& err, const CLI::App& verb, std::string_view what);

// The verbs of cli/commands.hpp (apply, status, split, deployments list, rollback, checkpoint,
// audit, token create/list/revoke, reload), then the secret verbs (cli/secret_commands.hpp),
// added to `app` in that order. REQUIRES: `app` and
// `client` outlive the verbs' run functions.
std::vector<Verb> register_client_verbs(CLI::App& app, ClientOptions& client);

}  // namespace rampart::cli
