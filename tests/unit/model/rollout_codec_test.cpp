// Rollout records: every field survives a round trip; newer schemas and broken fields are
// refused with the field named.

#include "model/rollout_record.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace rampart::model {
namespace {

using std::chrono::milliseconds;

Rollout sample_rollout() {
  Rollout r;
  r.service = "shop";
  r.id = 4;
  r.plan.version = "v3";
  r.plan.stable = "v2";
  r.plan.strategy = *rollout::strategy_from_name("canary10-5m");
  r.plan.analysis.min_requests = 50;
  r.plan.analysis.checks = {{.metric = rollout::Metric::kErrorRate, .max = 0.01, .critical = 0.05},
                            {.metric = rollout::Metric::kP99Ms, .max_ratio_to_stable = 1.5}};
  r.plan.interval = milliseconds(5000);
  r.progress.phase = rollout::Phase::kPaused;
  r.progress.step = 1;
  r.progress.step_started_ms = 1'700'000'000'000;
  r.progress.paused_at_ms = 1'700'000'060'000;
  r.progress.paused_total_ms = 1500;
  r.progress.window_started_ms = 1'700'000'055'000;
  r.progress.judge.failed_windows = 1;
  r.progress.reason = "paused by hand";
  r.author = "alice";
  r.message = "v3: faster search";
  r.created_at = 1'699'999'999'000;
  r.updated_at = 1'700'000'060'000;
  r.events = 7;
  return r;
}

RolloutEvent sample_event() {
  rollout::Judgement j;
  j.decision = rollout::Decision::kRollback;
  j.reason = "error_rate 0.2 is over critical 0.05 (canary, 500 requests)";
  j.checks.push_back(rollout::CheckResult{.metric = rollout::Metric::kErrorRate,
                                          .verdict = rollout::Verdict::kCritical,
                                          .canary = 0.2,
                                          .stable = 0.0,
                                          .canary_requests = 500,
                                          .stable_requests = 4500,
                                          .bound = "critical 0.05",
                                          .reason = j.reason});
  RolloutEvent e;
  e.service = "shop";
  e.rollout = 4;
  e.seq = 7;
  e.at = 1'700'000'090'000;
  e.event = "rolled_back";
  e.phase = rollout::Phase::kRolledBack;
  e.step = 1;
  e.weight_bp = 0;
  e.deployment = 19;
  e.actor = "rampart";
  e.reason = "rolled back by the analysis: " + j.reason;
  e.judgement = to_json(j);
  return e;
}

TEST(RolloutCodec, ARolloutRoundTrips) {
  const Rollout r = sample_rollout();
  auto back = decode_rollout(encode(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
}

TEST(RolloutCodec, AnEventRoundTripsWithTheJudgesEvidence) {
  const RolloutEvent e = sample_event();
  auto back = decode_rollout_event(encode(e));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, e);
  const auto& check = back->judgement.at("checks").at(0);
  EXPECT_EQ(check.at("verdict").as_string(), "critical");
  EXPECT_EQ(check.at("canary_requests").as_int64(), 500);
  EXPECT_EQ(back->judgement.at("decision").as_string(), "rollback");

  RolloutEvent quiet = e;
  quiet.weight_bp.reset();
  quiet.deployment.reset();
  quiet.judgement = nullptr;
  auto quiet_back = decode_rollout_event(encode(quiet));
  ASSERT_TRUE(quiet_back);
  EXPECT_EQ(*quiet_back, quiet);
}

TEST(RolloutCodec, APlanWithoutAJudgeWasTheThresholdJudgesAndTheSequentialEvidenceIsKept) {
  Rollout r = sample_rollout();
  r.plan.analysis.judge = rollout::JudgeKind::kSequential;
  r.plan.analysis.alpha = 0.005;
  auto back = decode_rollout(encode(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
  std::string old = encode(r);
  old.replace(old.find(R"("judge":"sequential",)"), 21, "");
  auto before = decode_rollout(old);
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->plan.analysis.judge, rollout::JudgeKind::kThreshold);

  rollout::Judgement j;
  rollout::CheckResult c;
  c.e_value = 140;
  c.e_threshold = 100;
  c.canary_events = 30;
  c.stable_events = 90;
  rollout::CheckResult a;
  a.ci_low = 0.02;
  a.ci_high = 0.05;
  j.checks = {c, a};
  const auto json = to_json(j);
  EXPECT_EQ(json.at("checks").at(0).at("e_value").as_double(), 140);
  EXPECT_EQ(json.at("checks").at(0).at("e_threshold").as_double(), 100);
  EXPECT_EQ(json.at("checks").at(0).at("canary_events").as_uint64(), 30u);
  EXPECT_EQ(json.at("checks").at(1).at("interval").at(1).as_double(), 0.05);
  EXPECT_FALSE(json.at("checks").at(1).as_object().contains("e_value"));
}

// A plan keeps require_evidence, max_step_duration and on_inconclusive, and the progress its
// last resume; a record from before them reads no evidence required, no duration limit (a
// rollout under way keeps going as it was told to) and no resume.
TEST(RolloutCodec, APlanWithoutMaxStepDurationHasNoLimitAndTheEvidenceNeedIsKept) {
  Rollout r = sample_rollout();
  r.plan.analysis.require_evidence = true;
  r.plan.analysis.max_step_duration = milliseconds(600'000);
  r.plan.analysis.on_inconclusive = rollout::Inconclusive::kRollback;
  r.progress.resumed_ms = 1'700'000'050'000;
  auto back = decode_rollout(encode(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);

  auto o = boost::json::parse(encode(r)).as_object();
  auto& analysis = o["plan"].as_object()["analysis"].as_object();
  analysis.erase("require_evidence");
  analysis.erase("max_step_duration_ms");
  analysis.erase("on_inconclusive");
  o["progress"].as_object().erase("resumed_ms");
  auto before = decode_rollout(boost::json::serialize(o));
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_FALSE(before->plan.analysis.require_evidence);
  EXPECT_EQ(before->plan.analysis.max_step_duration, milliseconds(0));
  EXPECT_EQ(before->plan.analysis.on_inconclusive, rollout::Inconclusive::kPause);
  EXPECT_EQ(before->progress.resumed_ms, 0);

  rollout::Judgement held;
  held.needs = rollout::EvidenceNeed{.canary_requests = 8766, .seconds = 21.9};
  auto json = to_json(held);
  EXPECT_TRUE(json.at("needs").at("expected").as_bool());
  EXPECT_EQ(json.at("needs").at("canary_requests").as_uint64(), 8766u);
  EXPECT_EQ(json.at("needs").at("seconds").as_double(), 21.9);
  held.needs = rollout::EvidenceNeed{.expected = false};
  json = to_json(held);
  EXPECT_FALSE(json.at("needs").at("expected").as_bool());
  EXPECT_FALSE(json.at("needs").as_object().contains("canary_requests"));
  EXPECT_FALSE(to_json(rollout::Judgement{}).as_object().contains("needs"));
}

TEST(RolloutCodec, NewerSchemasAndBrokenFieldsAreRefusedByName) {
  auto newer = decode_rollout(R"({"schema":2,"service":"shop"})");
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().message.find("newer than this rampart knows (1)"), std::string::npos);

  auto o = boost::json::parse(encode(sample_rollout())).as_object();
  o["progress"].as_object()["phase"] = "flying";
  auto phase = decode_rollout(boost::json::serialize(o));
  ASSERT_FALSE(phase);
  EXPECT_EQ(phase.error().message,
            "rollout record: progress: field \"phase\" is \"flying\", which is no rollout phase");

  o = boost::json::parse(encode(sample_rollout())).as_object();
  o["plan"].as_object().erase("stable");
  auto stable = decode_rollout(boost::json::serialize(o));
  ASSERT_FALSE(stable);
  EXPECT_EQ(stable.error().message, "rollout record: plan: field \"stable\" is missing");
}

}  // namespace
}  // namespace rampart::model
