// rampart: parse the command line, wire, run. Everything else lives in the libraries: the
// server in app/server.hpp, the client verbs in cli/commands.hpp.

#include "app/server.hpp"
#include "cli/commands.hpp"
#include "cli/rollout_commands.hpp"
#include "cli/settings.hpp"
#include "config/config.hpp"
#include "model/records.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <tuple>

namespace {

namespace cli = rampart::cli;

constexpr std::int64_t kMaxId = rampart::model::kMaxId;

// The flags every client verb takes.
struct ClientOptions {
  cli::ClientFlags flags;
  bool json = false;
};

void add_client_flags(CLI::App* verb, ClientOptions& o, const std::string& addr_names = "--addr") {
  verb->add_option(addr_names, o.flags.address,
                   "Admin API address HOST:PORT or http://HOST:PORT (default: $RAMPART_ADDR, "
                   "else DATA/admin.addr, else 127.0.0.1:9901)");
  verb->add_option("--token", o.flags.token,
                   "API token (default: $RAMPART_TOKEN, else DATA/admin.token)");
  verb->add_option("--data", o.flags.data_dir,
                   "The server's data directory DATA (default: $RAMPART_DATA, else rampart-data)");
  verb->add_flag("--json", o.json, "Print the API's JSON instead of text");
}

// A whole-number option, kept as typed so that its range is checked in the user's words
// (cli::parse_integer_option) rather than by the command line parser.
struct IntegerOption {
  std::string text;
  CLI::Option* option = nullptr;
  std::int64_t min = 0;
  std::int64_t max = 0;
};

// The value of an integer option when it was given; an error in the user's words when it is
// out of range.
rampart::Result<std::optional<std::int64_t>> given(const IntegerOption& o) {
  if (o.option == nullptr || o.option->count() == 0) {
    return std::optional<std::int64_t>{};
  }
  auto v = cli::parse_integer_option(o.option->get_name(), o.text, o.min, o.max);
  if (!v) {
    return v.error();
  }
  return std::optional<std::int64_t>(*v);
}

void add_integer(CLI::App* verb, IntegerOption& o, const std::string& name, const std::string& help,
                 std::int64_t min, std::int64_t max) {
  o.option = verb->add_option(name, o.text, help);
  o.min = min;
  o.max = max;
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
  IntegerOption workers;
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
  add_integer(server, workers, "--workers", "Gateway worker threads, overrides [server].workers", 1,
              256);

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
  std::string status_service;
  auto* status_service_opt =
      status->add_option("SERVICE", status_service, "A service (default: list every service)");
  status->add_flag("--watch", status_args.watch,
                   "Follow the service's active rollout, one line per event, until it ends");
  add_client_flags(status, client);

  cli::SplitArgs split_args;
  IntegerOption expect_revision;
  auto* split = app.add_subcommand("split", "Change a service's split (a new deployment)");
  split->add_option("SERVICE", split_args.service, "The service")->required();
  split
      ->add_option("SHARES", split_args.shares,
                   "VERSION=PERCENT (or VERSION@PERCENT) for each version; percents have at "
                   "most two decimals and sum to 100; a version not named gets 0")
      ->required();
  split->add_option("-m,--message", split_args.message, "Why: kept with the deployment");
  add_integer(split, expect_revision, "--expect-revision",
              "Refuse (409) unless the latest deployment is the one created at this store "
              "revision (0: none yet)",
              0, std::numeric_limits<std::int64_t>::max());
  split->add_flag("--force", split_args.force,
                  "Create a deployment even when the split is the one served");
  add_client_flags(split, client);

  cli::DeploymentsListArgs list_args;
  IntegerOption list_limit;
  auto* deployments = app.add_subcommand("deployments", "A service's deployment history");
  deployments->require_subcommand(1);
  auto* deployments_list = deployments->add_subcommand("list", "Deployments, newest first");
  deployments_list->add_option("SERVICE", list_args.service, "The service")->required();
  add_integer(deployments_list, list_limit, "--limit", "At most N deployments (1 to 10000)", 1,
              10000);
  add_client_flags(deployments_list, client);

  cli::RollbackArgs rollback_args;
  IntegerOption rollback_id, rollback_checkpoint;
  auto* rollback = app.add_subcommand(
      "rollback", "Restore an earlier deployment's split (default: the one before the latest)");
  rollback->add_option("SERVICE", rollback_args.service, "The service")->required();
  add_integer(rollback, rollback_id, "ID", "The deployment to restore", 1, kMaxId);
  add_integer(rollback, rollback_checkpoint, "--checkpoint", "Restore this checkpoint's deployment",
              1, kMaxId);
  rollback_checkpoint.option->excludes(rollback_id.option);
  rollback->add_option("-m,--message", rollback_args.message, "Why: kept with the deployment");
  add_client_flags(rollback, client);

  cli::CheckpointArgs checkpoint_args;
  auto* checkpoint = app.add_subcommand(
      "checkpoint", "Mark a service's latest deployment, to roll back to it later");
  checkpoint->add_option("SERVICE", checkpoint_args.service, "The service")->required();
  checkpoint->add_option("--note", checkpoint_args.note, "What this point is")->required();
  add_client_flags(checkpoint, client);

  cli::AuditArgs audit_args;
  IntegerOption audit_limit, audit_after;
  auto* audit = app.add_subcommand("audit", "Who changed what and when, oldest first");
  audit->add_option("--since", audit_args.since,
                    "Events at or after T: a duration ago (30s, 10m, 2h, 7d), an RFC 3339 time "
                    "or unix milliseconds");
  add_integer(audit, audit_limit, "--limit", "At most N events (1 to 10000)", 1, 10000);
  add_integer(audit, audit_after, "--after", "Events after sequence SEQ", 0, kMaxId);
  add_client_flags(audit, client);

  cli::TokenCreateArgs token_args;
  auto* token = app.add_subcommand("token", "API tokens (admin only)");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token; prints its secret once");
  token_create->add_option("NAME", token_args.name, "The token's name")->required();
  token_create->add_option("--role", token_args.role, "admin, deployer or read-only")->required();
  token_create->add_option("--expires", token_args.expires,
                           "Refuse the token after this long: 12h, 30d, 1w (default: never)");
  add_client_flags(token_create, client);
  auto* token_list = token->add_subcommand("list", "Tokens by name (never their secrets)");
  add_client_flags(token_list, client);
  cli::TokenRevokeArgs revoke_args;
  auto* token_revoke =
      token->add_subcommand("revoke", "Revoke a token: it is refused from now on (audited)");
  token_revoke->add_option("NAME", revoke_args.name, "The token's name")->required();
  add_client_flags(token_revoke, client);

  auto* reload = app.add_subcommand(
      "reload", "Re-read the server's config file and apply it (as `apply` does)");
  add_client_flags(reload, client, "--addr,--admin");
  reload->add_option("-c,--config", client.flags.config_path,
                     "Config file whose [server].admin to use as the address when neither "
                     "--addr nor $RAMPART_ADDR is set");
  auto rollout_verbs =
      cli::register_rollout_verbs(app, [&](CLI::App* verb) { add_client_flags(verb, client); });
  // `rampart --json VERB` as well as `rampart VERB --json`.
  app.add_flag("--json", client.json, "Print the API's JSON instead of text");

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

  // A usage error found after parsing: the same line as the parser's.
  auto usage = [&](const std::string& what) {
    const std::string verb = verb_path(app);
    std::fprintf(stderr, "rampart: %s: %s (see rampart %s --help)\n", verb.c_str(), what.c_str(),
                 verb.c_str());
    return cli::kExitUsage;
  };

  if (server->parsed()) {
    server_options.data_dir = cli::resolve_data_dir(data_dir);
    for (auto [name, value, target] : {std::tuple{"--listen", &listen, &server_options.listen},
                                       std::tuple{"--admin", &admin, &server_options.admin}}) {
      if (value->empty()) {
        continue;
      }
      // The config file's check of [server].listen and [server].admin.
      if (auto e = rampart::config::parse_endpoint(*value); !e) {
        return usage(std::string(name) + ": " + e.error().message);
      }
      *target = *value;
    }
    auto worker_count = given(workers);
    if (!worker_count) {
      return usage(worker_count.error().message);
    }
    if (*worker_count) {
      server_options.workers = static_cast<unsigned>(**worker_count);
    }
    return rampart::app::run_server(server_options);
  }

  auto settings = cli::resolve_client(client.flags);
  if (!settings) {
    std::fprintf(stderr, "rampart: %s\n", settings.error().message.c_str());
    return cli::kExitFailure;
  }
  cli::Context ctx{std::move(*settings), client.json, std::cout, std::cerr};
  if (apply->parsed()) {
    return cli::run_apply(ctx, apply_args);
  }
  if (status->parsed()) {
    if (status_service_opt->count() > 0) {
      status_args.service = status_service;
    }
    return cli::run_status(ctx, status_args);
  }
  if (split->parsed()) {
    auto revision = given(expect_revision);
    if (!revision) {
      return usage(revision.error().message);
    }
    split_args.expect_revision = *revision;
    return cli::run_split(ctx, split_args);
  }
  if (deployments_list->parsed()) {
    auto limit = given(list_limit);
    if (!limit) {
      return usage(limit.error().message);
    }
    list_args.limit = *limit;
    return cli::run_deployments_list(ctx, list_args);
  }
  if (rollback->parsed()) {
    auto id = given(rollback_id);
    auto checkpoint_id = given(rollback_checkpoint);
    for (const auto* r : {&id, &checkpoint_id}) {
      if (!*r) {
        return usage(r->error().message);
      }
    }
    rollback_args.deployment_id = *id;
    rollback_args.checkpoint_id = *checkpoint_id;
    return cli::run_rollback(ctx, rollback_args);
  }
  if (checkpoint->parsed()) {
    return cli::run_checkpoint(ctx, checkpoint_args);
  }
  if (audit->parsed()) {
    auto limit = given(audit_limit);
    auto after = given(audit_after);
    for (const auto* r : {&limit, &after}) {
      if (!*r) {
        return usage(r->error().message);
      }
    }
    audit_args.limit = *limit;
    audit_args.after = *after;
    return cli::run_audit(ctx, audit_args);
  }
  if (token_create->parsed()) {
    return cli::run_token_create(ctx, token_args);
  }
  if (token_list->parsed()) {
    return cli::run_token_list(ctx);
  }
  if (token_revoke->parsed()) {
    return cli::run_token_revoke(ctx, revoke_args);
  }
  if (reload->parsed()) {
    return cli::run_reload(ctx);
  }
  if (auto code = rollout_verbs->run(ctx)) {
    return *code;
  }
  return cli::kExitUsage;
}
