#include "cli/observe_commands.hpp"

#include "cli/rollout_text.hpp"
#include "cli/times.hpp"

#include "common/duration.hpp"
#include "common/json_text.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <thread>

namespace rampart::cli {
namespace json = boost::json;
namespace {

using rollout_text::member;
using rollout_text::text;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

// Runs `body` with the hooks' seams, installing a SIGINT handler unless the hooks have one.
template <class Body>
int with_interrupts(const WatchHooks& hooks, Body&& body) {
  WatchHooks h = hooks;
  if (!h.sleep) {
    h.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
  if (h.interrupted) {
    return body(h);
  }
  g_interrupted = 0;
  h.interrupted = [] { return g_interrupted != 0; };
  auto* previous = std::signal(SIGINT, on_interrupt);
  const int code = body(h);
  std::signal(SIGINT, previous);
  return code;
}

void add_param(std::string& target, std::string_view name, std::string_view value) {
  if (value.empty()) {
    return;
  }
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += fmt::format("{}={}", name, encode_path_segment(value));
}

bool named(Context& ctx, std::string_view verb, std::string_view service) {
  if (!service.empty()) {
    return true;
  }
  fail(ctx, kExitUsage, fmt::format("{}: the service name is empty; name a service", verb));
  return false;
}

// "5xx" or a status such as "503".
bool status_filter_shape(std::string_view s) {
  if (s.size() != 3 || s[0] < '1' || s[0] > '5') {
    return false;
  }
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return s.substr(1) == "xx" || (digit(s[1]) && digit(s[2]));
}

std::string latency_text(const json::value& us) {
  if (!us.is_int64() && !us.is_uint64()) {
    return "-";
  }
  const double ms = static_cast<double>(us.to_number<int64_t>()) / 1000.0;
  return ms < 1000 ? fmt::format("{:.2f}ms", ms) : fmt::format("{:.2f}s", ms / 1000);
}

std::string or_dash(const json::value& v) { return v.is_string() ? text(v) : "-"; }

void print_dropped(Context& ctx, bool json_lines, const json::value& dropped) {
  const auto n = dropped.is_number() ? dropped.to_number<int64_t>() : 0;
  if (n > 0) {
    (json_lines ? ctx.err : ctx.out)
        << fmt::format("… dropped {} events (the tail fell behind)\n", n);
  }
}

// Ends the subscription now rather than at the server's idle timeout; a failure is no matter.
void end_tail(Context& ctx, const std::string& service, const std::string& cursor) {
  if (cursor.empty()) {
    return;
  }
  std::string target = service_path(service) + "/tail";
  add_param(target, "cursor", cursor);
  ApiRequest req{"DELETE", target, ""};
  (void)(ctx.transport ? ctx.transport(req)
                       : admin_request(ctx.settings.address, req.method, req.target, req.body,
                                       ctx.settings.token));
}

std::string tail_target(const TailArgs& args, const std::string& cursor, std::int64_t left,
                        bool wait) {
  std::string target = service_path(args.service) + "/tail";
  add_param(target, "version", args.version);
  add_param(target, "status", args.status);
  add_param(target, "cursor", cursor);
  add_param(target, "wait", wait ? format_duration(kTailWait) : "0s");
  add_param(target, "limit", std::to_string(std::clamp<std::int64_t>(left, 1, 1000)));
  return target;
}

int follow_tail(Context& ctx, const TailArgs& args, const WatchHooks& hooks) {
  const bool json_lines = args.json || ctx.json;
  const auto started = std::chrono::steady_clock::now();
  std::string cursor;
  std::int64_t printed = 0;
  int code = kExitOk;
  for (bool first = true;; first = false) {
    const std::int64_t left = args.limit ? *args.limit - printed : 1000;
    const bool timed_out =
        args.timeout && std::chrono::steady_clock::now() - started >= *args.timeout;
    if (!first && (left <= 0 || timed_out || hooks.interrupted())) {
      break;
    }
    auto answer = call(ctx, "GET", tail_target(args, cursor, left, left > 0),
                       {"events", "cursor", "dropped"});
    if (!answer) {
      code = kExitFailure;
      break;
    }
    cursor = text(*answer, "cursor");
    print_dropped(ctx, json_lines, member(*answer, "dropped"));
    const auto& events = member(*answer, "events");
    const std::size_t n = events.is_array() ? events.as_array().size() : 0;
    for (std::size_t i = 0; i < n && printed < (args.limit ? *args.limit : INT64_MAX); ++i) {
      const auto& e = events.as_array()[i];
      ctx.out << (json_lines ? to_json_text(e) : tail_line(e)) << "\n";
      ++printed;
    }
    ctx.out.flush();
    if (n == 0 && member(*answer, "waited") == json::value(false)) {
      hooks.sleep(kTailBusyPause);
    }
  }
  end_tail(ctx, args.service, cursor);
  return code;
}

std::string logs_target(const LogsArgs& args, std::int64_t since_ms, const std::string& cursor) {
  std::string target = service_path(args.service) + "/logs";
  add_param(target, "version", args.version);
  if (since_ms > 0) {
    add_param(target, "since", std::to_string(since_ms));
  }
  add_param(target, "grep", args.grep);
  if (args.limit) {
    add_param(target, "limit", std::to_string(*args.limit));
  }
  add_param(target, "cursor", cursor);
  return target;
}

int follow_logs(Context& ctx, const LogsArgs& args, std::int64_t since_ms,
                const WatchHooks& hooks) {
  std::string cursor;
  for (bool first = true;; first = false) {
    if (!first) {
      hooks.sleep(kLogsFollowInterval);
      if (hooks.interrupted()) {
        return kExitOk;
      }
    }
    auto answer = call(ctx, "GET", logs_target(args, since_ms, cursor), {"lines", "cursor"});
    if (!answer) {
      return kExitFailure;
    }
    cursor = text(*answer, "cursor");
    const auto& lines = member(*answer, "lines");
    if (lines.is_array()) {
      for (const auto& l : lines.as_array()) {
        ctx.out << (ctx.json ? to_json_text(l) : log_line(l)) << "\n";
      }
    }
    ctx.out.flush();
    if (!args.follow) {
      return kExitOk;
    }
  }
}

}  // namespace

std::string tail_line(const json::value& e) {
  const auto& status = member(e, "status");
  return fmt::format("{:<24}  {:<10}  {:<7} {:<32}  {:>3}  {:>9}  {:<21}  {}", text(e, "time"),
                     text(e, "version"), text(e, "method"), text(e, "path"),
                     status.is_number() ? std::to_string(status.to_number<int64_t>()) : "-",
                     latency_text(member(e, "latency_us")), or_dash(member(e, "upstream")),
                     or_dash(member(e, "failure")));
}

std::string log_line(const json::value& l) {
  return fmt::format("{} {} {}", text(l, "time"), text(l, "instance"), text(l, "text"));
}

int run_tail(Context& ctx, const TailArgs& args, const WatchHooks& hooks) {
  if (!named(ctx, "tail", args.service)) {
    return kExitUsage;
  }
  if (!args.status.empty() && !status_filter_shape(args.status)) {
    return fail(ctx, kExitUsage,
                fmt::format("tail: --status \"{}\" is not a status filter; give a class (2xx, "
                            "4xx, 5xx) or a status (503)",
                            args.status));
  }
  return with_interrupts(hooks, [&](const WatchHooks& h) { return follow_tail(ctx, args, h); });
}

int run_logs(Context& ctx, const LogsArgs& args, const WatchHooks& hooks) {
  if (!named(ctx, "logs", args.service)) {
    return kExitUsage;
  }
  std::int64_t since_ms = 0;
  if (!args.since.empty()) {
    auto since = parse_since(args.since, ctx.now_ms ? ctx.now_ms() : now_unix_ms());
    if (!since) {
      return fail(ctx, kExitUsage, "logs: --since: " + since.error().message);
    }
    since_ms = *since;
  }
  return with_interrupts(hooks,
                         [&](const WatchHooks& h) { return follow_logs(ctx, args, since_ms, h); });
}

namespace {

Verb tail_verb(CLI::App& app, ClientOptions& client) {
  struct State {
    TailArgs args;
    std::string format = "pretty";
    std::string timeout;
    IntegerOption limit;
  };
  auto state = std::make_shared<State>();
  auto* verb = app.add_subcommand("tail", "Stream a service's requests live, as they are served");
  verb->add_option("service", state->args.service, "The service")->required();
  verb->add_option("--version", state->args.version, "Only the requests of this version");
  verb->add_option("--status", state->args.status, "Only these statuses: 5xx, 4xx, 503, ...");
  verb->add_option("--format", state->format, "pretty (aligned lines) or json (one per line)")
      ->check(CLI::IsMember({"pretty", "json"}));
  add_integer(verb, state->limit, "--limit", "End after N events (0: only check the service)", 0,
              1000000);
  verb->add_option("--timeout", state->timeout, "End after this long (30s, 5m)");
  add_client_flags(verb, client);
  return {verb, [state, verb](Context& ctx) {
            auto limit = given(state->limit);
            if (!limit) {
              return usage_error(ctx.err, *verb, limit.error().message);
            }
            TailArgs args = state->args;
            args.limit = *limit;
            args.json = state->format == "json";
            if (!state->timeout.empty()) {
              auto d = parse_duration(state->timeout);
              if (!d) {
                return usage_error(ctx.err, *verb, "--timeout: " + d.error().message);
              }
              args.timeout = *d;
            }
            return run_tail(ctx, args);
          }};
}

Verb logs_verb(CLI::App& app, ClientOptions& client) {
  struct State {
    LogsArgs args;
    IntegerOption limit;
  };
  auto state = std::make_shared<State>();
  auto* verb = app.add_subcommand("logs", "Print the log lines of a service's instances");
  verb->add_option("service", state->args.service, "The service")->required();
  verb->add_option("--version", state->args.version, "Only the instances of this version");
  verb->add_flag("--follow,-f", state->args.follow, "Keep printing new lines until Ctrl-C");
  verb->add_option("--since", state->args.since,
                   "Lines at or after T: a duration ago (10m, 2h), an RFC 3339 time or unix ms");
  verb->add_option("--grep", state->args.grep, "Only lines matching this regular expression");
  add_integer(verb, state->limit, "--limit", "The last N lines (1 to 10000; default 1000)", 1,
              10000);
  add_client_flags(verb, client);
  return {verb, [state, verb](Context& ctx) {
            auto limit = given(state->limit);
            if (!limit) {
              return usage_error(ctx.err, *verb, limit.error().message);
            }
            LogsArgs args = state->args;
            args.limit = *limit;
            return run_logs(ctx, args);
          }};
}

}  // namespace

std::vector<Verb> register_observe_verbs(CLI::App& app, ClientOptions& client) {
  return {tail_verb(app, client), logs_verb(app, client)};
}

}  // namespace rampart::cli
