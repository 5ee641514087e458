#include "admin/rollouts_api.hpp"

#include "admin/api.hpp"
#include "admin/run_version.hpp"
#include "common/duration.hpp"
#include "common/json_text.hpp"
#include "control/webhook_deliveries.hpp"
#include "model/codec.hpp"
#include "rollout/strategy.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstdint>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

using model::Role;
using Verb = bhttp::verb;

// As the other lists: at most this many items per call (`limit`).
constexpr std::size_t kDefaultListLimit = 1000;
constexpr std::size_t kMaxListLimit = 10000;
constexpr std::size_t kMaxUpstreamLength = 2048;
constexpr std::int64_t kMaxPreMs = 7LL * 24 * 3600 * 1000;  // a week: far past any time limit

// Basis points as the API's percent: 10, 2.5.
json::value percent(std::uint32_t basis_points) { return model::percent_json(basis_points); }

json::value time_or_null(std::int64_t unix_ms) {
  return unix_ms == 0 ? json::value(nullptr) : json::value(rfc3339(unix_ms));
}

json::value or_null(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::array steps_json(const std::vector<rollout::Step>& steps) {
  json::array a;
  for (const auto& s : steps) {
    a.push_back(json::object{
        {"weight", percent(s.weight_bp)},
        {"pause", s.until_promoted ? std::string("until-promoted") : format_duration(s.pause)}});
  }
  return a;
}

json::object analysis_json(const rollout::AnalysisPolicy& a) {
  const bool defaults = a.checks.empty();
  json::array checks;
  for (const auto& c : defaults ? rollout::default_checks() : a.checks) {
    checks.push_back(json::object{{"metric", rollout::to_string(c.metric)},
                                  {"max", or_null(c.max)},
                                  {"min", or_null(c.min)},
                                  {"critical", or_null(c.critical)},
                                  {"max_ratio_to_stable", or_null(c.max_ratio_to_stable)}});
  }
  return json::object{
      {"judge", rollout::to_string(a.judge)},
      {"alpha", a.alpha},
      {"min_requests", a.min_requests},
      {"failure_limit", a.failure_limit},
      {"inconclusive", a.inconclusive == rollout::Inconclusive::kPause ? "pause" : "extend"},
      {"require_evidence", a.require_evidence},
      {"max_step_duration", a.max_step_duration.count() > 0
                                ? json::value(format_duration(a.max_step_duration))
                                : json::value("off")},
      {"on_inconclusive", rollout::to_string(a.on_inconclusive)},
      {"default_checks", defaults},
      {"checks", std::move(checks)}};
}

// The new version's share now: its step's weight while the rollout runs, all once promoted,
// none before its first step and after a rollback.
std::uint32_t weight_now(const model::Rollout& r) {
  switch (r.progress.phase) {
    case rollout::Phase::kProgressing:
    case rollout::Phase::kPaused:
      return rollout::weight_at(r.plan, r.progress.step);
    case rollout::Phase::kVerifying:
    case rollout::Phase::kPromoted:
      return model::kTotalBasisPoints;
    case rollout::Phase::kPending:
    case rollout::Phase::kRolledBack:
      break;
  }
  return 0;
}

Error invalid(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

Result<std::optional<std::chrono::milliseconds>> duration_field(const json::object& body,
                                                                std::string_view key) {
  auto text = string_field(body, key);
  if (!text) {
    return text.error();
  }
  if (!*text) {
    return std::optional<std::chrono::milliseconds>{};
  }
  auto d = parse_duration(**text);
  if (!d) {
    return invalid(fmt::format("{}: {}", key, d.error().message));
  }
  return std::optional(*d);
}

// "steps": [10, 50, 100] -> "10,50,100", as steps_from_percents() reads them.
Result<std::optional<std::string>> percents_field(const json::object& body) {
  const auto* v = body.if_contains("steps");
  if (v == nullptr || v->is_null()) {
    return std::optional<std::string>{};
  }
  constexpr std::string_view kForm =
      "steps: must be an array of whole percents, e.g. [10, 50, 100]";
  if (!v->is_array()) {
    return invalid(std::string(kForm));
  }
  std::string text;
  for (const auto& p : v->as_array()) {
    if (!p.is_int64() && !p.is_uint64()) {
      return invalid(std::string(kForm));
    }
    if (!text.empty()) {
      text += ',';
    }
    text += json::serialize(p);
  }
  return std::optional(std::move(text));
}

// "upstreams": ["http://127.0.0.1:9002", ...]: at most kMaxUpstreams, each checked by start().
Result<std::vector<std::string>> upstreams_field(const json::object& body) {
  const auto* v = body.if_contains("upstreams");
  if (v == nullptr || v->is_null()) {
    return std::vector<std::string>{};
  }
  const auto* a = v->if_array();
  if (a == nullptr || a->empty() || a->size() > control::kMaxUpstreams) {
    return invalid(
        fmt::format("upstreams: must be an array of 1 to {} URLs, e.g. [\"http://127.0.0.1:9002\"]",
                    control::kMaxUpstreams));
  }
  std::vector<std::string> out;
  for (const auto& u : *a) {
    const auto* text = u.if_string();
    if (text == nullptr || text->size() > kMaxUpstreamLength) {
      return invalid(fmt::format("upstreams: each must be a URL string of at most {} bytes",
                                 kMaxUpstreamLength));
    }
    out.emplace_back(*text);
  }
  return out;
}

// "pre": [{"name": "tests", "passed": true, "ms": 1200}, ...]: what `rampart deploy` ran.
Result<std::vector<control::PreResult>> pre_field(const json::object& body) {
  const auto* v = body.if_contains("pre");
  if (v == nullptr || v->is_null()) {
    return std::vector<control::PreResult>{};
  }
  constexpr std::string_view kForm =
      "pre: must be an array of {\"name\": text, \"passed\": true|false, \"ms\": whole "
      "number}";
  const auto* a = v->if_array();
  if (a == nullptr || a->size() > control::kMaxPreResults) {
    return invalid(fmt::format("{}, at most {} of them", kForm, control::kMaxPreResults));
  }
  std::vector<control::PreResult> out;
  for (const auto& item : *a) {
    const auto* o = item.if_object();
    if (o == nullptr || !no_unknown_fields(*o, {"name", "passed", "ms"})) {
      return invalid(std::string(kForm));
    }
    auto name = string_field(*o, "name");
    auto passed = bool_field(*o, "passed");
    const auto* ms = o->if_contains("ms");
    if (!name || !*name || !passed || !*passed || ms == nullptr || !ms->is_int64() ||
        ms->as_int64() < 0 || ms->as_int64() > kMaxPreMs) {
      return invalid(std::string(kForm));
    }
    out.push_back({std::move(**name), **passed, ms->as_int64()});
  }
  return out;
}

Result<std::int64_t> rollout_id(std::string_view text) {
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || p != text.data() + text.size() || id < 1) {
    return make_error(Errc::kNotFound,
                      fmt::format("\"{}\" is not a rollout id; ids are 1, 2, 3, ...", text));
  }
  return id;
}

Result<std::size_t> list_limit(const Call& call) {
  auto it = call.query.find("limit");
  if (it == call.query.end()) {
    return kDefaultListLimit;
  }
  std::int64_t n = 0;
  const std::string& text = it->second;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || p != text.data() + text.size() || n < 0) {
    return invalid(fmt::format("limit: \"{}\" is not a non-negative integer", text));
  }
  if (n < 1 || n > static_cast<std::int64_t>(kMaxListLimit)) {
    return invalid(fmt::format("limit: {} is out of range; give 1 to {}", n, kMaxListLimit));
  }
  return static_cast<std::size_t>(n);
}

template <class T>
json::array api_array(const std::vector<T>& items, std::size_t limit = SIZE_MAX) {
  json::array a;
  for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
    a.emplace_back(api_json(items[i]));
  }
  return a;
}

Result<Reply> one(Result<model::Rollout> r, bhttp::status status = bhttp::status::ok) {
  if (!r) {
    return r.error();
  }
  return Reply{status, api_json(*r)};
}

// --- handlers: parse, call, map ----------------------------------------------------------

Result<Reply> start_rollout(const Call& call) {
  auto body = body_object(call.request);
  if (!body) {
    return body.error();
  }
  auto request = deploy_request(call.params[0], *body, call.actor);
  if (!request) {
    return request.error();
  }
  if (auto s = check_environment(call, *request); !s) {
    return s.error();
  }
  if (!request->dry_run) {
    return one(call.rollouts.start(*request), bhttp::status::created);
  }
  // A dry run creates nothing: 200 with the rollout it would create, marked as such.
  auto would_be = call.rollouts.start(*request);
  if (!would_be) {
    return would_be.error();
  }
  json::object o = api_json(*would_be);
  o["dry_run"] = true;
  return Reply{bhttp::status::ok, std::move(o)};
}

Result<Reply> list_rollouts(const Call& call) {
  auto limit = list_limit(call);
  if (!limit) {
    return limit.error();
  }
  auto list = call.rollouts.list(call.params[0]);
  if (!list) {
    return list.error();
  }
  return Reply{bhttp::status::ok, json::object{{"rollouts", api_array(*list, *limit)}}};
}

Result<Reply> latest_rollout(const Call& call) { return one(call.rollouts.latest(call.params[0])); }

Result<Reply> get_rollout(const Call& call) {
  auto id = rollout_id(call.params[1]);
  if (!id) {
    return id.error();
  }
  return one(call.rollouts.get(call.params[0], *id));
}

Result<Reply> rollout_events(const Call& call) {
  auto id = rollout_id(call.params[1]);
  if (!id) {
    return id.error();
  }
  auto events = call.rollouts.events(call.params[0], *id);
  if (!events) {
    return events.error();
  }
  return Reply{bhttp::status::ok, json::object{{"events", api_array(*events)}}};
}

Result<Reply> rollout_deliveries(const Call& call) {
  auto id = rollout_id(call.params[1]);
  if (!id) {
    return id.error();
  }
  if (auto r = call.rollouts.get(call.params[0], *id); !r) {
    return r.error();  // an unknown service or rollout is a 404, not an empty list
  }
  auto deliveries = control::list_deliveries(call.rollouts.store(), call.params[0], *id);
  if (!deliveries) {
    return deliveries.error();
  }
  json::array a;
  for (const auto& d : *deliveries) {
    a.emplace_back(control::api_json(d));
  }
  return Reply{bhttp::status::ok, json::object{{"deliveries", std::move(a)}}};
}

Result<Reply> rollout_command(const Call& call) {
  auto command = parse_command(call.params[1]);
  if (!command) {
    return make_error(Errc::kNotFound,
                      fmt::format("\"{}\" is not a rollout command; use promote, promote-full, "
                                  "pause, resume, abort, retry or undo",
                                  call.params[1]));
  }
  if (!call.request.body().empty()) {
    auto body = body_object(call.request);
    if (!body) {
      return body.error();
    }
    if (auto s = no_unknown_fields(*body, {}); !s) {
      return s.error();
    }
  }
  return one(call.rollouts.command(call.params[0], *command, call.actor));
}

constexpr std::array<Endpoint, 7> kRolloutEndpoints = {{
    {Verb::get, "services/{service}/rollouts", Role::kReadOnly, "limit", &list_rollouts},
    {Verb::post, "services/{service}/rollouts", Role::kDeployer, "", &start_rollout},
    {Verb::get, "services/{service}/rollouts/latest", Role::kReadOnly, "", &latest_rollout},
    {Verb::get, "services/{service}/rollouts/{id}", Role::kReadOnly, "", &get_rollout},
    {Verb::get, "services/{service}/rollouts/{id}/events", Role::kReadOnly, "", &rollout_events},
    {Verb::get, "services/{service}/rollouts/{id}/deliveries", Role::kReadOnly, "",
     &rollout_deliveries},
    {Verb::post, "services/{service}/rollout/{command}", Role::kDeployer, "", &rollout_command},
}};

}  // namespace

std::span<const Endpoint> rollout_endpoints() { return kRolloutEndpoints; }

json::object api_json(const model::Rollout& r) {
  const auto& plan = r.plan;
  const auto& progress = r.progress;
  const bool blue_green = plan.strategy.kind == rollout::StrategyKind::kBlueGreen;
  return json::object{
      {"service", r.service},
      {"id", r.id},
      {"version", plan.version},
      {"stable", plan.stable},
      {"strategy", blue_green ? "blue-green" : "canary"},
      {"steps", steps_json(plan.strategy.steps)},
      {"plan", rollout::describe(plan.strategy.steps)},
      {"interval", format_duration(plan.interval)},
      {"analysis", analysis_json(plan.analysis)},
      {"phase", rollout::to_string(progress.phase)},
      {"step", progress.step + 1},
      {"weight", percent(weight_now(r))},
      {"step_started_at", time_or_null(progress.step_started_ms)},
      {"paused_at", progress.phase == rollout::Phase::kPaused ? time_or_null(progress.paused_at_ms)
                                                              : json::value(nullptr)},
      {"failed_windows", progress.judge.failed_windows},
      {"verify_after", plan.verify_after},
      {"rollback_window", format_duration(plan.rollback_window)},
      {"stable_ready_until",
       progress.phase == rollout::Phase::kPromoted && plan.rollback_window.count() > 0
           ? time_or_null(progress.ready_until_ms)
           : json::value(nullptr)},
      {"reason", progress.reason},
      {"author", r.author},
      {"message", r.message},
      {"created_at", rfc3339(r.created_at)},
      {"updated_at", rfc3339(r.updated_at)},
      {"events", r.events}};
}

json::object api_json(const model::RolloutEvent& e) {
  return json::object{
      {"service", e.service},
      {"rollout", e.rollout},
      {"seq", e.seq},
      {"at", rfc3339(e.at)},
      {"event", e.event},
      {"phase", rollout::to_string(e.phase)},
      {"step", e.step + 1},
      {"weight", e.weight_bp ? percent(*e.weight_bp) : json::value(nullptr)},
      {"deployment", e.deployment ? json::value(*e.deployment) : json::value(nullptr)},
      {"actor", e.actor},
      {"reason", e.reason},
      {"judgement", e.judgement}};
}

Result<control::DeployRequest> deploy_request(std::string_view service, const json::object& body,
                                              std::string actor) {
  if (auto s = no_unknown_fields(
          body, {"version", "strategy", "steps", "pause", "interval", "replace", "force", "message",
                 "skip_checks", "dry_run", "pre", "upstreams", "run", "health_path"});
      !s) {
    return s.error();
  }
  control::DeployRequest req;
  req.service = std::string(service);
  req.actor = std::move(actor);
  auto version = string_field(body, "version");
  if (!version) {
    return version.error();
  }
  if (!*version) {
    return invalid("version: missing; name the version to roll out, declared already");
  }
  req.version = **version;
  auto strategy = string_field(body, "strategy");
  if (!strategy) {
    return strategy.error();
  }
  req.strategy = *strategy;
  auto percents = percents_field(body);
  if (!percents) {
    return percents.error();
  }
  auto pause = duration_field(body, "pause");
  if (!pause) {
    return pause.error();
  }
  if (*pause && !*percents) {
    return invalid("pause: goes with steps, e.g. {\"steps\": [10, 50, 100], \"pause\": \"5m\"}");
  }
  if (*percents) {
    // Without a pause each step but the last waits 5m, as the canary strategy's steps do.
    auto steps = rollout::steps_from_percents(**percents, pause->value_or(std::chrono::minutes(5)));
    if (!steps) {
      // Its messages name the CLI's --steps; the API's field is "steps".
      const std::string& message = steps.error().message;
      const auto colon = message.find(": ");
      std::string text = "steps";
      text += colon == std::string::npos ? ": " : "";
      text.append(message, colon == std::string::npos ? 0 : colon);
      return invalid(std::move(text));
    }
    req.steps = std::move(*steps);
  }
  auto interval = duration_field(body, "interval");
  if (!interval) {
    return interval.error();
  }
  req.interval = *interval;
  auto replace = bool_field(body, "replace");
  if (!replace) {
    return replace.error();
  }
  req.replace = replace->value_or(false);
  auto force = bool_field(body, "force");
  if (!force) {
    return force.error();
  }
  req.force = force->value_or(false);
  auto message = string_field(body, "message");
  if (!message) {
    return message.error();
  }
  req.message = message->value_or("");
  for (auto [key, flag] : {std::pair{"skip_checks", &req.skip_checks}, {"dry_run", &req.dry_run}}) {
    auto v = bool_field(body, key);
    if (!v) {
      return v.error();
    }
    *flag = v->value_or(false);
  }
  auto upstreams = upstreams_field(body);
  if (!upstreams) {
    return upstreams.error();
  }
  req.upstreams = std::move(*upstreams);
  auto run = run_field(body);
  if (!run) {
    return run.error();
  }
  req.run = std::move(*run);
  auto health = string_field(body, "health_path");
  if (!health) {
    return health.error();
  }
  req.health_path = health->value_or(std::string(model::kDefaultHealthPath));
  auto pre = pre_field(body);
  if (!pre) {
    return pre.error();
  }
  req.pre = std::move(*pre);
  return req;
}

std::optional<rollout::Command> parse_command(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, rollout::Command>, 7> kCommands = {{
      {"promote", rollout::Command::kPromote},
      {"promote-full", rollout::Command::kPromoteFull},
      {"pause", rollout::Command::kPause},
      {"resume", rollout::Command::kResume},
      {"abort", rollout::Command::kAbort},
      {"retry", rollout::Command::kRetry},
      {"undo", rollout::Command::kUndo},
  }};
  for (const auto& [n, command] : kCommands) {
    if (n == name) {
      return command;
    }
  }
  return std::nullopt;
}

}  // namespace rampart::admin
