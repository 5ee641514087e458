#include "config/rollout_reader.hpp"

#include "common/duration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace rampart::config {

namespace {

using std::chrono::milliseconds;
namespace ro = rollout;

constexpr std::array<std::string_view, 7> kRolloutKeys = {
    "strategy", "steps", "deploy_windows", "rollback_window", "analysis", "checks", "webhook"};
constexpr std::array<std::string_view, 10> kAnalysisKeys = {
    "judge",           "alpha",        "interval",         "min_requests",
    "failure_limit",   "inconclusive", "require_evidence", "max_step_duration",
    "on_inconclusive", "check"};
constexpr std::array<std::string_view, 5> kCheckKeys = {"metric", "max", "min", "critical",
                                                        "max_ratio_to_stable"};
constexpr std::array<std::string_view, 4> kChecksKeys = {"pre", "health", "verify", "verify_tries"};
constexpr std::array<std::string_view, 2> kStepKeys = {"weight", "pause"};
constexpr std::array<std::string_view, 2> kWindowKeys = {"deny", "time_zone"};
constexpr std::array<std::string_view, 2> kPreKeys = {"name", "run"};
constexpr std::array<std::string_view, 3> kHealthKeys = {"path", "tries", "backoff"};
constexpr std::array<std::string_view, 3> kVerifyKeys = {"path", "status", "max_ms"};
// "secret" is refused with a message of its own (secret_env names where the secret is).
constexpr std::array<std::string_view, 6> kWebhookKeysAndSecret = {
    "url", "events", "secret_env", "timeout", "tries", "secret"};
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

constexpr milliseconds kMaxPause{365LL * 24 * 3600 * 1000};
constexpr Range kMinRequests{1, 100'000'000, ""};
constexpr Range kFailureLimit{1, 1000, ""};
constexpr Range kTries{1, 100, ""};
constexpr Range kStatus{100, 599, ""};
constexpr Range kLatencyMs{1, 3'600'000, "1 ms to 1 hour"};
constexpr Range kWebhookTries{1, ro::kMaxWebhookTries, ""};

Scope sub(const Scope& s, const toml::table& t, std::string label) {
  return Scope{t, s.prefix, std::move(label)};
}

// The tables of an optional array-of-tables key; empty when absent.
std::vector<const toml::table*> tables(Reader& r, const Scope& s, std::string_view key,
                                       std::string_view header) {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) {
    return {};
  }
  return r.tables_at(s, *n, key, header).value_or(std::vector<const toml::table*>{});
}

void read_steps(Reader& r, const Scope& s, ro::Policy& out) {
  const toml::node* n = s.table.get("steps");
  if (n == nullptr) {
    return;
  }
  std::vector<ro::Step> steps;
  bool complete = true;  // every step read: only then are they checked as a whole
  for (const toml::table* t : tables(r, s, "steps", "{ weight = 10, pause = \"5m\" }")) {
    const Scope st = sub(s, *t, "in a step of [service.rollout]");
    r.reject_unknown(st, kStepKeys);
    ro::Step step;
    if (t->get("weight") == nullptr) {
      r.missing(st, "weight", "weight = 10 (the new version's percent)");
      complete = false;
    } else if (auto w = r.number_at(st, "weight", 0.01, 100)) {
      step.weight_bp = static_cast<uint32_t>(std::lround(*w * 100));
    } else {
      complete = false;
    }
    if (const auto* p = t->get_as<std::string>("pause"); p && p->get() == "until-promoted") {
      step.until_promoted = true;
    } else if (auto d = r.duration_at(st, "pause", milliseconds(0), kMaxPause)) {
      step.pause = *d;
    }
    steps.push_back(step);
  }
  if (!complete) {
    return;
  }
  if (auto ok = ro::validate_steps("steps", steps); !ok) {
    r.fail(*n, s.prefix + ok.error().message + " in [service.rollout]");
    return;
  }
  out.strategy = ro::Strategy{ro::StrategyKind::kCanary, std::move(steps)};
  out.strategy_name = "custom";
}

void read_strategy(Reader& r, const Scope& s, ro::Policy& out) {
  if (const auto* v = r.string_at(s, "strategy")) {
    if (auto st = ro::strategy_from_name(v->get()); !st) {
      r.fail(*v, s.key("strategy") + ": " + st.error().message);
    } else {
      out.strategy = *st;
      out.strategy_name = v->get();
    }
    if (s.table.get("steps") != nullptr && v->get() != "canary") {
      r.fail(*v, s.prefix +
                     "a strategy with explicit steps must be \"canary\" (or left out); "
                     "remove \"strategy\" or \"steps\"");
      return;
    }
  }
  read_steps(r, s, out);
}

// "UTC", "+02:00", "-05:30" -> minutes east of UTC.
std::optional<int> utc_offset(std::string_view text) {
  if (text == "UTC" || text == "Z") {
    return 0;
  }
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') {
    return std::nullopt;
  }
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -1; };
  const int h1 = digit(1), h2 = digit(2), m1 = digit(4), m2 = digit(5);
  if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0 || h1 * 10 + h2 > 14 || m1 * 10 + m2 > 59) {
    return std::nullopt;
  }
  const int minutes = (h1 * 10 + h2) * 60 + m1 * 10 + m2;
  return text[0] == '-' ? -minutes : minutes;
}

void read_windows(Reader& r, const Scope& s, ro::Policy& out) {
  const toml::table* t = r.sub_table(s, "deploy_windows", "deploy_windows = { deny = [\"Fri\"] }");
  if (t == nullptr) {
    return;
  }
  const Scope w = sub(s, *t, "in deploy_windows");
  r.reject_unknown(w, kWindowKeys);
  if (t->get("deny") != nullptr) {
    if (auto days = r.strings_at(w, "deny", "deny = [\"Fri\", \"Sat\"]")) {
      for (const auto* d : *days) {
        auto it = std::find(kDays.begin(), kDays.end(), d->get());
        if (it == kDays.end()) {
          r.fail(*d, w.prefix + "deploy_windows: " + in_quotes(d->get()) +
                         " is not a day; write Sun, Mon, Tue, Wed, Thu, Fri or Sat");
        } else {
          out.deploy_windows.deny_days.push_back(static_cast<int>(it - kDays.begin()));
        }
      }
    }
  }
  if (const auto* z = r.string_at(w, "time_zone")) {
    if (auto off = utc_offset(z->get())) {
      out.deploy_windows.utc_offset_minutes = *off;
    } else {
      r.fail(*z, w.key("time_zone") + " is " + in_quotes(z->get()) +
                     "; write \"UTC\" or an offset such as \"+02:00\" or \"-05:00\"");
    }
  }
}

void read_check(Reader& r, const Scope& s, const toml::table& t, ro::AnalysisPolicy& out) {
  const Scope c = sub(s, t, "in [[service.rollout.analysis.check]]");
  r.reject_unknown(c, kCheckKeys);
  const auto* name = r.string_at(c, "metric", "metric = \"error_rate\"");
  if (name == nullptr) {
    return;
  }
  auto metric = ro::parse_metric(name->get());
  if (!metric) {
    r.fail(*name, c.key("metric") + " is " + in_quotes(name->get()) +
                      "; use error_rate, success_rate, p50_ms, p95_ms, p99_ms or rps");
    return;
  }
  ro::Check check;
  check.metric = *metric;
  const double top =
      (*metric == ro::Metric::kErrorRate || *metric == ro::Metric::kSuccessRate) ? 1.0 : 1e9;
  const bool bounded =
      t.get("critical") || t.get("max") || t.get("min") || t.get("max_ratio_to_stable");
  const bool hw = ro::higher_is_worse(*metric);
  check.critical = r.number_at(c, "critical", 0, top);
  check.max = r.number_at(c, "max", 0, top);
  check.min = r.number_at(c, "min", 0, top);
  check.max_ratio_to_stable = r.number_at(c, "max_ratio_to_stable", 1, 1000);
  if (hw && check.min) {
    r.fail(*t.get("min"), c.prefix + "check " + in_quotes(name->get()) +
                              ": higher is worse for this metric; bound it with \"max\"");
  } else if (!hw && check.max) {
    r.fail(*t.get("max"), c.prefix + "check " + in_quotes(name->get()) +
                              ": higher is better for this metric; bound it with \"min\"");
  } else if (!bounded) {
    r.fail(t, c.prefix + "check " + in_quotes(name->get()) +
                  " has no bound; give it max (or min), critical or max_ratio_to_stable");
  }
  out.checks.push_back(check);
}

// require_evidence, and what a step still undecided past its pause does: max_step_duration
// ("30m", or "off") and on_inconclusive.
void read_undecided(Reader& r, const Scope& a, ro::AnalysisPolicy& out) {
  if (auto v = r.bool_at(a, "require_evidence")) {
    out.require_evidence = *v;
  }
  const auto* text = a.table.get_as<std::string>("max_step_duration");
  if (text != nullptr && text->get() == "off") {
    out.max_step_duration = milliseconds(0);
  } else if (text != nullptr && !parse_duration(text->get())) {
    r.fail(*text, a.key("max_step_duration") + " is " + in_quotes(text->get()) +
                      "; write a duration such as \"30m\", or \"off\" for no limit");
  } else if (auto d = r.duration_at(a, "max_step_duration", milliseconds(1000), kMaxPause)) {
    out.max_step_duration = *d;
  }
  if (const auto* v = r.string_at(a, "on_inconclusive")) {
    if (v->get() == "rollback") {
      out.on_inconclusive = ro::Inconclusive::kRollback;
    } else if (v->get() != "pause") {
      r.fail(*v, a.key("on_inconclusive") + " is " + in_quotes(v->get()) +
                     "; use \"pause\" (a person decides, the default) or \"rollback\"");
    }
  }
}

void read_analysis(Reader& r, const Scope& s, ro::Policy& out) {
  const toml::table* t = r.sub_table(s, "analysis", "[service.rollout.analysis]");
  if (t == nullptr) {
    return;
  }
  const Scope a = sub(s, *t, "in [service.rollout.analysis]");
  r.reject_unknown(a, kAnalysisKeys);
  if (auto d = r.duration_at(a, "interval", milliseconds(100), milliseconds(3'600'000))) {
    out.interval = *d;
  }
  if (const auto* v = r.string_at(a, "judge")) {
    if (v->get() == "threshold") {
      out.analysis.judge = ro::JudgeKind::kThreshold;
    } else if (v->get() != "sequential") {
      r.fail(*v, a.key("judge") + " is " + in_quotes(v->get()) +
                     "; use \"sequential\" (the default) or \"threshold\"");
    }
  }
  if (auto alpha = r.number_at(a, "alpha", 1e-6, 0.2)) {
    out.analysis.alpha = *alpha;
  }
  r.int_at(a, "min_requests", kMinRequests, out.analysis.min_requests);
  r.int_at(a, "failure_limit", kFailureLimit, out.analysis.failure_limit);
  if (const auto* v = r.string_at(a, "inconclusive")) {
    if (v->get() == "pause") {
      out.analysis.inconclusive = ro::Inconclusive::kPause;
    } else if (v->get() == "rollback") {
      r.fail(*v, a.key("inconclusive") +
                     " cannot be \"rollback\": an undecided step is rolled back only past "
                     "max_step_duration; set on_inconclusive = \"rollback\" for that");
    } else if (v->get() != "extend") {
      r.fail(*v, a.key("inconclusive") + " is " + in_quotes(v->get()) +
                     "; use \"extend\" or \"pause\"");
    }
  }
  read_undecided(r, a, out.analysis);
  for (const toml::table* c : tables(r, a, "check", "[[service.rollout.analysis.check]]")) {
    read_check(r, a, *c, out.analysis);
  }
}

void read_pre(Reader& r, const Scope& s, ro::Policy& out) {
  for (const toml::table* t : tables(r, s, "pre", "{ name = \"tests\", run = \"make test\" }")) {
    const Scope p = sub(s, *t, "in checks.pre");
    r.reject_unknown(p, kPreKeys);
    ro::PreCheck check;
    if (const auto* v = r.string_at(p, "name", "name = \"tests\"")) {
      check.name = v->get();
    }
    if (const auto* v = r.string_at(p, "run", "run = \"make test\"")) {
      check.run = v->get();
    }
    out.pre.push_back(std::move(check));
  }
}

void read_health(Reader& r, const Scope& s, ro::Policy& out) {
  const toml::table* t = r.sub_table(s, "health", "health = { path = \"/health\" }");
  if (t == nullptr) {
    return;
  }
  const Scope h = sub(s, *t, "in checks.health");
  r.reject_unknown(h, kHealthKeys);
  if (const auto* v = r.string_at(h, "path"); v && !v->get().starts_with('/')) {
    r.fail(*v, h.key("path") + " must start with /");
  } else if (v) {
    out.health.path = v->get();
  }
  r.int_at(h, "tries", kTries, out.health.tries);
  if (auto d = r.duration_at(h, "backoff", milliseconds(1), milliseconds(600'000))) {
    out.health.backoff = *d;
  }
}

void read_verify(Reader& r, const Scope& s, ro::Policy& out) {
  for (const toml::table* t : tables(r, s, "verify", "{ path = \"/health\", status = 200 }")) {
    const Scope v = sub(s, *t, "in checks.verify");
    r.reject_unknown(v, kVerifyKeys);
    ro::VerifyCheck check;
    if (const auto* p = r.string_at(v, "path", "path = \"/health\"")) {
      if (!p->get().starts_with('/')) {
        r.fail(*p, v.key("path") + " must start with /");
      }
      check.path = p->get();
    }
    r.int_at(v, "status", kStatus, check.status);
    uint32_t max_ms = 0;
    r.int_at(v, "max_ms", kLatencyMs, max_ms);
    if (max_ms > 0) {
      check.max_latency = milliseconds(max_ms);
    }
    out.verify.push_back(std::move(check));
  }
  r.int_at(s, "verify_tries", kTries, out.verify_tries);
}

void read_checks(Reader& r, const Scope& s, ro::Policy& out) {
  const toml::table* t = r.sub_table(s, "checks", "[service.rollout.checks]");
  if (t == nullptr) {
    return;
  }
  const Scope c = sub(s, *t, "in [service.rollout.checks]");
  r.reject_unknown(c, kChecksKeys);
  read_pre(r, c, out);
  read_health(r, c, out);
  read_verify(r, c, out);
}

// An environment variable's name: a letter or '_', then letters, digits or '_'.
bool is_env_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || std::isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

void read_webhook_events(Reader& r, const Scope& w, const toml::table& t, ro::Webhook& hook) {
  if (t.get("events") != nullptr) {
    if (auto events = r.strings_at(w, "events", "events = [\"rollback\"]")) {
      for (const auto* e : *events) {
        if (std::find(std::begin(ro::kWebhookEvents), std::end(ro::kWebhookEvents), e->get()) ==
            std::end(ro::kWebhookEvents)) {
          r.fail(*e, w.prefix + "webhook event " + in_quotes(e->get()) +
                         " is not one rampart sends; use pre-rollout, confirm-promotion, "
                         "post-rollout, rollback or event");
        }
        hook.events.push_back(e->get());
      }
    }
  }
}

void read_webhook_secret(Reader& r, const Scope& w, ro::Webhook& hook) {
  const auto* v = r.string_at(w, "secret_env");
  if (v == nullptr) {
    return;
  }
  if (!is_env_name(v->get())) {
    r.fail(*v, w.key("secret_env") + " is " + in_quotes(v->get()) +
                   "; name the server's environment variable that holds the secret, e.g. "
                   "secret_env = \"RAMPART_HOOK_SECRET\" (the secret itself never goes in the "
                   "config)");
    return;
  }
  hook.secret_env = v->get();
}

void read_webhooks(Reader& r, const Scope& s, ro::Policy& out) {
  for (const toml::table* t : tables(r, s, "webhook", "[[service.rollout.webhook]]")) {
    const Scope w = sub(s, *t, "in [[service.rollout.webhook]]");
    if (const toml::node* secret = t->get("secret")) {
      r.fail(*secret, w.prefix +
                          "a webhook's secret never goes in the config: put it in an environment "
                          "variable of the server and name that with secret_env = \"NAME\"");
    }
    r.reject_unknown(w, kWebhookKeysAndSecret);
    ro::Webhook hook;
    if (const auto* u = r.string_at(w, "url", "url = \"https://hooks.example.com/deploys\"")) {
      if (!u->get().starts_with("http://") && !u->get().starts_with("https://")) {
        r.fail(*u, w.key("url") + " must be an http:// or https:// URL");
      }
      hook.url = u->get();
    }
    read_webhook_events(r, w, *t, hook);
    read_webhook_secret(r, w, hook);
    if (auto d = r.duration_at(w, "timeout", milliseconds(100), ro::kMaxWebhookTimeout)) {
      hook.timeout = *d;
    }
    r.int_at(w, "tries", kWebhookTries, hook.tries);
    out.webhooks.push_back(std::move(hook));
  }
}

}  // namespace

void read_rollout(Reader& r, const Scope& service, rollout::Policy& out) {
  const toml::table* t = r.sub_table(service, "rollout", "[service.rollout]");
  if (t == nullptr) {
    return;
  }
  const Scope s = sub(service, *t, "in [service.rollout]");
  r.reject_unknown(s, kRolloutKeys);
  read_strategy(r, s, out);
  read_windows(r, s, out);
  if (auto d = r.duration_at(s, "rollback_window", milliseconds(0), milliseconds(86'400'000))) {
    out.rollback_window = *d;
  }
  read_analysis(r, s, out);
  read_checks(r, s, out);
  read_webhooks(r, s, out);
}

}  // namespace rampart::config
