#include "cli/rollout_commands.hpp"

#include "cli/progress_view.hpp"
#include "cli/rollout_text.hpp"
#include "cli/times.hpp"

#include "common/duration.hpp"
#include "common/json_text.hpp"
#include "rollout/strategy.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <limits>
#include <thread>

namespace rampart::cli {
namespace json = boost::json;
namespace {

using namespace rollout_text;  // NOLINT(google-build-using-namespace): the readers

// A markdown table cell: no line breaks, '|' escaped.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// --- calls ---------------------------------------------------------------------------------

std::string rollouts_path(std::string_view service) { return service_path(service) + "/rollouts"; }

std::string rollout_path(std::string_view service, std::string_view id) {
  return rollouts_path(service) + "/" + std::string(id);
}

void print_json(Context& ctx, const json::value& v) { ctx.out << to_json_text(v) << "\n"; }

bool named(Context& ctx, std::string_view verb, std::string_view service) {
  if (!service.empty()) {
    return true;
  }
  fail(ctx, kExitUsage, fmt::format("{}: the service name is empty; name a service", verb));
  return false;
}

// The service's latest rollout; nullopt, and nothing printed, when the API does not answer one
// (no rollout yet, an older server, no server).
std::optional<json::value> latest_rollout(Context& ctx, std::string_view service) {
  ApiRequest req{"GET", rollouts_path(service) + "/latest", ""};
  Result<HttpResult> answer = ctx.transport
                                  ? ctx.transport(req)
                                  : admin_request(ctx.settings.address, req.method, req.target,
                                                  req.body, ctx.settings.token);
  if (!answer || answer->status != 200) {
    return std::nullopt;
  }
  auto r = parse_json(answer->body);
  if (!r || !r->is_object()) {
    return std::nullopt;
  }
  return std::move(*r);
}

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sigint(int) { g_interrupted = 1; }

bool interrupted(const WatchHooks& hooks) {
  return hooks.interrupted ? hooks.interrupted() : g_interrupted != 0;
}

int on_interrupt(Context& ctx, const std::string& service, const std::string& id) {
  ctx.err << fmt::format(
      "rampart: interrupted; rollout {} of {} goes on; follow it with `rampart status {} "
      "--watch`\n",
      id, service, service);
  return kExitInterrupted;
}

void pause_between_polls(const WatchHooks& hooks) {
  if (hooks.sleep) {
    hooks.sleep(kWatchInterval);
  } else {
    std::this_thread::sleep_for(kWatchInterval);
  }
}

// The exit code of a final rollout, its outcome printed.
int outcome(Context& ctx, const std::string& service, const std::string& id,
            const json::value& rollout) {
  if (ctx.json) {
    print_json(ctx, rollout);
  }
  if (text(rollout, "phase") == "promoted") {
    if (!ctx.json) {
      ctx.out << fmt::format("{}: rollout {} promoted: {} serves 100%\n", service, id,
                             text(rollout, "version"));
    }
    return kExitOk;
  }
  ctx.err << fmt::format("rampart: {}: rollout {} rolled back: {}\n", service, id,
                         text(rollout, "reason"));
  return kExitFailure;
}

// One poll of a followed rollout: the rollout and its events (errors printed by call()).
struct Polled {
  json::value rollout;
  json::value events;
};

std::optional<Polled> poll(Context& ctx, const std::string& service, const std::string& id) {
  auto rollout = call(ctx, "GET", rollout_path(service, id), {"id", "phase"});
  if (!rollout) {
    return std::nullopt;
  }
  auto events = call(ctx, "GET", rollout_path(service, id) + "/events", {"events"});
  if (!events) {
    return std::nullopt;
  }
  return Polled{std::move(*rollout), std::move(*events)};
}

// Follows rollout `id` of `service` until it is final or the user interrupts: one line per
// event (with --json, the event objects), then the outcome.
int follow_lines(Context& ctx, const std::string& service, const std::string& id,
                 const WatchHooks& hooks) {
  std::int64_t printed = 0;  // the seq of the last event printed
  for (;;) {
    if (interrupted(hooks)) {
      return on_interrupt(ctx, service, id);
    }
    auto polled = poll(ctx, service, id);
    if (!polled) {
      return kExitFailure;
    }
    for (const auto& e : array_of(polled->events, "events")) {
      const auto* seq = member(e, "seq").if_int64();
      if (seq == nullptr || *seq <= printed) {
        continue;
      }
      printed = *seq;
      if (ctx.json) {
        print_json(ctx, e);
      } else {
        ctx.out << event_line(e) << "\n";
      }
      ctx.out.flush();
    }
    if (is_final(text(polled->rollout, "phase"))) {
      return outcome(ctx, service, id, polled->rollout);
    }
    pause_between_polls(hooks);
  }
}

int terminal_width() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  return 80;
}

// The view's lines drawn over the previous drawing: up to its first line, each line cleared
// and written, then everything below cleared (the new view may be shorter).
class Redrawer {
 public:
  explicit Redrawer(std::ostream& out) : out_(out) { out_ << "\x1b[?25l"; }  // no cursor
  Redrawer(const Redrawer&) = delete;
  Redrawer& operator=(const Redrawer&) = delete;
  ~Redrawer() { out_ << "\x1b[?25h" << std::flush; }  // the cursor back, however it ends

  void draw(std::string_view view) {
    if (lines_ > 0) {
      out_ << "\x1b[" << lines_ << "A\r";
    }
    lines_ = 0;
    while (!view.empty()) {
      const auto nl = view.find('\n');
      out_ << "\x1b[2K" << view.substr(0, nl) << "\n";
      ++lines_;
      view = nl == std::string_view::npos ? std::string_view{} : view.substr(nl + 1);
    }
    out_ << "\x1b[J" << std::flush;
  }

 private:
  std::ostream& out_;
  std::size_t lines_ = 0;
};

// As follow_lines, redrawing the live progress view on each poll instead.
int follow_live(Context& ctx, const std::string& service, const std::string& id,
                const WatchHooks& hooks) {
  Redrawer screen(ctx.out);
  json::value before = nullptr;  // the service's metrics at the last poll
  std::int64_t before_ms = 0;
  for (;;) {
    if (interrupted(hooks)) {
      return on_interrupt(ctx, service, id);
    }
    auto polled = poll(ctx, service, id);
    if (!polled) {
      return kExitFailure;
    }
    auto detail = call(ctx, "GET", service_path(service), {"name"});
    if (!detail) {
      return kExitFailure;
    }
    const std::int64_t now = ctx.now_ms ? ctx.now_ms() : now_unix_ms();
    const json::value& metrics = member(*detail, "metrics");
    const json::value live = live_metrics(before, metrics, now - before_ms);
    before = metrics;
    before_ms = now;
    screen.draw(progress_view(polled->rollout, member(polled->events, "events"), live, now,
                              hooks.width ? hooks.width() : terminal_width()));
    if (is_final(text(polled->rollout, "phase"))) {
      return outcome(ctx, service, id, polled->rollout);
    }
    pause_between_polls(hooks);
  }
}

int follow(Context& ctx, const std::string& service, const std::string& id,
           const WatchHooks& hooks) {
  const bool live = hooks.live.value_or(!ctx.json && isatty(STDOUT_FILENO) != 0);
  return live ? follow_live(ctx, service, id, hooks) : follow_lines(ctx, service, id, hooks);
}

// The sequential judge's evidence for a check, after its thresholds: "; e-value 140 of 100
// (30 and 90 events)" or "; interval [0.02, 0.05] (30 events)"; empty for the threshold judge.
std::string evidence_text(const json::value& c) {
  if (!member(c, "e_value").is_null()) {
    return fmt::format("; e-value {} of {} ({} and {} events)", value_text(member(c, "e_value")),
                       value_text(member(c, "e_threshold")), text(c, "canary_events"),
                       text(c, "stable_events"));
  }
  const auto& interval = member(c, "interval");
  if (interval.is_array() && interval.as_array().size() == 2) {
    return fmt::format("; interval [{}, {}] ({} events)", value_text(interval.as_array()[0]),
                       value_text(interval.as_array()[1]), text(c, "canary_events"));
  }
  return "";
}

}  // namespace

std::string rollout_line(const json::value& r) {
  const std::string phase = text(r, "phase");
  std::string where = phase;
  if (phase == "progressing" || phase == "paused") {
    where += " at " + step_of_total(r);
  }
  std::string line =
      fmt::format("{}: rollout {}, {} from {} ({}): {}, {} at {}", text(r, "service"),
                  text(r, "id"), text(r, "version"), text(r, "stable"), text(r, "plan"), where,
                  text(r, "version"), percent_text(member(r, "weight")));
  const std::string reason = text(r, "reason");
  if (reason != "-" && !reason.empty()) {
    line += ": " + reason;
  }
  return line;
}

std::string event_line(const json::value& e) {
  return fmt::format("{}  {:<11}  step {}  {:>4}  {}", text(e, "at"), text(e, "event"),
                     text(e, "step"), percent_text(member(e, "weight")), text(e, "reason"));
}

std::string report_markdown(const json::value& r, const json::value& events) {
  std::string out =
      fmt::format("# Deployment report: {}, rollout {}\n\n", text(r, "service"), text(r, "id"));
  const auto& analysis = member(r, "analysis");
  std::string outcome = text(r, "phase");
  if (outcome == "progressing" || outcome == "paused") {
    outcome += fmt::format(" at {}, {}", step_of_total(r), percent_text(member(r, "weight")));
  }
  out += "| | |\n|---|---|\n";
  out += fmt::format("| Version | {} (from {}) |\n", cell(text(r, "version")),
                     cell(text(r, "stable")));
  out += fmt::format("| Strategy | {}: {} |\n", cell(text(r, "strategy")), cell(text(r, "plan")));
  out += fmt::format("| Analysis | {} |\n", cell(analysis_text(r)));
  for (const auto& check : array_of(analysis, "checks")) {
    out += fmt::format("| Check {} | {} |\n", cell(text(check, "metric")), cell(thresholds(check)));
  }
  out +=
      fmt::format("| Started | {} by {} |\n", cell(text(r, "created_at")), cell(text(r, "author")));
  const std::string message = text(r, "message");
  if (message != "-" && !message.empty()) {
    out += fmt::format("| Message | {} |\n", cell(message));
  }
  out += fmt::format("| Outcome | {}: {} |\n", cell(outcome), cell(text(r, "reason")));

  out += "\n## Timeline\n\n| Time | Event | Step | Weight | Reason |\n";
  out += "|------|-------|------|--------|--------|\n";
  bool windows = false;
  for (const auto& e : events.is_array() ? events.as_array() : json::array{}) {
    windows = windows || member(e, "judgement").is_object();
    out += fmt::format("| {} | {} | {} | {} | {} |\n", cell(text(e, "at")), cell(text(e, "event")),
                       text(e, "step"), percent_text(member(e, "weight")), cell(text(e, "reason")));
  }
  if (!windows) {
    return out;
  }
  out += "\n## Analysis windows\n";
  for (const auto& e : events.as_array()) {
    const auto& j = member(e, "judgement");
    if (!j.is_object()) {
      continue;
    }
    out += fmt::format("\n### {}, step {}: {}\n\n{}\n\n", text(e, "at"), text(e, "step"),
                       text(j, "decision"), text(j, "reason"));
    out += "| Check | Verdict | Canary | Stable | Requests (canary / stable) | Thresholds |\n";
    out += "|-------|---------|--------|--------|----------------------------|------------|\n";
    for (const auto& c : array_of(j, "checks")) {
      std::string limits = thresholds_of(r, text(c, "metric"));
      const std::string bound = text(c, "bound");
      if (bound != "-" && !bound.empty()) {
        const std::string verdict = text(c, "verdict");
        const bool past = verdict == "fail" || verdict == "critical";
        limits += (past ? " (past " : " (undecided against ") + bound + ")";
      }
      limits += evidence_text(c);
      out += fmt::format("| {} | {} | {} | {} | {} / {} | {} |\n", cell(text(c, "metric")),
                         cell(text(c, "verdict")), value_text(member(c, "canary")),
                         value_text(member(c, "stable")), text(c, "canary_requests"),
                         text(c, "stable_requests"), cell(limits));
    }
  }
  return out;
}

std::string active_rollout_text(Context& ctx, std::string_view service) {
  auto r = latest_rollout(ctx, service);
  if (!r || is_final(text(*r, "phase"))) {
    return "";
  }
  std::string out = fmt::format("\nrollout {}: {} from {}, {}\n", text(*r, "id"),
                                text(*r, "version"), text(*r, "stable"), text(*r, "plan"));
  const std::string phase = text(*r, "phase");
  out += fmt::format("  phase:  {}{}\n", phase,
                     phase == "pending" ? "" : fmt::format(" at {}", step_of_total(*r)));
  out +=
      fmt::format("  weight: {} at {}\n", text(*r, "version"), percent_text(member(*r, "weight")));
  out += fmt::format("  reason: {}\n", text(*r, "reason"));
  return out;
}

int watch_rollout(Context& ctx, const std::string& service, const std::string& id,
                  const WatchHooks& hooks) {
  if (hooks.interrupted) {
    return follow(ctx, service, id, hooks);
  }
  g_interrupted = 0;
  auto* previous = std::signal(SIGINT, on_sigint);
  const int code = follow(ctx, service, id, hooks);
  std::signal(SIGINT, previous);
  return code;
}

int watch_active_rollout(Context& ctx, const std::string& service, const WatchHooks& hooks) {
  auto latest = latest_rollout(ctx, service);
  if (!latest || is_final(text(*latest, "phase"))) {
    return kExitOk;
  }
  return watch_rollout(ctx, service, text(*latest, "id"), hooks);
}

int run_rollout_command(Context& ctx, const RolloutCommandArgs& args) {
  const std::string verb = args.command == "promote-full" ? "promote" : args.command;
  if (!named(ctx, verb, args.service)) {
    return kExitUsage;
  }
  auto answer =
      call(ctx, "POST", service_path(args.service) + "/rollout/" + args.command, {"id", "phase"});
  if (!answer) {
    return kExitFailure;
  }
  if (ctx.json) {
    print_json(ctx, *answer);
  } else {
    ctx.out << rollout_line(*answer) << "\n";
  }
  return kExitOk;
}

int run_report(Context& ctx, const ReportArgs& args) {
  if (!named(ctx, "report", args.service)) {
    return kExitUsage;
  }
  const std::string id = args.rollout ? std::to_string(*args.rollout) : "latest";
  auto rollout = call(ctx, "GET", rollout_path(args.service, id), {"id", "phase"});
  if (!rollout) {
    return kExitFailure;
  }
  auto events =
      call(ctx, "GET", rollout_path(args.service, text(*rollout, "id")) + "/events", {"events"});
  if (!events) {
    return kExitFailure;
  }
  if (ctx.json) {
    print_json(ctx, json::object{{"rollout", *rollout}, {"events", member(*events, "events")}});
  } else {
    ctx.out << report_markdown(*rollout, member(*events, "events"));
  }
  return kExitOk;
}

RolloutVerbs::RolloutVerbs(CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags) {
  deploy_ = app.add_subcommand(
      "deploy", "Roll a version out step by step (a rollout), gated on the analysis");
  deploy_->add_option("SERVICE", deploy_args_.service, "The service")->required();
  deploy_->add_option("--version", deploy_args_.version, "The version to roll out (declared)")
      ->required();
  deploy_->add_option("--strategy", deploy_args_.strategy,
                      "canary, canaryP-D, linearP-D, exponential[-D], all-at-once or blue-green "
                      "(default: the service's policy)");
  deploy_->add_option("--steps", deploy_args_.steps,
                      "Explicit steps in percent, e.g. 10,50,100 (each but the last paused "
                      "--pause, default 5m)");
  deploy_->add_option("--pause", deploy_args_.pause, "Each step's pause, with --steps: 30s, 5m");
  deploy_->add_option("--interval", deploy_args_.interval, "The analysis window: 30s, 1m");
  deploy_->add_flag("--replace", deploy_args_.replace, "Abort the service's active rollout first");
  deploy_->add_flag("--force", deploy_args_.force,
                    "Deploy even on a day the service's deploy windows deny (audited)");
  deploy_->add_option("-m,--message", deploy_args_.message, "Why: kept with the rollout");
  deploy_->add_option("--upstream", deploy_args_.upstreams,
                      "The new version's upstream, http://host:port (repeat for more): the "
                      "deploy declares the version");
  deploy_->add_option("COMMAND", deploy_args_.command,
                      "After --: the command rampart runs for the new version, e.g. -- ./server "
                      "--port {port} ({port} and $PORT: each instance's port)");
  deploy_
      ->add_option("--instances", deploy_args_.instances,
                   "With a command: how many instances (default 1)")
      ->check(CLI::Range(1, 64));
  deploy_->add_option("--workdir", deploy_args_.workdir,
                      "With a command: its working directory (default: this one)");
  deploy_->add_option("--env", deploy_args_.env,
                      "With a command: NAME=VALUE for its environment (repeat for more)");
  deploy_->add_option("--secret", deploy_args_.secrets,
                      "With a command: a secret it gets (repeat; default: every secret of the "
                      "service)");
  deploy_->add_option("--health", deploy_args_.health,
                      "With a command: the path its instances answer 2xx on (default /health)");
  deploy_->add_option("--grace", deploy_args_.grace,
                      "With a command: how long a stopping instance may take (default 10s)");
  deploy_->add_option("--require-env", deploy_args_.env_required,
                      "With a command: a variable it needs (from --env, a secret or the "
                      "server's environment); the deploy is refused without it (repeat)");
  deploy_->add_option("--optional-env", deploy_args_.env_optional,
                      "With a command: a variable it may use; missing, it is a warning in the "
                      "report (repeat)");
  deploy_->add_option("--env-format", deploy_args_.env_formats,
                      "With a command: NAME=REGEX, the whole value must match (repeat)");
  deploy_->add_flag("--skip-checks", deploy_args_.skip_checks,
                    "Do not run the service's pre commands (audited as rollout.start.unchecked)");
  deploy_->add_option("--pre-timeout", deploy_args_.pre_timeout,
                      "Each pre command's time limit; past it its process group is killed "
                      "(default 10m)");
  deploy_->add_flag("--dry-run", deploy_args_.dry_run,
                    "Run every gate and print the plan; change nothing (exit 1 if a gate fails)");
  watch_option_ = deploy_->add_flag(
      "--watch,!--no-watch", watch_flag_,
      "Follow the rollout until it is promoted (exit 0) or rolled back (exit 1): a live view "
      "on a terminal, one line per event otherwise (default: when stdout is a terminal)");
  add_client_flags(deploy_);

  for (auto [name, help] : {
           std::pair{"promote", "Move the service's rollout to its next step (--full: to 100%)"},
           {"pause", "Pause the service's rollout at its step"},
           {"resume", "Resume the service's paused rollout"},
           {"abort", "Abort the service's rollout: all traffic back to the stable version"},
           {"retry", "Start the service's rolled-back rollout again from its first step"},
           {"undo", "Back to the stable version at once, without analysis (also after promotion)"},
       }) {
    auto* verb = app.add_subcommand(name, help);
    verb->add_option("SERVICE", service_, "The service")->required();
    if (std::string_view(name) == "promote") {
      verb->add_flag("--full", promote_full_, "Promote to 100% at once, skipping the steps left");
    }
    add_client_flags(verb);
    commands_.push_back({verb, name});
  }

  report_ = app.add_subcommand(
      "report", "A rollout's timeline as markdown: the plan, every event and every window");
  report_->add_option("SERVICE", service_, "The service")->required();
  report_id_option_ =
      report_->add_option("ROLLOUT", report_id_, "The rollout's id (default: the latest)");
  add_client_flags(report_);
}

std::optional<int> RolloutVerbs::run(Context& ctx) {
  if (deploy_->parsed()) {
    DeployArgs args = deploy_args_;
    args.watch =
        !args.dry_run && (watch_option_->count() > 0 ? watch_flag_ : isatty(STDOUT_FILENO) != 0);
    return run_deploy(ctx, args);
  }
  for (const auto& c : commands_) {
    if (c.verb->parsed()) {
      const bool full = c.command == "promote" && promote_full_;
      return run_rollout_command(ctx, {service_, full ? "promote-full" : c.command});
    }
  }
  if (report_->parsed()) {
    ReportArgs args{service_, std::nullopt};
    if (report_id_option_->count() > 0) {
      auto id =
          parse_integer_option("ROLLOUT", report_id_, 1, std::numeric_limits<std::int64_t>::max());
      if (!id) {
        return fail(ctx, kExitUsage, "report: " + id.error().message);
      }
      args.rollout = *id;
    }
    return run_report(ctx, args);
  }
  return std::nullopt;
}

std::unique_ptr<RolloutVerbs> register_rollout_verbs(
    CLI::App& app, const std::function<void(CLI::App*)>& add_client_flags) {
  return std::make_unique<RolloutVerbs>(app, add_client_flags);
}

}  // namespace rampart::cli
