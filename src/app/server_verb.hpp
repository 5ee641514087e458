#pragma once
// `rampart server`'s flags, declared next to what runs it (app/server.hpp's run_server).

#include <functional>

namespace CLI {
class App;
}  // namespace CLI

namespace rampart::app {

struct ServerVerb {
  CLI::App* command = nullptr;
  std::function<int()> run;  // the process's exit code
};

// Adds `server` to `app`. REQUIRES: `app` outlives `run`.
ServerVerb register_server_verb(CLI::App& app);

}  // namespace rampart::app
