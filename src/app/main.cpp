// rampart: build the command line, parse it, run the verb it names. Each verb's flags are
// declared next to its run function: the server in app/server_verb.hpp, the client verbs in
// cli/verbs.hpp and cli/rollout_commands.hpp.

#include "app/server_verb.hpp"
#include "cli/commands.hpp"
#include "cli/rollout_commands.hpp"
#include "cli/settings.hpp"
#include "cli/verbs.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

namespace {

namespace cli = rampart::cli;

// A parse error as one line: "rampart: VERB: WHAT (see rampart VERB --help)", exit 2.
int parse_failure(const CLI::App& app, const CLI::ParseError& e) {
  std::string what = e.what();
  for (char& c : what) {
    c = c == '\n' ? ' ' : c;
  }
  const std::string verb = cli::parsed_verb_path(app);
  if (verb.empty() && !app.remaining().empty()) {
    const std::string arg = app.remaining().front();
    what = (arg.starts_with("-") ? "unknown option \"" : "unknown command \"") + arg + "\"";
  }
  std::fprintf(stderr, "rampart: %s%s%s (see rampart%s%s --help)\n", verb.c_str(),
               verb.empty() ? "" : ": ", what.c_str(), verb.empty() ? "" : " ", verb.c_str());
  return cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rampart: a gateway that ships HTTP services safely", "rampart"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rampart 0.1.0");

  const auto server = rampart::app::register_server_verb(app);
  cli::ClientOptions client;
  const auto verbs = cli::register_client_verbs(app, client);
  auto rollout_verbs = cli::register_rollout_verbs(
      app, [&](CLI::App* verb) { cli::add_client_flags(verb, client); });
  // `rampart --json VERB` as well as `rampart VERB --json`.
  app.add_flag("--json", client.json, "Print the API's JSON instead of text");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return e.get_exit_code() == 0 ? app.exit(e) : parse_failure(app, e);
  }

  if (server.command->parsed()) {
    return server.run();
  }
  auto settings = cli::resolve_client(client.flags);
  if (!settings) {
    std::fprintf(stderr, "rampart: %s\n", settings.error().message.c_str());
    return cli::kExitFailure;
  }
  cli::Context ctx{std::move(*settings), client.json, std::cout, std::cerr};
  for (const auto& verb : verbs) {
    if (verb.command->parsed()) {
      return verb.run(ctx);
    }
  }
  return rollout_verbs->run(ctx).value_or(cli::kExitUsage);
}
