// rampart: parse the command line, wire, run. Everything else lives in the libraries: the
// server in app/server.hpp, the client verbs in cli/commands.hpp.

#include "app/server.hpp"
#include "cli/commands.hpp"
#include "cli/settings.hpp"
#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

namespace {

namespace cli = rampart::cli;

// The flags every client verb takes.
struct ClientOptions {
  cli::ClientFlags flags;
  bool json = false;
};

void add_client_flags(CLI::App* verb, ClientOptions& o, const std::string& addr_names = "--addr") {
  verb->add_option(addr_names, o.flags.address,
                   "Admin API address HOST:PORT (default: $RAMPART_ADDR, else DATA/admin.addr, "
                   "else 127.0.0.1:9901)");
  verb->add_option("--token", o.flags.token,
                   "API token (default: $RAMPART_TOKEN, else DATA/admin.token)");
  verb->add_option("--data", o.flags.data_dir,
                   "The server's data directory DATA (default: $RAMPART_DATA, else rampart-data)");
  verb->add_flag("--json", o.json, "Print the API's JSON instead of text");
}

// An option's value when it was given on the command line.
std::optional<std::int64_t> given(const CLI::Option* option, std::int64_t value) {
  return option->count() > 0 ? std::optional<std::int64_t>(value) : std::nullopt;
}

// `reload --config FILE`: FILE's [server].admin as host:port, unless its port is 0 (picked at
// start, so only DATA/admin.addr knows it).
std::string admin_address_of(const std::string& config_path) {
  if (config_path.empty()) {
    return "";
  }
  auto cfg = rampart::config::load_config(config_path);
  if (!cfg || cfg->server.admin.port == 0) {
    return "";
  }
  return cfg->server.admin.host + ":" + std::to_string(cfg->server.admin.port);
}

// The verbs the command line named before a parse error, e.g. "deployments list".
std::string verb_path(const CLI::App& app) {
  std::string path;
  const CLI::App* at = &app;
  for (;;) {
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->parsed()) {
        next = sub;
        break;
      }
    }
    if (next == nullptr) {
      return path;
    }
    path += (path.empty() ? "" : " ") + next->get_name();
    at = next;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rampart: a gateway that ships HTTP services safely", "rampart"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rampart 0.1.0");

  // --- server -------------------------------------------------------------------------------
  rampart::app::ServerOptions server_options;
  std::string data_dir, listen, admin;
  unsigned workers = 0;
  auto* server = app.add_subcommand("server", "Run the gateway and its admin API");
  server
      ->add_option("-c,--config", server_options.config_path,
                   "Config file (TOML): seeds the store at first start; its [server] and "
                   "[limits] apply at every start that names it")
      ->check(CLI::ExistingFile);
  server->add_option("--data", data_dir,
                     "Data directory: the store, admin.token, admin.addr (default: "
                     "$RAMPART_DATA, else rampart-data)");
  server->add_option("--listen", listen, "Gateway listen address, overrides [server].listen");
  server->add_option("--admin", admin, "Admin listen address, overrides [server].admin");
  server->add_option("--workers", workers, "Gateway worker threads, overrides [server].workers");

  // --- client verbs -------------------------------------------------------------------------
  ClientOptions client;

  cli::ApplyArgs apply_args;
  auto* apply = app.add_subcommand(
      "apply", "Declare services and versions from a config file; deploys each changed split");
  apply->add_option("-f,--file", apply_args.file, "Config file (TOML)")->required();
  apply->add_option("-m,--message", apply_args.message, "Why: kept with each deployment");
  add_client_flags(apply, client);

  cli::StatusArgs status_args;
  auto* status = app.add_subcommand(
      "status", "Every service's split, or one service's versions, live metrics and analytics");
  status->add_option("SERVICE", status_args.service, "A service (default: list every service)");
  add_client_flags(status, client);

  cli::SplitArgs split_args;
  std::int64_t expect_revision = 0;
  auto* split = app.add_subcommand("split", "Change a service's split (a new deployment)");
  split->add_option("SERVICE", split_args.service, "The service")->required();
  split
      ->add_option("SHARES", split_args.shares,
                   "VERSION=PERCENT (or VERSION@PERCENT) for each version; percents have at "
                   "most two decimals and sum to 100; a version not named gets 0")
      ->required();
  split->add_option("-m,--message", split_args.message, "Why: kept with the deployment");
  auto* expect_revision_opt =
      split
          ->add_option("--expect-revision", expect_revision,
                       "Refuse (409) unless the latest deployment is the one created at this "
                       "store revision (0: none yet)")
          ->check(CLI::NonNegativeNumber);
  add_client_flags(split, client);

  cli::DeploymentsListArgs list_args;
  std::int64_t list_limit = 0;
  auto* deployments = app.add_subcommand("deployments", "A service's deployment history");
  deployments->require_subcommand(1);
  auto* deployments_list = deployments->add_subcommand("list", "Deployments, newest first");
  deployments_list->add_option("SERVICE", list_args.service, "The service")->required();
  auto* list_limit_opt =
      deployments_list->add_option("--limit", list_limit, "At most N deployments")
          ->check(CLI::PositiveNumber);
  add_client_flags(deployments_list, client);

  cli::RollbackArgs rollback_args;
  std::int64_t rollback_id = 0, rollback_checkpoint = 0;
  auto* rollback = app.add_subcommand(
      "rollback", "Restore an earlier deployment's split (default: the one before the latest)");
  rollback->add_option("SERVICE", rollback_args.service, "The service")->required();
  auto* rollback_id_opt = rollback->add_option("ID", rollback_id, "The deployment to restore")
                              ->check(CLI::PositiveNumber);
  auto* rollback_checkpoint_opt =
      rollback
          ->add_option("--checkpoint", rollback_checkpoint, "Restore this checkpoint's deployment")
          ->check(CLI::PositiveNumber);
  rollback_checkpoint_opt->excludes(rollback_id_opt);
  rollback->add_option("-m,--message", rollback_args.message, "Why: kept with the deployment");
  add_client_flags(rollback, client);

  cli::CheckpointArgs checkpoint_args;
  auto* checkpoint = app.add_subcommand(
      "checkpoint", "Mark a service's latest deployment, to roll back to it later");
  checkpoint->add_option("SERVICE", checkpoint_args.service, "The service")->required();
  checkpoint->add_option("--note", checkpoint_args.note, "What this point is")->required();
  add_client_flags(checkpoint, client);

  cli::AuditArgs audit_args;
  std::int64_t audit_limit = 0, audit_after = 0;
  auto* audit = app.add_subcommand("audit", "Who changed what and when, oldest first");
  audit->add_option("--since", audit_args.since,
                    "Events at or after T: a duration ago (30s, 10m, 2h, 7d), an RFC 3339 time "
                    "or unix milliseconds");
  auto* audit_limit_opt =
      audit->add_option("--limit", audit_limit, "At most N events")->check(CLI::PositiveNumber);
  auto* audit_after_opt = audit->add_option("--after", audit_after, "Events after sequence SEQ")
                              ->check(CLI::NonNegativeNumber);
  add_client_flags(audit, client);

  cli::TokenCreateArgs token_args;
  auto* token = app.add_subcommand("token", "API tokens (admin only)");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token; prints its secret once");
  token_create->add_option("NAME", token_args.name, "The token's name")->required();
  token_create->add_option("--role", token_args.role, "admin, deployer or read-only")->required();
  add_client_flags(token_create, client);
  auto* token_list = token->add_subcommand("list", "Tokens by name (never their secrets)");
  add_client_flags(token_list, client);

  std::string reload_config;
  auto* reload = app.add_subcommand(
      "reload", "Re-read the server's config file and apply it (as `apply` does)");
  add_client_flags(reload, client, "--addr,--admin");
  reload->add_option("-c,--config", reload_config,
                     "Config file whose [server].admin to use as the address when neither "
                     "--addr nor $RAMPART_ADDR is set");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);
    }
    std::string what = e.what();
    for (char& c : what) {
      c = c == '\n' ? ' ' : c;
    }
    std::string verb = verb_path(app);
    if (verb.empty() && !app.remaining().empty()) {
      const std::string arg = app.remaining().front();
      what = (arg.starts_with("-") ? "unknown option \"" : "unknown command \"") + arg + "\"";
    }
    std::fprintf(stderr, "rampart: %s%s%s (see rampart%s%s --help)\n", verb.c_str(),
                 verb.empty() ? "" : ": ", what.c_str(), verb.empty() ? "" : " ", verb.c_str());
    return cli::kExitUsage;
  }

  if (server->parsed()) {
    server_options.data_dir = cli::resolve_data_dir(data_dir);
    if (!listen.empty()) {
      server_options.listen = listen;
    }
    if (!admin.empty()) {
      server_options.admin = admin;
    }
    if (workers != 0) {
      server_options.workers = workers;
    }
    return rampart::app::run_server(server_options);
  }

  client.flags.config_address = admin_address_of(reload_config);
  cli::Context ctx{cli::resolve_client(client.flags), client.json, std::cout, std::cerr};
  if (apply->parsed()) {
    return cli::run_apply(ctx, apply_args);
  }
  if (status->parsed()) {
    return cli::run_status(ctx, status_args);
  }
  if (split->parsed()) {
    split_args.expect_revision = given(expect_revision_opt, expect_revision);
    return cli::run_split(ctx, split_args);
  }
  if (deployments_list->parsed()) {
    list_args.limit = given(list_limit_opt, list_limit);
    return cli::run_deployments_list(ctx, list_args);
  }
  if (rollback->parsed()) {
    rollback_args.deployment_id = given(rollback_id_opt, rollback_id);
    rollback_args.checkpoint_id = given(rollback_checkpoint_opt, rollback_checkpoint);
    return cli::run_rollback(ctx, rollback_args);
  }
  if (checkpoint->parsed()) {
    return cli::run_checkpoint(ctx, checkpoint_args);
  }
  if (audit->parsed()) {
    audit_args.limit = given(audit_limit_opt, audit_limit);
    audit_args.after = given(audit_after_opt, audit_after);
    return cli::run_audit(ctx, audit_args);
  }
  if (token_create->parsed()) {
    return cli::run_token_create(ctx, token_args);
  }
  if (token_list->parsed()) {
    return cli::run_token_list(ctx);
  }
  if (reload->parsed()) {
    return cli::run_reload(ctx);
  }
  return cli::kExitUsage;
}
