#pragma once
// `rampart server`: opens the data directory's store, seeds it from the config file at first
// start, publishes the store's state to the gateway workers (and again after every commit),
// serves the admin API, and runs until SIGTERM/SIGINT, then drains.

#include <optional>
#include <string>

namespace rampart::app {

struct ServerOptions {
  // The data directory: the store (rampart.db), admin.token, admin.addr, server.toml. Created
  // when missing.
  std::string data_dir;
  // Optional. At first start its services seed the store; its [server] and [limits] tables
  // are used at every start that names it (else the ones saved in data_dir/server.toml).
  std::string config_path;
  std::optional<std::string> listen;  // overrides [server].listen
  std::optional<std::string> admin;   // overrides [server].admin
  std::optional<unsigned> workers;    // overrides [server].workers
};

// Returns the process exit code.
int run_server(const ServerOptions& options);

}  // namespace rampart::app
