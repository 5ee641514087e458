// RolloutService over a real store: each transition is one transaction with its event, its
// deployment and its audit event; one active rollout per service; a failed write changes
// nothing.

#include "control/rollout_service.hpp"

#include "control_test_support.hpp"
#include "model/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace rampart::control {
namespace {

using testing::config_text;
using testing::FakeClock;
using testing::HookStore;
using testing::keys_written_at;
using testing::parse;
namespace keys = model::keys;

constexpr std::int64_t kSecond = 1000;

rollout::Window window(uint64_t requests, uint64_t errors) {
  rollout::Window w;
  w.seconds = 30;
  w.canary.requests = requests;
  w.canary.errors = errors;
  w.stable.requests = requests * 9;
  return w;
}

class RolloutServiceTest : public ::testing::Test {
 protected:
  RolloutServiceTest() {
    // shop: v1 serves everything, v2 is declared at 0%; its policy: 10% and 50% for 30s each.
    std::string text = config_text("v1 = 100\nv2 = 0");
    text.insert(text.find("[[service]]\nname = \"api\""),
                "[service.rollout]\nsteps = [ { weight = 10, pause = \"30s\" }, { weight = 50, "
                "pause = \"30s\" }, { weight = 100 } ]\n[service.rollout.analysis]\ninterval = "
                "\"30s\"\nmin_requests = 100\n[[service.rollout.analysis.check]]\nmetric = "
                "\"error_rate\"\nmax = 0.01\ncritical = 0.05\n\n");
    EXPECT_TRUE(deployments_.apply(parse(text), "alice", "seed"));
  }

  DeployRequest deploy(std::string version = "v2") {
    return DeployRequest{.service = "shop",
                         .version = std::move(version),
                         .actor = "alice",
                         .message = "v2: faster"};
  }

  // The latest deployment's split as "v1=9000,v2=1000", and its cause.
  std::string served() {
    auto d = deployments_.latest("shop");
    EXPECT_TRUE(d);
    std::string out;
    for (const auto& e : d->split) {
      out += (out.empty() ? "" : ",") + e.version + "=" + std::to_string(e.basis_points);
    }
    return out + " (" + d->cause + ")";
  }

  std::vector<std::string> event_names(std::int64_t id) {
    auto events = rollouts_.events("shop", id);
    EXPECT_TRUE(events);
    std::vector<std::string> out;
    for (const auto& e : *events) {
      out.push_back(e.event);
    }
    return out;
  }

  HookStore store_;
  FakeClock clock_;
  DeploymentService deployments_{store_, clock_.as_clock()};
  RolloutService rollouts_{store_, clock_.as_clock()};
};

TEST_F(RolloutServiceTest, StartCreatesAPendingRolloutWithThePolicysPlan) {
  auto r = rollouts_.start(deploy());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 1);
  EXPECT_EQ(r->progress.phase, rollout::Phase::kPending);
  EXPECT_EQ(r->plan.version, "v2");
  EXPECT_EQ(r->plan.stable, "v1");
  EXPECT_EQ(rollout::describe(r->plan.strategy.steps), "10% for 30s, 50% for 30s, 100%");
  EXPECT_EQ(r->plan.analysis.min_requests, 100u);
  EXPECT_EQ(r->plan.analysis.judge, rollout::JudgeKind::kSequential);  // the default
  EXPECT_TRUE(r->plan.sticky);                   // shop routes by client IP (the default)
  EXPECT_EQ(served(), "v1=10000,v2=0 (apply)");  // no traffic before the checks
  EXPECT_EQ(event_names(1), std::vector<std::string>{"created"});
  auto stored = rollouts_.get("shop", 1);
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, *r);
  // One transaction: counter, rollout, event, audit.
  auto written = keys_written_at(store_, store_.revision());
  EXPECT_NE(std::find(written.begin(), written.end(), keys::rollout_counter("shop")),
            written.end());
  EXPECT_NE(std::find(written.begin(), written.end(), keys::rollout_event("shop", 1, 1)),
            written.end());
}

TEST_F(RolloutServiceTest, OneActiveRolloutPerServiceUnlessReplaced) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  auto second = rollouts_.start(deploy());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kConflict);
  EXPECT_EQ(second.error().message,
            "service \"shop\" has an active rollout 1 (v2 10% for 30s, 50% for 30s, 100%, pending "
            "at step 1 of 3); abort it with `rampart abort shop`, or deploy with --replace");
  auto replaced = rollouts_.start([&] {
    auto req = deploy();
    req.replace = true;
    return req;
  }());
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->id, 2);
  auto first = rollouts_.get("shop", 1);
  EXPECT_EQ(first->progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(first->progress.reason, "aborted by hand");
}

TEST_F(RolloutServiceTest, AGoodCanaryIsPromotedThroughEveryStepOneDeploymentEach) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  auto r = rollouts_.checks_done("shop", 1, true, "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(served(), "v1=9000,v2=1000 (rollout)");
  clock_.advance(30 * kSecond);
  auto w = rollouts_.window("shop", 1, window(1000, 0));
  ASSERT_TRUE(w && *w) << (w ? "" : w.error().message);
  EXPECT_EQ((*w)->progress.step, 1u);
  EXPECT_EQ(served(), "v1=5000,v2=5000 (rollout)");
  clock_.advance(30 * kSecond);
  ASSERT_TRUE(rollouts_.window("shop", 1, window(1000, 0)));
  EXPECT_EQ(served(), "v1=0,v2=10000 (rollout)");
  clock_.advance(30 * kSecond);
  w = rollouts_.window("shop", 1, window(1000, 0));
  ASSERT_TRUE(w && *w);
  EXPECT_EQ((*w)->progress.phase, rollout::Phase::kPromoted);
  EXPECT_EQ(event_names(1),
            (std::vector<std::string>{"created", "started", "step", "step", "promoted"}));
  auto events = rollouts_.events("shop", 1);
  EXPECT_EQ((*events)[1].deployment, 2);  // the seed made deployment 1
  EXPECT_EQ((*events)[1].weight_bp, 1000u);
  EXPECT_FALSE((*events)[1].judgement.is_object());
  EXPECT_TRUE((*events)[2].judgement.is_object());
  // A window of a promoted rollout decides nothing and writes nothing.
  const auto revision = store_.revision();
  auto late = rollouts_.window("shop", 1, window(1000, 500));
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  EXPECT_EQ(store_.revision(), revision);
  auto active = rollouts_.active("shop");
  ASSERT_TRUE(active);
  EXPECT_FALSE(*active);
}

TEST_F(RolloutServiceTest, ACriticalWindowPutsEverythingBackOnStableInOneDeployment) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, ""));
  clock_.advance(5 * kSecond);
  auto w = rollouts_.window("shop", 1, window(500, 100));  // 20% errors
  ASSERT_TRUE(w && *w);
  EXPECT_EQ((*w)->progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(served(), "v1=10000,v2=0 (rollout)");
  auto events = rollouts_.events("shop", 1);
  const auto& last = events->back();
  EXPECT_EQ(last.event, "rolled_back");
  EXPECT_EQ(last.actor, "rampart");
  EXPECT_EQ(last.judgement.at("checks").at(0).at("verdict").as_string(), "critical");
  EXPECT_NE(last.reason.find("error_rate 0.2 is over critical 0.05"), std::string::npos)
      << last.reason;
  auto audit = deployments_.audit({});
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->back().action, "rollout.rolled_back");
}

TEST_F(RolloutServiceTest, CommittedTransitionsAreCountedByDecision) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, ""));
  clock_.advance(5 * kSecond);
  ASSERT_TRUE(rollouts_.window("shop", 1, window(500, 100)));
  EXPECT_FALSE(rollouts_.command("shop", rollout::Command::kPause, "bob"));  // refused: not counted
  EXPECT_EQ(rollouts_.decisions(),
            (RolloutService::DecisionCounts{
                {{"shop", "created"}, 1}, {{"shop", "started"}, 1}, {{"shop", "rolled_back"}, 1}}));
}

TEST_F(RolloutServiceTest, FailedChecksRollBackBeforeAnyTraffic) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  auto r = rollouts_.checks_done("shop", 1, false, "health /health: 503 after 3 tries");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(r->progress.reason, "checks failed: health /health: 503 after 3 tries");
  EXPECT_EQ(served(), "v1=10000,v2=0 (rollout)");
}

TEST_F(RolloutServiceTest, CommandsByHandWithTheirActorAndWhyNot) {
  auto none = rollouts_.command("shop", rollout::Command::kPause, "bob");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kNotFound);
  ASSERT_TRUE(rollouts_.start(deploy()));
  auto early = rollouts_.command("shop", rollout::Command::kPromote, "bob");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, Errc::kConflict);
  EXPECT_NE(early.error().message.find("the rollout is pending; only a progressing or paused "
                                       "rollout can be promoted"),
            std::string::npos)
      << early.error().message;
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, ""));
  auto paused = rollouts_.command("shop", rollout::Command::kPause, "bob");
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->progress.phase, rollout::Phase::kPaused);
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kResume, "bob"));
  auto full = rollouts_.command("shop", rollout::Command::kPromoteFull, "bob");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->progress.phase, rollout::Phase::kPromoted);
  EXPECT_EQ(served(), "v1=0,v2=10000 (rollout)");
  auto events = rollouts_.events("shop", 1);
  EXPECT_EQ(events->back().actor, "bob");
  auto retry = rollouts_.command("shop", rollout::Command::kRetry, "bob");
  ASSERT_FALSE(retry);  // promoted: nothing to retry
}

TEST_F(RolloutServiceTest, UndoAfterPromotionPutsTheStableVersionBackInOneDeployment) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, ""));
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kPromoteFull, "bob"));
  EXPECT_EQ(served(), "v1=0,v2=10000 (rollout)");
  auto undone = rollouts_.command("shop", rollout::Command::kUndo, "bob");
  ASSERT_TRUE(undone) << undone.error().message;
  EXPECT_EQ(undone->progress.phase, rollout::Phase::kRolledBack);
  EXPECT_EQ(served(), "v1=10000,v2=0 (rollout)");
  EXPECT_EQ(rollouts_.events("shop", 1)->back().actor, "bob");
}

TEST_F(RolloutServiceTest, RetryStartsARolledBackRolloutAgain) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kAbort, "bob"));
  auto again = rollouts_.command("shop", rollout::Command::kRetry, "bob");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->progress.phase, rollout::Phase::kPending);
  auto active = rollouts_.all_active();
  ASSERT_TRUE(active);
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].id, 1);
}

TEST_F(RolloutServiceTest, AFailedWriteChangesNothing) {
  ASSERT_TRUE(rollouts_.start(deploy()));
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, ""));
  const auto before = rollouts_.get("shop", 1);
  const std::string split = served();
  store_.fail_writes = true;
  clock_.advance(60 * kSecond);
  auto w = rollouts_.window("shop", 1, window(1000, 0));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, Errc::kUnavailable);
  store_.fail_writes = false;
  EXPECT_EQ(*rollouts_.get("shop", 1), *before);
  EXPECT_EQ(served(), split);
  EXPECT_EQ(event_names(1).size(), 2u);
  // The same window again, now that the store writes: the step it decides runs once.
  ASSERT_TRUE(rollouts_.window("shop", 1, window(1000, 0)));
  EXPECT_EQ(served(), "v1=5000,v2=5000 (rollout)");
}

TEST_F(RolloutServiceTest, ADeniedDeployWindowRefusesUnlessForcedAndAudited) {
  // The fake clock's day (2023-11-14, a Tuesday in UTC) is denied.
  std::string text = config_text("v1 = 100\nv2 = 0");
  text.insert(text.find("[[service]]\nname = \"api\""),
              "[service.rollout]\ndeploy_windows = { deny = [\"Tue\"] }\n\n");
  ASSERT_TRUE(deployments_.apply(parse(text), "alice", "no deploys on Tuesdays"));
  auto refused = rollouts_.start(deploy());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kConflict);
  EXPECT_EQ(refused.error().message,
            "service \"shop\": deploys are refused on Tue (UTC); the next allowed time is Wed "
            "00:00 UTC; deploy with --force to go ahead anyway (audited)");
  auto req = deploy();
  req.force = true;
  auto forced = rollouts_.start(req);
  ASSERT_TRUE(forced) << forced.error().message;
  auto audit = deployments_.audit({});
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->back().action, "rollout.start.forced");
  EXPECT_NE(rollouts_.events("shop", 1)->front().reason.find("forced: deploys are refused on Tue"),
            std::string::npos);
}

TEST_F(RolloutServiceTest, ADryRunRunsTheGatesAndWritesNothing) {
  const auto revision = store_.revision();
  auto req = deploy();
  req.dry_run = true;
  auto would_be = rollouts_.start(req);
  ASSERT_TRUE(would_be) << would_be.error().message;
  EXPECT_EQ(would_be->id, 1);
  EXPECT_EQ(rollout::describe(would_be->plan.strategy.steps), "10% for 30s, 50% for 30s, 100%");
  EXPECT_EQ(store_.revision(), revision);  // no rollout, no counter, no audit
  EXPECT_FALSE(rollouts_.latest("shop"));

  // The gates still refuse: an unknown version, and an active rollout unless replace.
  auto unknown = req;
  unknown.version = "v9";
  EXPECT_EQ(rollouts_.start(unknown).error().code, Errc::kNotFound);
  ASSERT_TRUE(rollouts_.start(deploy()));
  const auto started = store_.revision();
  auto busy = rollouts_.start(req);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, Errc::kConflict);
  req.replace = true;  // would abort rollout 1: answered, not done
  auto replaced = rollouts_.start(req);
  ASSERT_TRUE(replaced) << replaced.error().message;
  EXPECT_EQ(replaced->id, 2);
  EXPECT_EQ(store_.revision(), started);
  EXPECT_EQ(rollouts_.get("shop", 1)->progress.phase, rollout::Phase::kPending);
}

TEST_F(RolloutServiceTest, ADryRunInADeniedWindowIsRefusedUnlessForced) {
  std::string text = config_text("v1 = 100\nv2 = 0");
  text.insert(text.find("[[service]]\nname = \"api\""),
              "[service.rollout]\ndeploy_windows = { deny = [\"Tue\"] }\n\n");
  ASSERT_TRUE(deployments_.apply(parse(text), "alice", "no deploys on Tuesdays"));
  const auto revision = store_.revision();
  auto req = deploy();
  req.dry_run = true;
  EXPECT_EQ(rollouts_.start(req).error().code, Errc::kConflict);
  req.force = true;
  EXPECT_TRUE(rollouts_.start(req));
  EXPECT_EQ(store_.revision(), revision);
}

TEST_F(RolloutServiceTest, SkippedChecksAndPreResultsAreAuditedAndInTheFirstEvent) {
  auto req = deploy();
  req.pre = {{"tests", true, 1200}, {"branch", true, 15}};
  ASSERT_TRUE(rollouts_.start(req));
  EXPECT_EQ(rollouts_.events("shop", 1)->front().reason,
            "v2 from v1: 10% for 30s, 50% for 30s, 100%; pre-deploy commands: tests passed "
            "1s200ms, branch passed 15ms");
  auto audit = deployments_.audit({});
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->back().action, "rollout.start");
  EXPECT_EQ(audit->back().after.at("pre").as_array().size(), 2u);
  EXPECT_EQ(audit->back().after.at("skip_checks"), false);

  auto skipped = deploy();
  skipped.skip_checks = true;
  skipped.replace = true;
  ASSERT_TRUE(rollouts_.start(skipped));
  audit = deployments_.audit({});
  EXPECT_EQ(audit->back().action, "rollout.start.unchecked");
  EXPECT_EQ(audit->back().after.at("skip_checks"), true);
  EXPECT_NE(rollouts_.events("shop", 2)->front().reason.find(
                "pre-deploy commands skipped (--skip-checks)"),
            std::string::npos);
}

TEST_F(RolloutServiceTest, UpstreamsDeclareTheVersionWithTheRollout) {
  auto req = deploy("v3");
  req.upstreams = {"http://127.0.0.1:9003/"};
  auto r = rollouts_.start(req);
  ASSERT_TRUE(r) << r.error().message;
  auto versions = deployments_.versions("shop");
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ(versions->back().name, "v3");
  EXPECT_EQ(versions->back().upstreams, std::vector<std::string>{"http://127.0.0.1:9003"});
  EXPECT_EQ(versions->back().ordinal, 3);
  // Same transaction: the version, the rollout and its audit event.
  auto written = keys_written_at(store_, store_.revision());
  EXPECT_NE(std::find(written.begin(), written.end(), keys::version("shop", "v3")), written.end());
  EXPECT_NE(std::find(written.begin(), written.end(), keys::rollout("shop", 1)), written.end());
  auto audit = deployments_.audit({});
  EXPECT_EQ(audit->back().after.at("declared_version").at("name"), "v3");
}

TEST_F(RolloutServiceTest, AnExistingVersionIsUsedWithTheSameUpstreamsRefusedWithOthers) {
  auto same = deploy("v2");
  same.upstreams = {"http://127.0.0.1:9002"};
  ASSERT_TRUE(rollouts_.start(same));
  EXPECT_EQ(deployments_.versions("shop")->size(), 2u);

  const auto revision = store_.revision();
  auto other = deploy("v2");
  other.replace = true;
  other.upstreams = {"http://127.0.0.1:9999"};
  auto refused = rollouts_.start(other);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kConflict);
  EXPECT_EQ(refused.error().message,
            "upstreams: version \"v2\" of service \"shop\" exists with upstreams "
            "http://127.0.0.1:9002, not http://127.0.0.1:9999; versions are immutable: pick a "
            "new version name for these upstreams");
  EXPECT_EQ(store_.revision(), revision + 1);  // only --replace's abort

  auto bad = deploy("v4");
  bad.upstreams = {"https://127.0.0.1:9004"};
  auto invalid = rollouts_.start(bad);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(invalid.error().message.starts_with("upstreams: upstream \"https://"))
      << invalid.error().message;
}

TEST_F(RolloutServiceTest, BadRequestsAreRefusedWithTheReason) {
  auto unknown = rollouts_.start(deploy("v9"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  EXPECT_EQ(unknown.error().message,
            "service \"shop\" has no version \"v9\"; declare it first (apply, or deploy with "
            "--upstream URL)");
  auto all = rollouts_.start(deploy("v1"));
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().message,
            "version \"v1\" serves all of service \"shop\" already; there is nothing to roll out "
            "from");
  auto bad = deploy();
  bad.strategy = "rainbow";
  auto strategy = rollouts_.start(bad);
  ASSERT_FALSE(strategy);
  EXPECT_EQ(strategy.error().code, Errc::kInvalidArgument);
  auto steps = deploy();
  steps.steps = std::vector<rollout::Step>{{5000}};
  auto not_full = rollouts_.start(steps);
  ASSERT_FALSE(not_full);
  EXPECT_EQ(not_full.error().message, "steps: the last step must be 100%, not 50%");
}

}  // namespace
}  // namespace rampart::control
