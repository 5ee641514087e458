#include "model/rollout_record.hpp"

#include "model/fields.hpp"
#include "model/policy_codec.hpp"
#include "model/records.hpp"

#include <boost/json/serialize.hpp>

namespace rampart::model {

namespace {

namespace json = boost::json;
namespace ro = rollout;
using detail::Fields;
using detail::kInt64Max;

json::value or_null(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object plan_json(const ro::Plan& p) {
  return json::object{
      {"version", p.version},
      {"stable", p.stable},
      {"kind", p.strategy.kind == ro::StrategyKind::kBlueGreen ? "blue-green" : "canary"},
      {"steps", detail::steps_json(p.strategy.steps)},
      {"analysis", detail::analysis_json(p.analysis)},
      {"interval_ms", p.interval.count()},
      {"verify_after", p.verify_after},
      {"rollback_window_ms", p.rollback_window.count()},
      {"sticky", p.sticky}};
}

json::object progress_json(const ro::Progress& p) {
  json::object o{{"phase", ro::to_string(p.phase)},
                 {"step", p.step},
                 {"step_started_ms", p.step_started_ms},
                 {"paused_at_ms", p.paused_at_ms},
                 {"paused_total_ms", p.paused_total_ms},
                 {"window_started_ms", p.window_started_ms},
                 {"failed_windows", p.judge.failed_windows},
                 {"ready_until_ms", p.ready_until_ms},
                 {"reason", p.reason}};
  o["resumed_ms"] = p.resumed_ms;  // since max_step_duration
  return o;
}

ro::Plan read_plan(Fields& parent, const json::object& o) {
  Fields f(o, "rollout record: plan");
  ro::Plan p;
  p.version = f.string("version");
  p.stable = f.string("stable");
  p.strategy.kind =
      f.string("kind") == "blue-green" ? ro::StrategyKind::kBlueGreen : ro::StrategyKind::kCanary;
  p.strategy.steps = detail::read_steps(f, "rollout record: plan");
  if (const json::object* a = f.object("analysis")) {
    // A rollout started before the sequential judge was judged by the threshold judge.
    p.analysis =
        detail::read_analysis(f, *a, "rollout record: plan: analysis", ro::JudgeKind::kThreshold);
    // A rollout started before max_step_duration had none: it keeps going as it was told to.
    if (!a->contains("max_step_duration_ms")) {
      p.analysis.max_step_duration = std::chrono::milliseconds(0);
    }
  }
  p.interval = std::chrono::milliseconds(f.integer("interval_ms", 1, kInt64Max));
  // Absent from the records of rampart before post-promotion verification.
  p.verify_after = f.has("verify_after") && f.boolean("verify_after");
  p.sticky = f.has("sticky") && f.boolean("sticky");
  if (f.has("rollback_window_ms")) {
    p.rollback_window = std::chrono::milliseconds(f.integer("rollback_window_ms", 0, kInt64Max));
  }
  parent.adopt(f);
  return p;
}

ro::Phase read_phase(Fields& f, std::string_view key) {
  const std::string text = f.string(key);
  auto phase = ro::parse_phase(text);
  if (!phase && !f.error()) {
    f.fail(key, "is \"" + text + "\", which is no rollout phase");
  }
  return phase.value_or(ro::Phase::kPending);
}

ro::Progress read_progress(Fields& parent, const json::object& o) {
  Fields f(o, "rollout record: progress");
  ro::Progress p;
  p.phase = read_phase(f, "phase");
  p.step = static_cast<uint32_t>(f.integer("step", 0, 10000));
  p.step_started_ms = f.integer("step_started_ms", 0, kInt64Max);
  p.paused_at_ms = f.integer("paused_at_ms", 0, kInt64Max);
  p.paused_total_ms = f.integer("paused_total_ms", 0, kInt64Max);
  p.window_started_ms = f.integer("window_started_ms", 0, kInt64Max);
  p.judge.failed_windows = static_cast<uint32_t>(f.integer("failed_windows", 0, 1'000'000));
  if (f.has("resumed_ms")) {  // absent from records before max_step_duration
    p.resumed_ms = f.integer("resumed_ms", 0, kInt64Max);
  }
  if (f.has("ready_until_ms")) {
    p.ready_until_ms = f.integer("ready_until_ms", 0, kInt64Max);
  }
  p.reason = f.string("reason");
  parent.adopt(f);
  return p;
}

}  // namespace

json::value to_json(const ro::Judgement& j) {
  json::array checks;
  for (const auto& c : j.checks) {
    checks.push_back(json::object{{"metric", ro::to_string(c.metric)},
                                  {"verdict", ro::to_string(c.verdict)},
                                  {"canary", or_null(c.canary)},
                                  {"stable", or_null(c.stable)},
                                  {"canary_requests", c.canary_requests},
                                  {"stable_requests", c.stable_requests},
                                  {"bound", c.bound},
                                  {"reason", c.reason}});
    // The sequential judge's evidence: its e-value against the threshold that rolls back, or
    // the anytime-valid interval of the canary's rate, and the events counted.
    auto& o = checks.back().as_object();
    if (c.e_value) {
      o["e_value"] = *c.e_value;
      o["e_threshold"] = c.e_threshold.value_or(0);
    }
    if (c.ci_low && c.ci_high) {
      o["interval"] = json::array{*c.ci_low, *c.ci_high};
    }
    if (c.e_value || c.ci_low) {
      o["canary_events"] = c.canary_events;
      o["stable_events"] = c.stable_events;
    }
  }
  json::object out{
      {"decision", ro::to_string(j.decision)}, {"reason", j.reason}, {"checks", std::move(checks)}};
  if (j.needs) {  // a step held for evidence: how much more canary traffic it expects to need
    json::object needs{{"expected", j.needs->expected}};
    if (j.needs->expected) {
      needs["canary_requests"] = j.needs->canary_requests;
      needs["seconds"] = j.needs->seconds ? json::value(*j.needs->seconds) : json::value(nullptr);
    }
    out["needs"] = std::move(needs);
  }
  return out;
}

json::object to_json(const Rollout& r) {
  return json::object{{"schema", kRolloutSchema},
                      {"service", r.service},
                      {"id", r.id},
                      {"plan", plan_json(r.plan)},
                      {"progress", progress_json(r.progress)},
                      {"author", r.author},
                      {"message", r.message},
                      {"created_at", r.created_at},
                      {"updated_at", r.updated_at},
                      {"events", r.events}};
}

json::object to_json(const RolloutEvent& e) {
  return json::object{
      {"schema", kRolloutEventSchema},
      {"service", e.service},
      {"rollout", e.rollout},
      {"seq", e.seq},
      {"at", e.at},
      {"event", e.event},
      {"phase", ro::to_string(e.phase)},
      {"step", e.step},
      {"weight_bp", e.weight_bp ? json::value(*e.weight_bp) : json::value(nullptr)},
      {"deployment", e.deployment ? json::value(*e.deployment) : json::value(nullptr)},
      {"actor", e.actor},
      {"reason", e.reason},
      {"judgement", e.judgement}};
}

std::string encode(const Rollout& r) { return json::serialize(to_json(r)); }
std::string encode(const RolloutEvent& e) { return json::serialize(to_json(e)); }

Result<Rollout> decode_rollout(std::string_view text) {
  auto record = detail::open_record(text, "rollout", kRolloutSchema);
  if (!record) {
    return record.error();
  }
  Fields f(record->first, "rollout record");
  Rollout r;
  r.service = f.string("service");
  r.id = f.integer("id", 1, kMaxId);
  if (const json::object* plan = f.object("plan")) {
    r.plan = read_plan(f, *plan);
  }
  if (const json::object* progress = f.object("progress")) {
    r.progress = read_progress(f, *progress);
  }
  r.author = f.string("author");
  r.message = f.string("message");
  r.created_at = f.integer("created_at", 0, kInt64Max);
  r.updated_at = f.integer("updated_at", 0, kInt64Max);
  r.events = f.integer("events", 0, kMaxId);
  if (auto e = f.error()) {
    return *e;
  }
  return r;
}

Result<RolloutEvent> decode_rollout_event(std::string_view text) {
  auto record = detail::open_record(text, "rollout event", kRolloutEventSchema);
  if (!record) {
    return record.error();
  }
  Fields f(record->first, "rollout event record");
  RolloutEvent e;
  e.service = f.string("service");
  e.rollout = f.integer("rollout", 1, kMaxId);
  e.seq = f.integer("seq", 1, kMaxId);
  e.at = f.integer("at", 0, kInt64Max);
  e.event = f.string("event");
  e.phase = read_phase(f, "phase");
  e.step = static_cast<uint32_t>(f.integer("step", 0, 10000));
  if (auto w = f.optional_integer("weight_bp", 0, 10000, true)) {
    e.weight_bp = static_cast<uint32_t>(*w);
  }
  e.deployment = f.optional_integer("deployment", 1, kMaxId, true);
  e.actor = f.string("actor");
  e.reason = f.string("reason");
  if (const json::value* j = f.any("judgement")) {
    e.judgement = *j;
  }
  if (auto err = f.error()) {
    return *err;
  }
  return e;
}

}  // namespace rampart::model
