// The webhook notifier over the in-memory store with a fake sender: rollout events routed to
// the hooks that subscribe to them, outcomes recorded, the cursor moved, what a restart must
// still deliver delivered (and what it must not, not), and confirm-promotion's answers.

#include "control/webhook_notifier.hpp"

#include "control/rollout_service.hpp"
#include "control_test_support.hpp"
#include "model/keys.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace rampart::control {
namespace {

using testing::config_text;
using testing::FakeClock;
using testing::parse;

constexpr std::string_view kHooks = R"([[service.rollout.webhook]]
url = "http://a.example/all"
secret_env = "SHOP_HOOK_SECRET"

[[service.rollout.webhook]]
url = "http://b.example/rollbacks"
events = ["rollback"]

)";

// shop with `hooks` (TOML of [[service.rollout.webhook]] tables), v1 serving all of it.
std::string config_with(std::string_view hooks) {
  std::string text = config_text("v1 = 100\nv2 = 0");
  text.insert(text.find("[[service]]\nname = \"api\""), std::string(hooks));
  return text;
}

// Remembers what it was sent; answers `status`.
class FakeSender {
 public:
  std::atomic<unsigned> status{200};

  Sender sender() {
    return [this](const PostRequest& r) {
      std::lock_guard lock(mutex_);
      sent_.push_back(r);
      return PostAnswer{status.load(), status == 0 ? "connection refused" : "", ""};
    };
  }
  // "url kind" of each request, in order.
  std::vector<std::string> sent() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& r : sent_) {
      out.push_back(r.url + " " + header(r, "X-Rampart-Event"));
    }
    return out;
  }
  std::vector<PostRequest> requests() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  static std::string header(const PostRequest& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) {
        return v;
      }
    }
    return "";
  }

 private:
  std::mutex mutex_;
  std::vector<PostRequest> sent_;
};

rollout::Webhook hook(std::string url, std::vector<std::string> events,
                      std::string secret_env = "") {
  rollout::Webhook h;
  h.url = std::move(url);
  h.events = std::move(events);
  h.secret_env = std::move(secret_env);
  return h;
}

class WebhookNotifierTest : public ::testing::Test {
 protected:
  void apply(std::string_view hooks) {
    ASSERT_TRUE(deployments_.apply(parse(config_with(hooks)), "alice", "apply"));
  }
  void start_rollout() {
    ASSERT_TRUE(rollouts_.start(
        DeployRequest{.service = "shop", .version = "v2", .actor = "alice", .message = ""}));
  }
  WebhookNotifier::Options options() {
    return {.send = sender_.sender(),
            .sleep = [](std::chrono::milliseconds) { return true; },
            .now_ms = [this] { return clock_.now(); },
            .secret = [this](const std::string& name) -> std::optional<std::string> {
              if (name == "SHOP_HOOK_SECRET" && secret_set_) {
                return "s3cr3t";
              }
              return std::nullopt;
            }};
  }
  // Scans until every queued delivery is recorded as finished and seen so.
  void settle(WebhookNotifier& n) {
    for (int i = 0; i < 500; ++i) {
      n.scan();
      if (n.pending() == 0) {
        n.scan();  // the cursor moves over what the last scan saw finished
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ADD_FAILURE() << "deliveries still pending";
  }
  std::string cursor() {
    auto kv = store_.get(model::keys::webhook_cursor("shop"));
    return kv && *kv ? (*kv)->value : "(none)";
  }

  store::MemoryStore store_;
  FakeClock clock_;
  FakeSender sender_;
  bool secret_set_ = true;
  DeploymentService deployments_{store_, clock_.as_clock()};
  RolloutService rollouts_{store_, clock_.as_clock()};
};

TEST_F(WebhookNotifierTest, EachEventGoesToTheHooksThatSubscribeToItAndIsRecorded) {
  apply(kHooks);
  WebhookNotifier n(store_, options());
  start_rollout();
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, "health passed"));
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kAbort, "bob"));
  settle(n);
  auto sent = sender_.sent();
  std::sort(sent.begin(), sent.end());  // the two hooks' lanes run side by side
  EXPECT_EQ(sent, (std::vector<std::string>{
                      "http://a.example/all event", "http://a.example/all pre-rollout",
                      "http://a.example/all rollback", "http://b.example/rollbacks rollback"}));
  auto deliveries = list_deliveries(store_, "shop", 1);
  ASSERT_TRUE(deliveries);
  ASSERT_EQ(deliveries->size(), 4u);
  EXPECT_EQ((*deliveries)[0].kind, "pre-rollout");
  EXPECT_EQ((*deliveries)[0].state, kDelivered);
  EXPECT_EQ((*deliveries)[0].attempts, 1u);
  EXPECT_EQ((*deliveries)[0].status, 200u);
  EXPECT_EQ((*deliveries)[3].hook, 1u);  // seq 3, the rollback, to both: hook 0 then 1
  EXPECT_EQ((*deliveries)[3].id, "shop-1-3-1");
  EXPECT_EQ(cursor(), R"({"rollout":1,"seq":3})");
  for (const auto& r : sender_.requests()) {
    const bool signed_hook = r.url == "http://a.example/all";
    EXPECT_EQ(FakeSender::header(r, "X-Rampart-Signature").empty(), !signed_hook) << r.url;
    if (signed_hook) {
      EXPECT_EQ(FakeSender::header(r, "X-Rampart-Signature"),
                "sha256=" + hmac_sha256_hex("s3cr3t", r.body));
    }
    auto body = boost::json::parse(r.body).as_object();
    EXPECT_EQ(body.at("service").as_string(), "shop");
    EXPECT_EQ(body.at("event").as_string(), FakeSender::header(r, "X-Rampart-Event"));
  }
  // Nothing new: nothing more sent, nothing written.
  const auto revision = store_.revision();
  n.scan();
  EXPECT_EQ(store_.revision(), revision);
  EXPECT_EQ(sender_.sent().size(), 4u);
}

TEST_F(WebhookNotifierTest, ARestartDeliversWhatWasMissedAndNotWhatWasDone) {
  apply(kHooks);
  {
    WebhookNotifier before(store_, options());
    start_rollout();
    settle(before);
    EXPECT_EQ(sender_.sent().size(), 1u);  // pre-rollout
  }  // killed here; then events the dead server never told anyone about
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, "health passed"));
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kAbort, "bob"));
  // A delivery under way when the process died: its record says "delivering".
  DeliveryRecord half;
  half.service = "shop";
  half.rollout = 1;
  half.seq = 3;
  half.hook = 1;
  half.url = "http://b.example/rollbacks";
  ASSERT_TRUE(store_.put(model::keys::webhook_delivery("shop", 1, 3, 1), encode(half)));
  WebhookNotifier after(store_, options());
  settle(after);
  auto sent = sender_.sent();
  EXPECT_EQ(sent.size(), 4u);
  EXPECT_EQ(std::count(sent.begin(), sent.end(), "http://a.example/all pre-rollout"), 1);
  EXPECT_EQ(std::count(sent.begin(), sent.end(), "http://b.example/rollbacks rollback"), 1);
  EXPECT_EQ(list_deliveries(store_, "shop", 1)->back().state, kDelivered);
}

TEST_F(WebhookNotifierTest, HistoryFromBeforeAHookExistedIsNotReplayed) {
  apply("");
  start_rollout();
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kAbort, "bob"));
  WebhookNotifier n(store_, options());
  settle(n);
  EXPECT_EQ(cursor(), "(none)");  // no hooks: no cursor
  apply(kHooks);                  // the hooks arrive after rollout 1
  settle(n);
  EXPECT_TRUE(sender_.sent().empty());
  EXPECT_EQ(cursor(), R"({"rollout":1,"seq":2})");
  start_rollout();
  settle(n);
  EXPECT_EQ(sender_.sent(), std::vector<std::string>{"http://a.example/all pre-rollout"});
  apply("");  // removed: the cursor goes, so adding them again replays nothing
  settle(n);
  EXPECT_EQ(cursor(), "(none)");
}

TEST_F(WebhookNotifierTest, FailuresAreRecordedAndAMissingSecretSendsNothing) {
  apply(kHooks);
  secret_set_ = false;
  sender_.status = 503;
  WebhookNotifier n(store_, options());
  start_rollout();
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kAbort, "bob"));
  settle(n);
  // Hook 0 (its secret missing) is never sent to; hook 1 tried 3 times.
  EXPECT_EQ(sender_.sent(), std::vector<std::string>(3, "http://b.example/rollbacks rollback"));
  auto deliveries = *list_deliveries(store_, "shop", 1);
  ASSERT_EQ(deliveries.size(), 3u);
  EXPECT_EQ(deliveries[0].state, kDropped);
  EXPECT_NE(deliveries[0].error.find("secret_env SHOP_HOOK_SECRET is not set"), std::string::npos);
  EXPECT_EQ(deliveries[2].state, kFailed);
  EXPECT_EQ(deliveries[2].attempts, 3u);
  EXPECT_EQ(deliveries[2].status, 503u);
  EXPECT_EQ(cursor(), R"({"rollout":1,"seq":2})");  // finished, if not delivered
  for (const auto& d : deliveries) {
    EXPECT_EQ(encode(d).find("s3cr3t"), std::string::npos);
  }
}

TEST_F(WebhookNotifierTest, AFullQueueDropsEventDeliveriesAndRecordsThem) {
  apply("[[service.rollout.webhook]]\nurl = \"http://slow.example/\"\nevents = [\"event\"]\n\n");
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  std::atomic<int> calls{0};
  auto o = options();
  o.queue = 1;
  o.send = [&](const PostRequest&) {
    ++calls;
    std::unique_lock lock(mutex);
    released_cv.wait(lock, [&] { return released; });
    return PostAnswer{200, "", ""};
  };
  WebhookNotifier n(store_, o);
  start_rollout();
  n.scan();  // seq 1 goes to the lane, which hangs on it
  for (int i = 0; i < 500 && calls == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(rollouts_.checks_done("shop", 1, true, "health passed"));
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kPause, "bob"));
  ASSERT_TRUE(rollouts_.command("shop", rollout::Command::kResume, "bob"));
  n.scan();  // seq 2 waits in the queue; 3 and 4 find it full
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  released_cv.notify_all();
  settle(n);
  EXPECT_EQ(calls, 2);
  auto deliveries = *list_deliveries(store_, "shop", 1);
  ASSERT_EQ(deliveries.size(), 4u);
  EXPECT_EQ(deliveries[1].state, kDelivered);
  EXPECT_EQ(deliveries[2].state, kDropped);
  EXPECT_EQ(deliveries[3].state, kDropped);
  EXPECT_EQ(deliveries[3].error, "dropped: 1 deliveries wait for this URL already");
  EXPECT_EQ(cursor(), R"({"rollout":1,"seq":4})");
}

TEST(ConfirmPromotion, EveryConfirmHookMustSayYes) {
  rollout::Policy p;
  p.webhooks = {hook("http://a/", {"confirm-promotion"}), hook("http://b/", {"rollback"}),
                hook("http://c/", {"confirm-promotion"}, "NOPE")};
  model::Rollout r;
  r.service = "shop";
  r.id = 2;
  r.plan.version = "v2";
  r.plan.strategy = *rollout::strategy_from_name("canary");
  std::vector<std::string> asked;
  unsigned answer = 403;
  Sender send = [&](const PostRequest& req) {
    asked.push_back(req.url);
    return PostAnswer{answer, "", ""};
  };
  auto secret = [](const std::string&) { return std::optional<std::string>("k"); };
  EXPECT_EQ(confirm_promotion(p, r, 1, 0, send, secret),
            "confirm-promotion http://a/ answered 403");
  answer = 200;
  EXPECT_EQ(confirm_promotion(p, r, 1, 0, send, secret), std::nullopt);
  EXPECT_EQ(asked, (std::vector<std::string>{"http://a/", "http://a/", "http://c/"}));
  auto none = [](const std::string&) { return std::optional<std::string>(); };
  EXPECT_NE(confirm_promotion(p, r, 1, 0, send, none)->find("secret_env NOPE is not set"),
            std::string::npos);
  EXPECT_EQ(confirm_promotion(rollout::Policy{}, r, 1, 0, send, secret), std::nullopt);
}

}  // namespace
}  // namespace rampart::control
