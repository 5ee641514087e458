#include "cli/commands.hpp"

#include "cli/instance_commands.hpp"
#include "cli/observe_commands.hpp"
#include "cli/render.hpp"
#include "cli/rollout_commands.hpp"
#include "cli/secret_commands.hpp"
#include "cli/split_arg.hpp"
#include "cli/times.hpp"
#include "cli/verbs.hpp"
#include "common/json_text.hpp"
#include "config/config.hpp"
#include "model/codec.hpp"
#include "model/records.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

namespace rampart::cli {
namespace json = boost::json;

namespace {

std::int64_t now(const Context& ctx) { return ctx.now_ms ? ctx.now_ms() : now_unix_ms(); }

// The service a verb names: an empty name is a usage error.
bool named(Context& ctx, std::string_view verb, std::string_view service) {
  if (!service.empty()) {
    return true;
  }
  fail(ctx, kExitUsage, fmt::format("{}: the service name is empty; name a service", verb));
  return false;
}

void print_json(Context& ctx, const json::value& v) { ctx.out << to_json_text(v) << "\n"; }

// Prints `value`: as JSON with --json, else as `human` renders it. Answers kExitOk.
template <class Human>
int show(Context& ctx, const json::value& value, Human human) {
  if (ctx.json) {
    print_json(ctx, value);
  } else {
    ctx.out << human(value);
  }
  return kExitOk;
}

// The array under `key` of an answer object (an empty one when it has none).
json::value list_of(const json::value& answer, std::string_view key) {
  if (const auto* obj = answer.if_object()) {
    if (const auto* v = obj->if_contains(key); v != nullptr && v->is_array()) {
      return *v;
    }
  }
  return json::array();
}

}  // namespace

namespace {

// Adds "?name=value" or "&name=value".
void add_query(std::string& target, std::string_view name, std::int64_t value) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += fmt::format("{}={}", name, value);
}

}  // namespace

int run_apply(Context& ctx, const ApplyArgs& args) {
  // The whole file is checked here first, so that a typo is reported with its line before
  // anything is sent.
  auto config = config::load_config(args.file);
  if (!config) {
    return fail(ctx, kExitFailure, config.error().message);
  }
  std::ifstream in(args.file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return fail(ctx, kExitFailure, fmt::format("cannot read config file \"{}\"", args.file));
  }
  json::object body;
  body["config"] = text.str();
  body["source"] = args.file;
  if (!args.message.empty()) {
    body["message"] = args.message;
  }
  auto answer = call(ctx, "POST", "/api/v1/apply", {"changed", "revision", "deployments"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return apply_summary(v, args.file); });
}

namespace {

// The verbs' arguments live in the run function (shared_ptr: a std::function is copied), bound
// to the command line's options until it runs.
Verb apply_verb(CLI::App& app, ClientOptions& client) {
  auto args = std::make_shared<ApplyArgs>();
  auto* verb = app.add_subcommand(
      "apply", "Declare services and versions from a config file; deploys each changed split");
  verb->add_option("-f,--file", args->file, "Config file (TOML)")->required();
  verb->add_option("-m,--message", args->message, "Why: kept with each deployment");
  add_client_flags(verb, client);
  return {verb, [args](Context& ctx) { return run_apply(ctx, *args); }};
}

}  // namespace

int run_status(Context& ctx, const StatusArgs& args) {
  if (!args.service && args.watch) {
    return fail(ctx, kExitUsage, "status: --watch follows one service's rollout; name it");
  }
  if (!args.service) {
    auto answer = call(ctx, "GET", "/api/v1/services", {"services"});
    if (!answer) {
      return kExitFailure;
    }
    return show(ctx, *answer, [&](const json::value& v) {
      return services_table(list_of(v, "services"), now(ctx));
    });
  }
  if (!named(ctx, "status", *args.service)) {
    return kExitUsage;
  }
  auto answer = call(ctx, "GET", service_path(*args.service), {"name", "versions"});
  if (!answer) {
    return kExitFailure;
  }
  const int code = show(ctx, *answer, [&](const json::value& v) {
    return service_detail(v, now(ctx)) + active_rollout_text(ctx, *args.service);
  });
  return args.watch ? watch_active_rollout(ctx, *args.service) : code;
}

namespace {

Verb status_verb(CLI::App& app, ClientOptions& client) {
  struct State {
    StatusArgs args;
    std::string service;
    CLI::Option* service_option = nullptr;
  };
  auto state = std::make_shared<State>();
  auto* verb = app.add_subcommand(
      "status", "Every service's split, or one service's versions, live metrics and analytics");
  state->service_option =
      verb->add_option("SERVICE", state->service, "A service (default: list every service)");
  verb->add_flag("--watch", state->args.watch,
                 "Follow the service's active rollout, redrawn in place on a terminal (one line "
                 "per event otherwise), until it ends");
  add_client_flags(verb, client);
  return {verb, [state](Context& ctx) {
            StatusArgs args = state->args;
            if (state->service_option->count() > 0) {
              args.service = state->service;
            }
            return run_status(ctx, args);
          }};
}

}  // namespace

int run_split(Context& ctx, const SplitArgs& args) {
  if (!named(ctx, "split", args.service)) {
    return kExitUsage;
  }
  auto shares = parse_split_args(args.shares);
  if (!shares) {
    return fail(ctx, kExitUsage, shares.error().message);
  }
  json::object split;
  for (const auto& share : *shares) {
    split[share.version] = model::percent_json(share.basis_points);
  }
  json::object body;
  body["split"] = std::move(split);
  if (!args.message.empty()) {
    body["message"] = args.message;
  }
  if (args.expect_revision) {
    body["expected_revision"] = *args.expect_revision;
  }
  if (args.force) {
    body["force"] = true;
  }
  auto answer = call(ctx, "POST", service_path(args.service) + "/deployments",
                     {"service", "id", "split"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return split_summary(v); });
}

namespace {

Verb split_verb(CLI::App& app, ClientOptions& client) {
  struct State {
    SplitArgs args;
    IntegerOption expect_revision;
  };
  auto state = std::make_shared<State>();
  auto* verb = app.add_subcommand("split", "Change a service's split (a new deployment)");
  verb->add_option("SERVICE", state->args.service, "The service")->required();
  verb->add_option("SHARES", state->args.shares,
                   "VERSION=PERCENT (or VERSION@PERCENT) for each version; percents have at "
                   "most two decimals and sum to 100; a version not named gets 0")
      ->required();
  verb->add_option("-m,--message", state->args.message, "Why: kept with the deployment");
  add_integer(verb, state->expect_revision, "--expect-revision",
              "Refuse (409) unless the latest deployment is the one created at this store "
              "revision (0: none yet)",
              0, std::numeric_limits<std::int64_t>::max());
  verb->add_flag("--force", state->args.force,
                 "Create a deployment even when the split is the one served");
  add_client_flags(verb, client);
  return {verb, [state, verb](Context& ctx) {
            auto revision = given(state->expect_revision);
            if (!revision) {
              return usage_error(ctx.err, *verb, revision.error().message);
            }
            SplitArgs args = state->args;
            args.expect_revision = *revision;
            return run_split(ctx, args);
          }};
}

}  // namespace

int run_deployments_list(Context& ctx, const DeploymentsListArgs& args) {
  if (!named(ctx, "deployments list", args.service)) {
    return kExitUsage;
  }
  std::string target = service_path(args.service) + "/deployments";
  if (args.limit) {
    add_query(target, "limit", *args.limit);
  }
  auto answer = call(ctx, "GET", target, {"deployments"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer,
              [&](const json::value& v) { return deployments_table(list_of(v, "deployments")); });
}

namespace {

Verb deployments_list_verb(CLI::App& app, ClientOptions& client) {
  struct State {
    DeploymentsListArgs args;
    IntegerOption limit;
  };
  auto state = std::make_shared<State>();
  auto* deployments = app.add_subcommand("deployments", "A service's deployment history");
  deployments->require_subcommand(1);
  auto* verb = deployments->add_subcommand("list", "Deployments, newest first");
  verb->add_option("SERVICE", state->args.service, "The service")->required();
  add_integer(verb, state->limit, "--limit", "At most N deployments (1 to 10000)", 1, 10000);
  add_client_flags(verb, client);
  return {verb, [state, verb](Context& ctx) {
            auto limit = given(state->limit);
            if (!limit) {
              return usage_error(ctx.err, *verb, limit.error().message);
            }
            DeploymentsListArgs args = state->args;
            args.limit = *limit;
            return run_deployments_list(ctx, args);
          }};
}

}  // namespace

int run_rollback(Context& ctx, const RollbackArgs& args) {
  if (!named(ctx, "rollback", args.service)) {
    return kExitUsage;
  }
  if (args.deployment_id && args.checkpoint_id) {
    return fail(ctx, kExitUsage,
                "rollback: give a deployment ID or --checkpoint N, not both (neither: the "
                "deployment before the latest)");
  }
  json::object body;
  if (args.deployment_id) {
    body["deployment_id"] = *args.deployment_id;
  }
  if (args.checkpoint_id) {
    body["checkpoint_id"] = *args.checkpoint_id;
  }
  if (!args.message.empty()) {
    body["message"] = args.message;
  }
  auto answer = call(ctx, "POST", service_path(args.service) + "/rollback",
                     {"service", "id", "split"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return deployment_line(v) + "\n"; });
}

namespace {

Verb rollback_verb(CLI::App& app, ClientOptions& client) {
  struct State {
    RollbackArgs args;
    IntegerOption id, checkpoint;
  };
  auto state = std::make_shared<State>();
  auto* verb = app.add_subcommand(
      "rollback", "Restore an earlier deployment's split (default: the one before the latest)");
  verb->add_option("SERVICE", state->args.service, "The service")->required();
  add_integer(verb, state->id, "ID", "The deployment to restore", 1, model::kMaxId);
  add_integer(verb, state->checkpoint, "--checkpoint", "Restore this checkpoint's deployment", 1,
              model::kMaxId);
  state->checkpoint.option->excludes(state->id.option);
  verb->add_option("-m,--message", state->args.message, "Why: kept with the deployment");
  add_client_flags(verb, client);
  return {verb, [state, verb](Context& ctx) {
            auto id = given(state->id);
            auto checkpoint_id = given(state->checkpoint);
            for (const auto* r : {&id, &checkpoint_id}) {
              if (!*r) {
                return usage_error(ctx.err, *verb, r->error().message);
              }
            }
            RollbackArgs args = state->args;
            args.deployment_id = *id;
            args.checkpoint_id = *checkpoint_id;
            return run_rollback(ctx, args);
          }};
}

}  // namespace

int run_checkpoint(Context& ctx, const CheckpointArgs& args) {
  if (!named(ctx, "checkpoint", args.service)) {
    return kExitUsage;
  }
  if (args.note.find_first_not_of(" \t") == std::string::npos) {
    return fail(ctx, kExitUsage,
                "checkpoint: --note is empty; say what this point is, e.g. --note \"before the "
                "freeze\"");
  }
  json::object body;
  body["note"] = args.note;
  auto answer = call(ctx, "POST", service_path(args.service) + "/checkpoints",
                     {"service", "id", "deployment_id"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return checkpoint_line(v) + "\n"; });
}

namespace {

Verb checkpoint_verb(CLI::App& app, ClientOptions& client) {
  auto args = std::make_shared<CheckpointArgs>();
  auto* verb = app.add_subcommand("checkpoint",
                                  "Mark a service's latest deployment, to roll back to it later");
  verb->add_option("SERVICE", args->service, "The service")->required();
  verb->add_option("--note", args->note, "What this point is")->required();
  add_client_flags(verb, client);
  return {verb, [args](Context& ctx) { return run_checkpoint(ctx, *args); }};
}

}  // namespace

int run_audit(Context& ctx, const AuditArgs& args) {
  std::string target = "/api/v1/audit";
  if (args.after) {
    add_query(target, "after", *args.after);
  }
  if (!args.since.empty()) {
    auto since = parse_since(args.since, now(ctx));
    if (!since) {
      return fail(ctx, kExitUsage, "audit: " + since.error().message);
    }
    add_query(target, "since", *since);
  }
  if (args.limit) {
    add_query(target, "limit", *args.limit);
  }
  auto answer = call(ctx, "GET", target, {"events"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer,
              [&](const json::value& v) { return audit_table(list_of(v, "events")); });
}

namespace {

Verb audit_verb(CLI::App& app, ClientOptions& client) {
  struct State {
    AuditArgs args;
    IntegerOption limit, after;
  };
  auto state = std::make_shared<State>();
  auto* verb = app.add_subcommand("audit", "Who changed what and when, oldest first");
  verb->add_option("--since", state->args.since,
                   "Events at or after T: a duration ago (30s, 10m, 2h, 7d), an RFC 3339 time "
                   "or unix milliseconds");
  add_integer(verb, state->limit, "--limit", "At most N events (1 to 10000)", 1, 10000);
  add_integer(verb, state->after, "--after", "Events after sequence SEQ", 0, model::kMaxId);
  add_client_flags(verb, client);
  return {verb, [state, verb](Context& ctx) {
            auto limit = given(state->limit);
            auto after = given(state->after);
            for (const auto* r : {&limit, &after}) {
              if (!*r) {
                return usage_error(ctx.err, *verb, r->error().message);
              }
            }
            AuditArgs args = state->args;
            args.limit = *limit;
            args.after = *after;
            return run_audit(ctx, args);
          }};
}

}  // namespace

int run_token_create(Context& ctx, const TokenCreateArgs& args) {
  if (!model::parse_role(args.role)) {
    return fail(ctx, kExitUsage,
                fmt::format("token create: --role must be admin, deployer or read-only, not \"{}\"",
                            args.role));
  }
  json::object body;
  body["name"] = args.name;
  body["role"] = args.role;
  if (!args.expires.empty()) {
    auto ttl = parse_duration_ms(args.expires);
    if (!ttl) {
      return fail(ctx, kExitUsage, "token create: --expires: " + ttl.error().message);
    }
    body["expires_at"] = format_rfc3339(now(ctx) + *ttl);
  }
  auto answer = call(ctx, "POST", "/api/v1/tokens", {"name", "role", "token"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return token_created(v); });
}

int run_token_list(Context& ctx) {
  auto answer = call(ctx, "GET", "/api/v1/tokens", {"tokens"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer,
              [&](const json::value& v) { return tokens_table(list_of(v, "tokens")); });
}

int run_token_revoke(Context& ctx, const TokenRevokeArgs& args) {
  if (args.name.empty()) {
    return fail(ctx, kExitUsage, "token revoke: the token name is empty; name a token");
  }
  auto answer = call(ctx, "DELETE", "/api/v1/tokens/" + encode_path_segment(args.name),
                     {"name", "revoked_at"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return token_revoked(v); });
}

namespace {

// `token create`, `token list` and `token revoke`.
std::vector<Verb> token_verbs(CLI::App& app, ClientOptions& client) {
  auto* token = app.add_subcommand("token", "API tokens (admin only)");
  token->require_subcommand(1);
  auto create_args = std::make_shared<TokenCreateArgs>();
  auto* create = token->add_subcommand("create", "Create a token; prints its secret once");
  create->add_option("NAME", create_args->name, "The token's name")->required();
  create->add_option("--role", create_args->role, "admin, deployer or read-only")->required();
  create->add_option("--expires", create_args->expires,
                     "Refuse the token after this long: 12h, 30d, 1w (default: never)");
  add_client_flags(create, client);
  auto* list = token->add_subcommand("list", "Tokens by name (never their secrets)");
  add_client_flags(list, client);
  auto revoke_args = std::make_shared<TokenRevokeArgs>();
  auto* revoke =
      token->add_subcommand("revoke", "Revoke a token: it is refused from now on (audited)");
  revoke->add_option("NAME", revoke_args->name, "The token's name")->required();
  add_client_flags(revoke, client);
  return {{create, [create_args](Context& ctx) { return run_token_create(ctx, *create_args); }},
          {list, [](Context& ctx) { return run_token_list(ctx); }},
          {revoke, [revoke_args](Context& ctx) { return run_token_revoke(ctx, *revoke_args); }}};
}

}  // namespace

int run_reload(Context& ctx) {
  auto answer = call(ctx, "POST", "/reload", {"status"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return reload_summary(v); });
}

namespace {

Verb reload_verb(CLI::App& app, ClientOptions& client) {
  auto* verb = app.add_subcommand(
      "reload", "Re-read the server's config file and apply it (as `apply` does)");
  add_client_flags(verb, client, "--addr,--admin");
  verb->add_option("-c,--config", client.flags.config_path,
                   "Config file whose [server].admin to use as the address when neither "
                   "--addr nor $RAMPART_ADDR is set");
  return {verb, [](Context& ctx) { return run_reload(ctx); }};
}

}  // namespace

std::vector<Verb> register_client_verbs(CLI::App& app, ClientOptions& client) {
  std::vector<Verb> verbs{apply_verb(app, client),    status_verb(app, client),
                          split_verb(app, client),    deployments_list_verb(app, client),
                          rollback_verb(app, client), checkpoint_verb(app, client),
                          audit_verb(app, client)};
  for (auto& verb : token_verbs(app, client)) {
    verbs.push_back(std::move(verb));
  }
  verbs.push_back(reload_verb(app, client));
  for (auto& verb : register_secret_verbs(app, client)) {
    verbs.push_back(std::move(verb));
  }
  for (auto& verb : register_observe_verbs(app, client)) {
    verbs.push_back(std::move(verb));
  }
  for (auto& verb : register_instance_verbs(app, client)) {
    verbs.push_back(std::move(verb));
  }
  return verbs;
}

}  // namespace rampart::cli
