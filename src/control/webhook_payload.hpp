#pragma once
// What a webhook receives: one JSON object per rollout event (docs/api.md, "Webhooks"), with a
// `text` line that a Slack-style incoming webhook shows as is, and the routing of a rollout
// event to the hooks that subscribe to it. Pure functions: no I/O, no clock.

#include "model/rollout_record.hpp"
#include "rollout/policy.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::control {

// The webhook kind a rollout event is besides "event": "created" -> "pre-rollout", "promoted"
// -> "post-rollout", "rolled_back" -> "rollback"; nullopt for the others.
std::optional<std::string_view> webhook_kind(std::string_view rollout_event);

// Whether `hook` subscribes to `kind` (no events listed: every kind but confirm-promotion).
bool subscribes(const rollout::Webhook& hook, std::string_view kind);

// The kind `hook` is sent `rollout_event` as: its own kind when the hook subscribes to it, else
// "event" when it subscribes to every event, else nullopt (the hook is not told). One delivery
// per hook and event, never two.
std::optional<std::string> delivery_kind(const rollout::Webhook& hook,
                                         std::string_view rollout_event);

// The body sent to a hook for `event` of `rollout` as `kind`.
boost::json::object webhook_payload(std::string_view kind, const model::Rollout& rollout,
                                    const model::RolloutEvent& event);

// The event a confirm-promotion hook is asked about: the step the rollout would move to
// (`next_step`, 0-based; one past the last: its promotion) at `now_ms`.
model::RolloutEvent confirm_event(const model::Rollout& rollout, std::uint32_t next_step,
                                  std::int64_t now_ms);

// The one human line: ":rotating_light: shop: v3 rolled back at 10%: error_rate 0.2 > ...".
std::string webhook_text(std::string_view kind, const model::Rollout& rollout,
                         const model::RolloutEvent& event);

}  // namespace rampart::control
