// What a webhook receives: the routing of rollout events to hook kinds, the payload's fields
// and the one-line text a chat shows.

#include "control/webhook_payload.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace rampart::control {
namespace {

model::Rollout rollout_of_v3() {
  model::Rollout r;
  r.service = "shop";
  r.id = 7;
  r.plan.version = "v3";
  r.plan.stable = "v2";
  r.plan.strategy = *rollout::strategy_from_name("canary");  // 10%, 50%, 100%
  r.events = 4;
  return r;
}

model::RolloutEvent event(std::string name, rollout::Phase phase, std::uint32_t step,
                          std::string reason) {
  return model::RolloutEvent{.service = "shop",
                             .rollout = 7,
                             .seq = 4,
                             .at = 1'700'000'000'000,
                             .event = std::move(name),
                             .phase = phase,
                             .step = step,
                             .reason = std::move(reason),
                             .judgement = nullptr};
}

TEST(WebhookRouting, KindsAndSubscriptions) {
  auto hook = [](std::vector<std::string> events) {
    rollout::Webhook h;
    h.url = "u";
    h.events = std::move(events);
    return h;
  };
  const rollout::Webhook all = hook({});
  const rollout::Webhook rollbacks = hook({"rollback"});
  const rollout::Webhook both = hook({"rollback", "event"});
  const rollout::Webhook confirm = hook({"confirm-promotion"});
  struct Case {
    const rollout::Webhook& hook;
    const char* event;
    std::optional<std::string> kind;
  };
  const Case cases[] = {
      {all, "created", "pre-rollout"},
      {all, "promoted", "post-rollout"},
      {all, "rolled_back", "rollback"},
      {all, "window", "event"},
      {all, "step", "event"},
      {rollbacks, "rolled_back", "rollback"},
      {rollbacks, "window", std::nullopt},
      {rollbacks, "created", std::nullopt},
      {both, "rolled_back", "rollback"},  // once, as its own kind
      {both, "promoted", "event"},
      {confirm, "created", std::nullopt},
      {confirm, "window", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(delivery_kind(c.hook, c.event), c.kind) << c.event;
  }
  EXPECT_FALSE(subscribes(all, "confirm-promotion"));  // only when listed
  EXPECT_TRUE(subscribes(confirm, "confirm-promotion"));
}

TEST(WebhookPayload, ARollbackSaysWhereAndWhyInOneLine) {
  auto e = event("rolled_back", rollout::Phase::kRolledBack, 0,
                 "rolled back by the analysis: error_rate 0.2 is over critical 0.05 (412 "
                 "requests)");
  e.weight_bp = 0;
  e.judgement = boost::json::object{{"decision", "rollback"}, {"reason", "x"}};
  auto p = webhook_payload("rollback", rollout_of_v3(), e);
  EXPECT_EQ(p.at("text").as_string(),
            ":rotating_light: shop: v3 rolled back at 10%: error_rate 0.2 is over critical 0.05 "
            "(412 requests)");
  EXPECT_EQ(p.at("event").as_string(), "rollback");
  EXPECT_EQ(p.at("service").as_string(), "shop");
  EXPECT_EQ(p.at("rollout").to_number<std::int64_t>(), 7);
  EXPECT_EQ(p.at("seq").to_number<std::int64_t>(), 4);
  EXPECT_EQ(p.at("phase").as_string(), "rolled_back");
  EXPECT_EQ(p.at("step").to_number<std::int64_t>(), 1);
  EXPECT_EQ(p.at("weight").to_number<std::int64_t>(), 0);
  EXPECT_EQ(p.at("version").as_string(), "v3");
  EXPECT_EQ(p.at("stable").as_string(), "v2");
  EXPECT_EQ(p.at("decision").as_string(), "rollback");
  EXPECT_EQ(p.at("judgement").at("decision").as_string(), "rollback");
  EXPECT_EQ(p.at("at").as_string(), "2023-11-14T22:13:20.000Z");
}

TEST(WebhookPayload, TheTextOfEachEvent) {
  const auto r = rollout_of_v3();
  struct Case {
    model::RolloutEvent e;
    const char* text;
  };
  const Case cases[] = {
      {event("created", rollout::Phase::kPending, 0, "v3 from v2: 10% for 5m, 50% for 5m, 100%"),
       ":rocket: shop: v3 rollout 7 from v2 is about to start: v3 from v2: 10% for 5m, 50% for "
       "5m, 100%"},
      {event("step", rollout::Phase::kProgressing, 1, "analysis passed: step 2 of 3"),
       ":arrow_forward: shop: v3 serves 50%: analysis passed: step 2 of 3"},
      {event("promoted", rollout::Phase::kPromoted, 2, "analysis passed"),
       ":white_check_mark: shop: v3 promoted to 100%: analysis passed"},
      {event("rolled_back", rollout::Phase::kRolledBack, 0, "checks failed: health 503"),
       ":rotating_light: shop: v3 rolled back before any traffic: checks failed: health 503"},
      {event("paused", rollout::Phase::kPaused, 0, "paused by hand"),
       ":double_vertical_bar: shop: v3 paused at 10%: paused by hand"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(webhook_text("event", r, c.e), c.text);
  }
}

TEST(WebhookPayload, AConfirmationAsksAboutTheStepItWouldMoveTo) {
  auto r = rollout_of_v3();
  r.progress.phase = rollout::Phase::kProgressing;
  auto e = confirm_event(r, 1, 1'700'000'000'000);
  auto p = webhook_payload("confirm-promotion", r, e);
  EXPECT_EQ(p.at("event").as_string(), "confirm-promotion");
  EXPECT_EQ(p.at("step").to_number<std::int64_t>(), 2);
  EXPECT_EQ(p.at("weight").to_number<std::int64_t>(), 50);
  EXPECT_EQ(p.at("reason").as_string(), "step 2 of 3, 50% to v3");
  EXPECT_TRUE(p.at("judgement").is_null());
  auto last = webhook_payload("confirm-promotion", r, confirm_event(r, 3, 0));
  EXPECT_EQ(last.at("weight").to_number<std::int64_t>(), 100);
  EXPECT_EQ(last.at("reason").as_string(), "promotion of v3 to 100%");
}

}  // namespace
}  // namespace rampart::control
