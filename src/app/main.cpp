// rampart: parse the command line, wire, run. Everything else lives in the libraries.

#include "app/server.hpp"
#include "cli/admin_client.hpp"
#include "config/config.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// The admin address for a client command: flag, then RAMPART_ADDR, then the config file.
std::string admin_address(const std::string& flag, const std::string& config_path) {
  if (!flag.empty()) {
    return flag;
  }
  if (const char* env = std::getenv("RAMPART_ADDR"); env != nullptr && *env != '\0') {
    return env;
  }
  if (!config_path.empty()) {
    if (auto cfg = rampart::config::load_config(config_path)) {
      return cfg->server.admin.host + ":" + std::to_string(cfg->server.admin.port);
    }
  }
  return "127.0.0.1:9901";
}

int run_reload(const std::string& address, bool as_json) {
  auto r = rampart::cli::admin_request(address, "POST", "/reload");
  if (!r) {
    std::fprintf(stderr, "rampart: %s\n", r.error().message.c_str());
    return 1;
  }
  if (as_json) {
    std::printf("%s", r->body.c_str());
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (r->status != 200) {
    std::string detail = r->body;
    if (!ec && v.is_object() && v.as_object().contains("detail")) {
      detail = boost::json::value_to<std::string>(v.at("detail"));
    }
    if (!as_json) {
      std::fprintf(stderr, "rampart: reload refused: %s\n", detail.c_str());
    }
    return 1;
  }
  if (!as_json) {
    long long generation = (!ec && v.is_object() && v.as_object().contains("generation"))
                               ? v.at("generation").to_number<long long>()
                               : 0;
    std::printf("reloaded: routes generation %lld\n", generation);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rampart: a gateway that ships HTTP services safely"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rampart 0.1.0");

  rampart::app::ServerOptions server_options;
  std::string listen, admin;
  unsigned workers = 0;
  auto* server = app.add_subcommand("server", "Run the gateway and its admin API");
  server->add_option("-c,--config", server_options.config_path, "Config file (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  server->add_option("--listen", listen, "Gateway listen address, overrides [server].listen");
  server->add_option("--admin", admin, "Admin listen address, overrides [server].admin");
  server->add_option("--workers", workers, "Gateway worker threads, overrides [server].workers");

  std::string reload_admin, reload_config;
  bool reload_json = false;
  auto* reload = app.add_subcommand(
      "reload", "Re-read the server's config file and publish it to every worker at once");
  reload->add_option("--admin", reload_admin,
                     "Admin address host:port (default: $RAMPART_ADDR, else the config's "
                     "[server].admin, else 127.0.0.1:9901)");
  reload->add_option("-c,--config", reload_config, "Config file to read the admin address from");
  reload->add_flag("--json", reload_json, "Print the API's JSON answer");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);
    }
    std::fprintf(stderr, "rampart: %s\n", e.what());
    return 2;
  }

  if (server->parsed()) {
    if (!listen.empty()) server_options.listen = listen;
    if (!admin.empty()) server_options.admin = admin;
    if (workers != 0) server_options.workers = workers;
    return rampart::app::run_server(server_options);
  }
  if (reload->parsed()) {
    return run_reload(admin_address(reload_admin, reload_config), reload_json);
  }
  return 2;
}
