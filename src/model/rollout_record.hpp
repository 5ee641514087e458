#pragma once
// The records of a rollout (docs/model.md): the rollout itself, whose progress changes with
// every transition, and its events, one per transition, immutable: the timeline `rampart
// report` prints.
//
//   Rollout       /rampart/rollouts/{service}/{id:010}
//   RolloutEvent  /rampart/rollout_events/{service}/{id:010}/{seq:010}
//   the last id   /rampart/counters/rollouts/{service}

#include "common/result.hpp"
#include "rollout/machine.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rampart::model {

inline constexpr int kRolloutSchema = 1;
inline constexpr int kRolloutEventSchema = 1;

// The cause of a deployment a rollout makes.
inline constexpr std::string_view kCauseRollout = "rollout";

struct Rollout {
  std::string service{};
  std::int64_t id = 0;  // 1, 2, 3, ... per service, without gaps
  rollout::Plan plan{};
  rollout::Progress progress{};
  std::string author{};  // who started it
  std::string message{};
  std::int64_t created_at = 0;  // unix ms
  std::int64_t updated_at = 0;
  std::int64_t events = 0;  // the seq of its last event

  friend bool operator==(const Rollout&, const Rollout&) = default;
};

struct RolloutEvent {
  std::string service{};
  std::int64_t rollout = 0;
  std::int64_t seq = 0;  // 1, 2, 3, ... per rollout
  std::int64_t at = 0;   // unix ms
  std::string event{};   // rollout::Transition::event: "started", "step", "window", ...
  rollout::Phase phase = rollout::Phase::kPending;  // after the event
  std::uint32_t step = 0;
  std::optional<std::uint32_t> weight_bp{};  // the new version's share, when it changed
  std::optional<std::int64_t> deployment{};  // the deployment made, if one
  std::string actor{};                       // who asked ("rampart" for the controller)
  std::string reason{};
  boost::json::value judgement{};  // the judge's verdicts with their evidence, or null

  friend bool operator==(const RolloutEvent&, const RolloutEvent&) = default;
};

// The judge's answer as stored and shown: {"decision", "reason", "checks": [{"metric",
// "verdict", "canary", "stable", "canary_requests", "stable_requests", "bound", "reason"}]}.
boost::json::value to_json(const rollout::Judgement& judgement);

std::string encode(const Rollout& rollout);
std::string encode(const RolloutEvent& event);
boost::json::object to_json(const Rollout& rollout);
boost::json::object to_json(const RolloutEvent& event);
Result<Rollout> decode_rollout(std::string_view json);
Result<RolloutEvent> decode_rollout_event(std::string_view json);

}  // namespace rampart::model
