#include "app/server_verb.hpp"

#include "app/server.hpp"
#include "cli/settings.hpp"
#include "cli/verbs.hpp"
#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <tuple>

namespace rampart::app {

namespace {

struct ServerFlags {
  ServerOptions options;
  std::string data_dir, listen, admin;
  cli::IntegerOption workers;
};

// The flags as ServerOptions, or the usage error's exit code.
int run(const CLI::App& verb, ServerFlags flags) {
  ServerOptions& options = flags.options;
  options.data_dir = cli::resolve_data_dir(flags.data_dir);
  for (auto [name, value, target] : {std::tuple{"--listen", &flags.listen, &options.listen},
                                     std::tuple{"--admin", &flags.admin, &options.admin}}) {
    if (value->empty()) {
      continue;
    }
    // The config file's check of [server].listen and [server].admin.
    if (auto e = config::parse_endpoint(*value); !e) {
      return cli::usage_error(std::cerr, verb, std::string(name) + ": " + e.error().message);
    }
    *target = *value;
  }
  auto workers = cli::given(flags.workers);
  if (!workers) {
    return cli::usage_error(std::cerr, verb, workers.error().message);
  }
  if (*workers) {
    options.workers = static_cast<unsigned>(**workers);
  }
  return run_server(options);
}

}  // namespace

ServerVerb register_server_verb(CLI::App& app) {
  // Shared with `run` (a std::function is copied), bound to the options until it runs.
  auto flags = std::make_shared<ServerFlags>();
  auto* verb = app.add_subcommand("server", "Run the gateway and its admin API");
  verb->add_option("-c,--config", flags->options.config_path,
                   "Config file (TOML): seeds the store at first start; its [server] and "
                   "[limits] apply at every start that names it")
      ->check(CLI::ExistingFile);
  verb->add_option("--data", flags->data_dir,
                   "Data directory: the store, admin.token, admin.addr (default: "
                   "$RAMPART_DATA, else rampart-data)");
  verb->add_option("--listen", flags->listen, "Gateway listen address, overrides [server].listen");
  verb->add_option("--admin", flags->admin, "Admin listen address, overrides [server].admin");
  cli::add_integer(verb, flags->workers, "--workers",
                   "Gateway worker threads, overrides [server].workers", 1, 256);
  return {verb, [flags, verb] { return run(*verb, *flags); }};
}

}  // namespace rampart::app
