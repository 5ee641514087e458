// `rampart deploy`: the pre commands, the dry run and its plan, the request, then the watch
// (cli/rollout_commands.hpp).

#include "cli/pre_checks.hpp"
#include "cli/rollout_commands.hpp"
#include "cli/rollout_text.hpp"
#include "cli/times.hpp"
#include "common/duration.hpp"
#include "common/json_text.hpp"
#include "rollout/policy.hpp"
#include "rollout/strategy.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>

namespace rampart::cli {
namespace json = boost::json;
using namespace rollout_text;  // NOLINT(google-build-using-namespace): the readers
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kIndent = "                  ";  // under a plan line's value

std::string rollouts_path(std::string_view service) { return service_path(service) + "/rollouts"; }

Result<std::chrono::milliseconds> pre_time_limit(const DeployArgs& args) {
  if (args.pre_timeout.empty()) {
    return kDefaultPreTimeLimit;
  }
  auto d = parse_duration(args.pre_timeout);
  if (!d || d->count() <= 0) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--pre-timeout: \"{}\" is no positive duration; write e.g. 30s "
                                  "or 10m",
                                  args.pre_timeout));
  }
  return *d;
}

std::vector<PreCommand> pre_commands(const json::value& policy) {
  std::vector<PreCommand> out;
  for (const auto& p : array_of(member(policy, "checks"), "pre")) {
    out.push_back({text(p, "name"), text(p, "run")});
  }
  return out;
}

// The deploy windows as the policy holds them, for rollout::deploy_refused().
rollout::DeployWindows windows_of(const json::value& policy) {
  const auto& w = member(policy, "deploy_windows");
  rollout::DeployWindows out;
  for (const auto& d : array_of(w, "deny")) {
    for (std::size_t i = 0; i < kDays.size(); ++i) {
      if (text(d) == kDays[i]) {
        out.deny_days.push_back(static_cast<int>(i));
      }
    }
  }
  double offset = 0;
  if (number(member(w, "utc_offset_minutes"), offset)) {
    out.utc_offset_minutes = static_cast<int>(offset);
  }
  return out;
}

std::string steps_text(const json::value& r) {
  const auto& steps = array_of(r, "steps");
  if (steps.empty()) {
    return "one cut-over (blue-green)\n";
  }
  std::string out;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::string pause = text(steps[i], "pause");
    std::string then;
    if (pause == "until-promoted") {
      then = ", then wait until promoted";
    } else if (i + 1 < steps.size() || pause != "0s") {
      then = ", then pause " + pause;
    }
    out += fmt::format("{}{}. {}{}\n", i == 0 ? "" : kIndent, i + 1,
                       percent_text(member(steps[i], "weight")), then);
  }
  return out;
}

std::string checks_text(const json::value& r) {
  const auto& analysis = member(r, "analysis");
  std::string out = member(analysis, "default_checks").as_bool()
                        ? "seed 004's defaults (the service sets no check)\n"
                        : "the service's\n";
  for (const auto& c : array_of(analysis, "checks")) {
    out += fmt::format("{}{:<12}{}\n", kIndent, text(c, "metric"), thresholds(c));
  }
  return out;
}

std::string verify_text(const json::value& checks) {
  std::string out;
  for (const auto& v : array_of(checks, "verify")) {
    const std::string budget =
        member(v, "max_ms").is_number() ? " within " + text(v, "max_ms") + "ms" : "";
    out += fmt::format("{}GET {} -> {}{}", out.empty() ? "" : "; ", text(v, "path"),
                       text(v, "status"), budget);
  }
  if (out.empty()) {
    return "none";
  }
  return out + fmt::format(" (before traffic, and {} tries after promotion)",
                           text(checks, "verify_tries"));
}

std::string webhooks_text(const json::value& policy) {
  std::string out;
  for (const auto& h : array_of(policy, "webhooks")) {
    std::string events;
    for (const auto& e : array_of(h, "events")) {
      events += (events.empty() ? "" : ", ") + text(e);
    }
    out += fmt::format("{}{} (events: {})\n", out.empty() ? "" : kIndent, text(h, "url"),
                       events.empty() ? "all" : events);
  }
  return out.empty() ? "none\n" : out;
}

int dry_run(Context& ctx, const DeployArgs& args, json::object body, const json::value& policy,
            const std::vector<PreOutcome>& pre) {
  body["dry_run"] = true;
  auto plan = call(ctx, "POST", rollouts_path(args.service), {"id", "phase"}, &body);
  if (!plan) {
    return kExitFailure;  // call() printed the gate that refused
  }
  const std::int64_t now = ctx.now_ms ? ctx.now_ms() : now_unix_ms();
  if (ctx.json) {
    ctx.out << to_json_text(json::object{{"dry_run", true},
                                         {"rollout", *plan},
                                         {"policy", policy},
                                         {"pre", pre_json(pre)},
                                         {"skip_checks", args.skip_checks},
                                         {"deploy_window", window_text(policy, now)}})
            << "\n";
  } else {
    ctx.out << dry_run_plan(*plan, policy, now);
  }
  return kExitOk;
}

// NAME=VALUE pairs of a repeated flag as an object; `what` names the value in the error.
Result<json::object> name_value_pairs(std::string_view flag, std::string_view what,
                                      const std::vector<std::string>& items) {
  json::object out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("{}: \"{}\" is not NAME={}", flag, item, what));
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

bool has_run_flags(const DeployArgs& args) {
  return args.instances != 1 || !args.workdir.empty() || !args.env.empty() ||
         !args.secrets.empty() || !args.grace.empty() || !args.health.empty() ||
         !args.env_required.empty() || !args.env_optional.empty() || !args.env_formats.empty();
}

// The variables the version declares it needs: the server checks them before anything starts.
Status add_env_spec(const DeployArgs& args, json::object& run) {
  auto formats = name_value_pairs("--env-format", "REGEX", args.env_formats);
  if (!formats) {
    return formats.error();
  }
  for (auto [key, names] :
       {std::pair{"env_required", &args.env_required}, {"env_optional", &args.env_optional}}) {
    if (!names->empty()) {
      run[key] = json::array(names->begin(), names->end());
    }
  }
  if (!formats->empty()) {
    run["env_formats"] = std::move(*formats);
  }
  return {};
}

// The "run" object of a deploy by command (nullopt without one): the command as given, and the
// directory it is run in (the one `rampart deploy` runs in unless --workdir).
Result<std::optional<json::object>> run_body(const DeployArgs& args) {
  if (args.command.empty()) {
    if (has_run_flags(args)) {
      return make_error(Errc::kInvalidArgument,
                        "--instances, --workdir, --env, --secret, --health, --grace and the env "
                        "checks go with a command: rampart deploy SERVICE --version V -- "
                        "./server --port {port}");
    }
    return std::optional<json::object>{};
  }
  json::object run;
  run["argv"] = json::array(args.command.begin(), args.command.end());
  run["instances"] = args.instances;
  std::error_code ec;
  run["workdir"] = args.workdir.empty() ? std::filesystem::current_path(ec).string()
                                        : std::filesystem::absolute(args.workdir, ec).string();
  auto env = name_value_pairs("--env", "VALUE", args.env);
  if (!env) {
    return env.error();
  }
  run["env"] = std::move(*env);
  if (!args.secrets.empty()) {
    run["secrets"] = json::array(args.secrets.begin(), args.secrets.end());
  }
  if (!args.grace.empty()) {
    auto d = parse_duration(args.grace);
    if (!d) {
      return make_error(Errc::kInvalidArgument, "--grace: " + d.error().message);
    }
    run["grace_ms"] = d->count();
  }
  if (auto s = add_env_spec(args, run); !s) {
    return s.error();
  }
  return std::optional(std::move(run));
}

}  // namespace

Result<json::object> deploy_body(const DeployArgs& args) {
  json::object body;
  if (args.version.empty()) {
    return make_error(Errc::kInvalidArgument, "--version: name the version to roll out");
  }
  body["version"] = args.version;
  if (!args.strategy.empty()) {
    body["strategy"] = args.strategy;
  }
  if (!args.pause.empty() && args.steps.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "--pause goes with --steps, e.g. --steps 10,50,100 --pause 5m");
  }
  for (auto [flag, value] : {std::pair{"--pause", &args.pause}, {"--interval", &args.interval}}) {
    if (value->empty()) {
      continue;
    }
    if (auto d = parse_duration(*value); !d) {
      return make_error(Errc::kInvalidArgument, fmt::format("{}: {}", flag, d.error().message));
    }
    body[std::string_view(flag).substr(2)] = *value;
  }
  if (!args.steps.empty()) {
    auto steps = rollout::steps_from_percents(args.steps, std::chrono::minutes(5));
    if (!steps) {
      return steps.error();
    }
    json::array percents;
    for (const auto& s : *steps) {
      percents.emplace_back(s.weight_bp / 100);
    }
    body["steps"] = std::move(percents);
  }
  if (!args.upstreams.empty()) {
    json::array upstreams;
    for (const auto& u : args.upstreams) {
      if (u.find("://") == std::string::npos) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("--upstream: \"{}\" is not a URL; write it as "
                                      "http://host:port",
                                      u));
      }
      upstreams.emplace_back(u);
    }
    body["upstreams"] = std::move(upstreams);
  }
  if (auto run = run_body(args); !run) {
    return run.error();
  } else if (*run) {
    if (!args.upstreams.empty()) {
      return make_error(Errc::kInvalidArgument,
                        "--upstream and a command (-- CMD) both declare the version; give one");
    }
    body["run"] = std::move(**run);
    if (!args.health.empty()) {
      body["health_path"] = args.health;
    }
  }
  for (auto [key, on] : {std::pair{"replace", args.replace},
                         {"force", args.force},
                         {"skip_checks", args.skip_checks}}) {
    if (on) {
      body[key] = true;
    }
  }
  if (!args.message.empty()) {
    body["message"] = args.message;
  }
  return body;
}

std::string window_text(const json::value& policy, std::int64_t now_ms) {
  auto refused = rollout::deploy_refused(windows_of(policy), now_ms);
  return refused ? "refused: " + *refused : std::string("allowed");
}

std::string dry_run_plan(const json::value& r, const json::value& policy, std::int64_t now_ms) {
  const auto& checks = member(policy, "checks");
  const auto& health = member(checks, "health");
  std::string deny;
  for (const auto& d : array_of(member(policy, "deploy_windows"), "deny")) {
    deny += (deny.empty() ? "" : ", ") + text(d);
  }
  std::string out = fmt::format("Dry run: {} {} from {}; nothing was changed\n", text(r, "service"),
                                text(r, "version"), text(r, "stable"));
  out += fmt::format("  strategy        {}: {}\n", text(r, "strategy"), text(r, "plan"));
  out += "  steps           " + steps_text(r);
  out += "  analysis        " + analysis_text(r) + "\n";
  out += "  checks          " + checks_text(r);
  double backoff = 0;
  number(member(health, "backoff_ms"), backoff);
  out +=
      fmt::format("  health          GET {}, {} tries, backoff {} (doubled after each)\n",
                  text(health, "path"), text(health, "tries"),
                  format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(backoff))));
  out += "  verify          " + verify_text(checks) + "\n";
  out += "  webhooks        " + webhooks_text(policy);
  out += fmt::format("  deploy windows  {}; now: {}\n", deny.empty() ? "every day" : "deny " + deny,
                     window_text(policy, now_ms));
  out += fmt::format("All gates passed: `rampart deploy {} --version {}` would start rollout {}.\n",
                     text(r, "service"), text(r, "version"), text(r, "id"));
  return out;
}

int run_deploy(Context& ctx, const DeployArgs& args, const WatchHooks& hooks) {
  if (args.service.empty()) {
    return fail(ctx, kExitUsage, "deploy: the service name is empty; name a service");
  }
  auto body = deploy_body(args);
  if (!body) {
    return fail(ctx, kExitUsage, "deploy: " + body.error().message);
  }
  auto limit = pre_time_limit(args);
  if (!limit) {
    return fail(ctx, kExitUsage, "deploy: " + limit.error().message);
  }
  auto service = call(ctx, "GET", service_path(args.service), {"name"});
  if (!service) {
    return kExitFailure;
  }
  const json::value policy = member(*service, "rollout");
  std::vector<PreOutcome> pre;
  if (!args.skip_checks) {
    // On a terminal, say what runs while it runs: `make test` may take minutes.
    const bool tell = isatty(STDERR_FILENO) != 0;
    pre = run_pre_commands(pre_commands(policy), *limit, [&](const PreCommand& c) {
      if (tell) {
        ctx.err << fmt::format("rampart: running pre-deploy check {}: {}\n", c.name, c.run)
                << std::flush;
      }
    });
    if (!pre.empty()) {
      (ctx.json ? ctx.err : ctx.out) << pre_table(pre, *limit);
    }
    if (any_interrupted(pre)) {
      ctx.err << "rampart: deploy: interrupted during the pre-deploy checks; nothing was "
                 "started\n";
      return kExitInterrupted;
    }
    if (!all_passed(pre)) {
      const auto failed = std::count_if(pre.begin(), pre.end(), [](auto& o) { return !o.passed; });
      return fail(ctx, kExitFailure,
                  fmt::format("deploy: {} of {} pre-deploy checks failed; nothing was started",
                              failed, pre.size()));
    }
    if (!pre.empty()) {
      (*body)["pre"] = pre_json(pre);
    }
  }
  if (args.dry_run) {
    return dry_run(ctx, args, std::move(*body), policy, pre);
  }
  auto started = call(ctx, "POST", rollouts_path(args.service), {"id", "phase"}, &*body);
  if (!started) {
    return kExitFailure;
  }
  if (ctx.json) {
    ctx.out << to_json_text(*started) << "\n";
  } else {
    ctx.out << rollout_line(*started) << "\n";
  }
  ctx.out.flush();
  if (!args.watch) {
    return kExitOk;
  }
  return watch_rollout(ctx, args.service, text(*started, "id"), hooks);
}

}  // namespace rampart::cli
