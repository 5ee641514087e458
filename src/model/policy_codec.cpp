#include "model/policy_codec.hpp"

#include "model/fields.hpp"

#include <array>

namespace rampart::model {

namespace {

namespace json = boost::json;
namespace ro = rollout;
using detail::Fields;
using std::chrono::milliseconds;

constexpr std::int64_t kMaxMs = 365LL * 24 * 3600 * 1000;
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

json::value or_null(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object check_json(const ro::Check& c) {
  return json::object{{"metric", ro::to_string(c.metric)},
                      {"max", or_null(c.max)},
                      {"min", or_null(c.min)},
                      {"critical", or_null(c.critical)},
                      {"max_ratio_to_stable", or_null(c.max_ratio_to_stable)}};
}

json::object checks_json(const ro::Policy& p) {
  json::array pre;
  for (const auto& c : p.pre) {
    pre.push_back(json::object{{"name", c.name}, {"run", c.run}});
  }
  json::array verify;
  for (const auto& v : p.verify) {
    verify.push_back(json::object{
        {"path", v.path},
        {"status", v.status},
        {"max_ms", v.max_latency ? json::value(v.max_latency->count()) : json::value(nullptr)}});
  }
  return json::object{{"pre", std::move(pre)},
                      {"health", json::object{{"path", p.health.path},
                                              {"tries", p.health.tries},
                                              {"backoff_ms", p.health.backoff.count()}}},
                      {"verify", std::move(verify)},
                      {"verify_tries", p.verify_tries}};
}

// Each `read_*` reads one nested object through a Fields of its own and hands its first
// problem to `parent`.
ro::Check read_check(Fields& parent, const json::object& o, const std::string& kind) {
  Fields f(o, kind);
  ro::Check c;
  const std::string metric = f.string("metric");
  if (auto m = ro::parse_metric(metric)) {
    c.metric = *m;
  } else if (!f.error()) {
    f.fail("metric", "is \"" + metric + "\", which is no metric rampart measures");
  }
  c.max = f.optional_number("max");
  c.min = f.optional_number("min");
  c.critical = f.optional_number("critical");
  c.max_ratio_to_stable = f.optional_number("max_ratio_to_stable");
  parent.adopt(f);
  return c;
}

}  // namespace

namespace detail {

json::object analysis_json(const ro::AnalysisPolicy& a) {
  json::array checks;
  for (const auto& c : a.checks) {
    checks.push_back(check_json(c));
  }
  return json::object{
      {"judge", ro::to_string(a.judge)},
      {"alpha", a.alpha},
      {"min_requests", a.min_requests},
      {"failure_limit", a.failure_limit},
      {"inconclusive", a.inconclusive == ro::Inconclusive::kPause ? "pause" : "extend"},
      {"require_evidence", a.require_evidence},
      {"max_step_duration_ms", a.max_step_duration.count()},
      {"on_inconclusive", ro::to_string(a.on_inconclusive)},
      {"checks", std::move(checks)}};
}

json::array steps_json(const std::vector<ro::Step>& steps) {
  json::array out;
  for (const auto& s : steps) {
    out.push_back(json::object{{"weight_bp", s.weight_bp},
                               {"pause_ms", s.pause.count()},
                               {"until_promoted", s.until_promoted}});
  }
  return out;
}

ro::AnalysisPolicy read_analysis(Fields& parent, const json::object& o, const std::string& kind,
                                 ro::JudgeKind absent) {
  Fields f(o, kind);
  ro::AnalysisPolicy a;
  // Records from before the sequential judge name no judge: `absent` says which they meant.
  a.judge = absent;
  if (f.has("judge")) {
    const std::string judge = f.string("judge");
    if (judge == "threshold") {
      a.judge = ro::JudgeKind::kThreshold;
    } else if (judge == "sequential") {
      a.judge = ro::JudgeKind::kSequential;
    } else {
      f.fail("judge", "is \"" + judge + "\", which is no judge");
    }
  }
  if (f.has("alpha")) {
    a.alpha = f.number("alpha");
  }
  a.min_requests = static_cast<uint64_t>(f.integer("min_requests", 1, detail::kInt64Max));
  a.failure_limit = static_cast<uint32_t>(f.integer("failure_limit", 1, detail::kUint32Max));
  const std::string inconclusive = f.string("inconclusive");
  a.inconclusive = inconclusive == "pause" ? ro::Inconclusive::kPause : ro::Inconclusive::kExtend;
  // Absent from the records of rampart before require_evidence and max_step_duration: the
  // defaults (a rollout record's reader turns an absent duration off, rollout_codec.cpp).
  a.require_evidence = f.has("require_evidence") && f.boolean("require_evidence");
  if (f.has("max_step_duration_ms")) {
    a.max_step_duration = milliseconds(f.integer("max_step_duration_ms", 0, kMaxMs));
  }
  if (f.has("on_inconclusive")) {
    const std::string on = f.string("on_inconclusive");
    if (on == "rollback") {
      a.on_inconclusive = ro::Inconclusive::kRollback;
    } else if (on != "pause" && !f.error()) {
      f.fail("on_inconclusive", "is \"" + on + "\"; it is \"pause\" or \"rollback\"");
    }
  }
  if (const json::array* checks = f.array("checks")) {
    for (std::size_t i = 0; i < checks->size(); ++i) {
      if (const json::object* c = f.element_object("checks", i, (*checks)[i])) {
        a.checks.push_back(read_check(f, *c, fmt::format("{}: checks[{}]", kind, i)));
      }
    }
  }
  parent.adopt(f);
  return a;
}

std::vector<ro::Step> read_steps(Fields& f, const std::string& kind) {
  std::vector<ro::Step> steps;
  if (const json::array* items = f.array("steps")) {
    for (std::size_t i = 0; i < items->size(); ++i) {
      const json::object* o = f.element_object("steps", i, (*items)[i]);
      if (o == nullptr) {
        break;
      }
      Fields sf(*o, fmt::format("{}: steps[{}]", kind, i));
      steps.push_back(ro::Step{static_cast<uint32_t>(sf.integer("weight_bp", 1, 10000)),
                               milliseconds(sf.integer("pause_ms", 0, kMaxMs)),
                               sf.boolean("until_promoted")});
      f.adopt(sf);
    }
  }
  return steps;
}

}  // namespace detail

namespace {

void read_checks(Fields& parent, const json::object& o, const std::string& kind, ro::Policy& p) {
  Fields f(o, kind);
  if (const json::array* pre = f.array("pre")) {
    for (std::size_t i = 0; i < pre->size(); ++i) {
      if (const json::object* c = f.element_object("pre", i, (*pre)[i])) {
        Fields cf(*c, fmt::format("{}: pre[{}]", kind, i));
        p.pre.push_back(ro::PreCheck{cf.string("name"), cf.string("run")});
        f.adopt(cf);
      }
    }
  }
  if (const json::object* h = f.object("health")) {
    Fields hf(*h, kind + ": health");
    p.health =
        ro::HealthCheck{hf.string("path"), static_cast<uint32_t>(hf.integer("tries", 1, 100)),
                        milliseconds(hf.integer("backoff_ms", 0, kMaxMs))};
    f.adopt(hf);
  }
  if (const json::array* verify = f.array("verify")) {
    for (std::size_t i = 0; i < verify->size(); ++i) {
      if (const json::object* v = f.element_object("verify", i, (*verify)[i])) {
        Fields vf(*v, fmt::format("{}: verify[{}]", kind, i));
        ro::VerifyCheck check{
            vf.string("path"), static_cast<unsigned>(vf.integer("status", 100, 599)), {}};
        if (auto ms = vf.optional_integer("max_ms", 1, kMaxMs, true)) {
          check.max_latency = milliseconds(*ms);
        }
        p.verify.push_back(std::move(check));
        f.adopt(vf);
      }
    }
  }
  p.verify_tries = static_cast<uint32_t>(f.integer("verify_tries", 1, 100));
  parent.adopt(f);
}

void read_windows(Fields& parent, const json::object& o, const std::string& kind,
                  ro::DeployWindows& w) {
  Fields f(o, kind);
  for (const auto& day : detail::read_string_array(f, "deny")) {
    auto it = std::find(kDays.begin(), kDays.end(), day);
    if (it == kDays.end()) {
      f.fail("deny", "names \"" + day + "\", which is not a day");
      break;
    }
    w.deny_days.push_back(static_cast<int>(it - kDays.begin()));
  }
  w.utc_offset_minutes = static_cast<int>(f.integer("utc_offset_minutes", -14 * 60, 14 * 60));
  parent.adopt(f);
}

void read_webhooks(Fields& f, const std::string& kind, ro::Policy& p) {
  if (const json::array* hooks = f.array("webhooks")) {
    for (std::size_t i = 0; i < hooks->size(); ++i) {
      if (const json::object* h = f.element_object("webhooks", i, (*hooks)[i])) {
        Fields hf(*h, fmt::format("{}: webhooks[{}]", kind, i));
        ro::Webhook hook;
        hook.url = hf.string("url");
        hook.events = detail::read_string_array(hf, "events");
        // Added later within schema 2: a record without them reads the defaults.
        if (hf.has("secret_env")) {
          hook.secret_env = hf.string("secret_env");
        }
        if (hf.has("timeout_ms")) {
          hook.timeout = milliseconds(hf.integer("timeout_ms", 1, ro::kMaxWebhookTimeout.count()));
        }
        if (hf.has("tries")) {
          hook.tries = static_cast<uint32_t>(hf.integer("tries", 1, ro::kMaxWebhookTries));
        }
        p.webhooks.push_back(std::move(hook));
        f.adopt(hf);
      }
    }
  }
}

}  // namespace

json::object to_json(const ro::Policy& p) {
  json::array deny;
  for (int d : p.deploy_windows.deny_days) {
    deny.emplace_back(kDays.at(static_cast<std::size_t>(d)));
  }
  json::array hooks;
  for (const auto& h : p.webhooks) {
    hooks.push_back(json::object{{"url", h.url},
                                 {"events", detail::string_array(h.events)},
                                 {"secret_env", h.secret_env},
                                 {"timeout_ms", h.timeout.count()},
                                 {"tries", h.tries}});
  }
  return json::object{
      {"strategy", p.strategy_name},
      {"kind", p.strategy.kind == ro::StrategyKind::kBlueGreen ? "blue-green" : "canary"},
      {"steps", detail::steps_json(p.strategy.steps)},
      {"rollback_window_ms", p.rollback_window.count()},
      {"deploy_windows", json::object{{"deny", std::move(deny)},
                                      {"utc_offset_minutes", p.deploy_windows.utc_offset_minutes}}},
      {"interval_ms", p.interval.count()},
      {"analysis", detail::analysis_json(p.analysis)},
      {"checks", checks_json(p)},
      {"webhooks", std::move(hooks)}};
}

Result<ro::Policy> policy_from_json(const json::object& object, std::string_view kind_view) {
  const std::string kind(kind_view);
  Fields f(object, kind);
  ro::Policy p;
  p.strategy_name = f.string("strategy");
  p.strategy.kind =
      f.string("kind") == "blue-green" ? ro::StrategyKind::kBlueGreen : ro::StrategyKind::kCanary;
  p.strategy.steps = detail::read_steps(f, kind);
  p.rollback_window = milliseconds(f.integer("rollback_window_ms", 0, kMaxMs));
  if (const json::object* w = f.object("deploy_windows")) {
    read_windows(f, *w, kind + ": deploy_windows", p.deploy_windows);
  }
  p.interval = milliseconds(f.integer("interval_ms", 1, kMaxMs));
  if (const json::object* a = f.object("analysis")) {
    p.analysis = detail::read_analysis(f, *a, kind + ": analysis", ro::JudgeKind::kSequential);
  }
  if (const json::object* c = f.object("checks")) {
    read_checks(f, *c, kind + ": checks", p);
  }
  read_webhooks(f, kind, p);
  if (auto e = f.error()) {
    return *e;
  }
  return p;
}

}  // namespace rampart::model
