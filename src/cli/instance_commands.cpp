#include "cli/instance_commands.hpp"

#include "common/json_text.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <memory>
#include <thread>

namespace rampart::cli {

namespace json = boost::json;

namespace {

std::string text_at(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const json::value* m = o != nullptr ? o->if_contains(key) : nullptr;
  if (m == nullptr || m->is_null()) {
    return "";
  }
  return m->is_string() ? std::string(m->get_string()) : json::serialize(*m);
}

// Whether every version restarted (or `version` alone) runs again; `failed` gets the error of
// one that reports one.
bool settled(const json::value& answer, std::string_view version, std::string& failed) {
  bool done = true;
  for (const auto& v : answer.as_object().at("versions").as_array()) {
    if (!version.empty() && text_at(v, "version") != version) {
      continue;
    }
    const std::string phase = text_at(v, "phase");
    if (const std::string error = text_at(v, "error"); !error.empty()) {
      failed = text_at(v, "version") + ": " + error;
    }
    done = done && phase == "running";
  }
  return done;
}

}  // namespace

int run_restart(Context& ctx, const RestartArgs& args,
                const std::function<void(std::chrono::milliseconds)>& sleep) {
  if (args.service.empty()) {
    return fail(ctx, kExitUsage, "restart: name the service");
  }
  const std::string path = service_path(args.service);
  const std::string what =
      args.version.empty() ? args.service : fmt::format("{} {}", args.service, args.version);
  auto answer =
      call(ctx, "POST",
           path + "/restart" +
               (args.version.empty() ? "" : "?version=" + encode_path_segment(args.version)),
           {"service", "versions"});
  if (!answer) {
    return kExitFailure;
  }
  if (!args.wait) {
    ctx.out << (ctx.json ? to_json_text(*answer) + "\n"
                         : fmt::format("{}: restarting, instance by instance\n", what));
    return kExitOk;
  }
  const auto until = std::chrono::steady_clock::now() + kRestartWait;
  std::string failed;
  while (true) {
    (sleep ? sleep : [](auto d) { std::this_thread::sleep_for(d); })(kRestartPoll);
    answer = call(ctx, "GET", path + "/instances", {"service", "versions"});
    if (!answer) {
      return kExitFailure;
    }
    if (settled(*answer, args.version, failed) || std::chrono::steady_clock::now() > until) {
      break;
    }
  }
  if (ctx.json) {
    ctx.out << to_json_text(*answer) << "\n";
  } else if (failed.empty()) {
    ctx.out << fmt::format("{}: every instance replaced\n", what);
  }
  return failed.empty() ? kExitOk : fail(ctx, kExitFailure, "restart: " + failed);
}

std::vector<Verb> register_instance_verbs(CLI::App& app, ClientOptions& client) {
  auto args = std::make_shared<RestartArgs>();
  auto* restart = app.add_subcommand(
      "restart",
      "Replace every instance of a service's running versions (or one version's), one at a "
      "time");
  restart->add_option("SERVICE", args->service, "The service")->required();
  restart->add_option("--version", args->version,
                      "Only this version's instances (default: every version rampart runs)");
  restart->add_flag("--wait,!--no-wait", args->wait,
                    "Follow the restart until every version runs again (default)");
  add_client_flags(restart, client);
  return {{restart, [args](Context& ctx) { return run_restart(ctx, *args); }}};
}

}  // namespace rampart::cli
