#include "control/webhook_payload.hpp"

#include "common/time_text.hpp"
#include "model/codec.hpp"
#include "model/records.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

namespace rampart::control {

namespace {

namespace json = boost::json;
using rollout::Phase;

constexpr std::string_view kConfirm = "confirm-promotion";

constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kKinds = {{
    {"created", "pre-rollout"},
    {"promoted", "post-rollout"},
    {"rolled_back", "rollback"},
}};

// How the text line says each rollout event: its emoji and what happened ({w}: the weight).
struct Said {
  std::string_view event;
  std::string_view emoji;
  std::string_view phrase;
};
constexpr std::array<Said, 11> kSaid = {{
    {"created", ":rocket:", "rollout {id} from {stable} is about to start"},
    {"started", ":arrow_forward:", "serves {w}"},
    {"step", ":arrow_forward:", "serves {w}"},
    {"window", ":mag:", "at {w}"},
    {"paused", ":double_vertical_bar:", "paused at {w}"},
    {"resumed", ":arrow_forward:", "resumed at {w}"},
    {"verifying", ":mag:", "serves 100%, verifying"},
    {"promoted", ":white_check_mark:", "promoted to 100%"},
    {"rolled_back", ":rotating_light:", "rolled back at {w}"},
    {"retried", ":repeat:", "retried from the first step"},
    {"confirm-promotion", ":raising_hand:", "asks to move to {w}"},
}};

std::uint32_t step_count(const rollout::Plan& plan) {
  return static_cast<std::uint32_t>(std::max<std::size_t>(1, plan.strategy.steps.size()));
}

// The new version's share after `e`: the event's own, else what its phase and step say.
std::uint32_t weight_of(const model::Rollout& r, const model::RolloutEvent& e) {
  if (e.weight_bp) {
    return *e.weight_bp;
  }
  switch (e.phase) {
    case Phase::kProgressing:
    case Phase::kPaused:
      return rollout::weight_at(r.plan, e.step);
    case Phase::kVerifying:
    case Phase::kPromoted:
      return model::kTotalBasisPoints;
    case Phase::kPending:
    case Phase::kRolledBack:
      break;
  }
  return 0;
}

// The reason without what the phrase says already.
std::string_view bare_reason(std::string_view reason) {
  for (std::string_view prefix : {"rolled back by the analysis: ", "paused by the analysis: "}) {
    if (reason.starts_with(prefix)) {
      return reason.substr(prefix.size());
    }
  }
  return reason;
}

std::string phrase_of(const model::Rollout& r, const model::RolloutEvent& e) {
  const auto it =
      std::find_if(kSaid.begin(), kSaid.end(), [&](const Said& s) { return s.event == e.event; });
  if (e.event == "rolled_back" && e.reason.starts_with("checks failed")) {
    return "rolled back before any traffic";
  }
  // A rollback's event has weight 0; the text says where it was.
  const std::uint32_t w =
      e.event == "rolled_back" ? rollout::weight_at(r.plan, e.step) : weight_of(r, e);
  const std::string_view phrase = it == kSaid.end() ? std::string_view(e.event) : it->phrase;
  return fmt::format(fmt::runtime(phrase), fmt::arg("id", r.id), fmt::arg("stable", r.plan.stable),
                     fmt::arg("w", rollout::percent_text(w)));
}

}  // namespace

std::optional<std::string_view> webhook_kind(std::string_view rollout_event) {
  for (const auto& [event, kind] : kKinds) {
    if (event == rollout_event) {
      return kind;
    }
  }
  return std::nullopt;
}

bool subscribes(const rollout::Webhook& hook, std::string_view kind) {
  if (hook.events.empty()) {
    return kind != kConfirm;
  }
  return std::find(hook.events.begin(), hook.events.end(), kind) != hook.events.end();
}

std::optional<std::string> delivery_kind(const rollout::Webhook& hook,
                                         std::string_view rollout_event) {
  if (auto kind = webhook_kind(rollout_event); kind && subscribes(hook, *kind)) {
    return std::string(*kind);
  }
  if (subscribes(hook, "event")) {
    return "event";
  }
  return std::nullopt;
}

model::RolloutEvent confirm_event(const model::Rollout& r, std::uint32_t next_step,
                                  std::int64_t now_ms) {
  const bool promotion = next_step >= step_count(r.plan);
  const std::uint32_t w =
      promotion ? model::kTotalBasisPoints : rollout::weight_at(r.plan, next_step);
  model::RolloutEvent e{.service = r.service,
                        .rollout = r.id,
                        .seq = r.events,
                        .at = now_ms,
                        .event = std::string(kConfirm),
                        .phase = r.progress.phase,
                        .step = promotion ? step_count(r.plan) - 1 : next_step,
                        .weight_bp = w,
                        .actor = "rampart",
                        .judgement = nullptr};
  e.reason = promotion ? fmt::format("promotion of {} to 100%", r.plan.version)
                       : fmt::format("step {} of {}, {} to {}", next_step + 1, step_count(r.plan),
                                     rollout::percent_text(w), r.plan.version);
  return e;
}

std::string webhook_text(std::string_view kind, const model::Rollout& r,
                         const model::RolloutEvent& e) {
  const auto it =
      std::find_if(kSaid.begin(), kSaid.end(), [&](const Said& s) { return s.event == e.event; });
  const std::string_view emoji = it == kSaid.end() ? ":information_source:" : it->emoji;
  std::string text = fmt::format("{} {}: {} {}", emoji, r.service, r.plan.version, phrase_of(r, e));
  if (const std::string_view reason = bare_reason(e.reason); !reason.empty()) {
    text += fmt::format(": {}", reason);
  }
  return text;
}

json::object webhook_payload(std::string_view kind, const model::Rollout& r,
                             const model::RolloutEvent& e) {
  json::value decision(e.event);
  if (e.judgement.is_object()) {
    if (const auto* d = e.judgement.as_object().if_contains("decision")) {
      decision = *d;
    }
  }
  return json::object{{"event", kind},
                      {"service", r.service},
                      {"rollout", r.id},
                      {"seq", e.seq},
                      {"rollout_event", e.event},
                      {"phase", rollout::to_string(e.phase)},
                      {"step", e.step + 1},
                      {"steps", step_count(r.plan)},
                      {"weight", model::percent_json(weight_of(r, e))},
                      {"version", r.plan.version},
                      {"stable", r.plan.stable},
                      {"decision", std::move(decision)},
                      {"reason", e.reason},
                      {"judgement", e.judgement},
                      {"at", format_rfc3339(e.at)},
                      {"text", webhook_text(kind, r, e)}};
}

}  // namespace rampart::control
