#pragma once
// `rampart server`: wires the config, the gateway workers, the admin listener and the signals,
// and runs until SIGTERM/SIGINT, then drains.

#include <optional>
#include <string>

namespace rampart::app {

struct ServerOptions {
  std::string config_path;
  std::optional<std::string> listen;  // overrides [server].listen
  std::optional<std::string> admin;   // overrides [server].admin
  std::optional<unsigned> workers;    // overrides [server].workers
};

// Returns the process exit code.
int run_server(const ServerOptions& options);

}  // namespace rampart::app
