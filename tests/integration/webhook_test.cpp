// Rollout webhooks end to end: a real rampart with demo-app versions, and a receiving server
// started by the test on a loopback port that checks X-Rampart-Signature with the secret given
// to rampart's environment. A promoted rollout sends pre-rollout and post-rollout; a
// confirm-promotion hook that says no holds the step, then yes lets it go on; a hook that never
// answers does not delay an automatic rollback; the API lists the deliveries.

#include "rollout_support.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

namespace rampart::testing {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;
using namespace std::chrono_literals;

constexpr const char* kSecretEnv = "RAMPART_TEST_HOOK_SECRET";
constexpr const char* kSecret = "correct horse battery staple";

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &n);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", digest[i]);
    hex += b;
  }
  return hex;
}

struct Received {
  std::string path;
  std::string event;  // X-Rampart-Event
  std::string delivery;
  bool signature_ok = false;
  bool signed_ = false;
  json::value body;
};

// An HTTP server on 127.0.0.1:0, a thread per connection. Each path answers the status set
// for it (200 by default); "/hang" accepts, reads the request and never answers.
class Receiver {
 public:
  Receiver() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~Receiver() { stop(); }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  // Whether `path` accepts and never answers ("/hang" always does).
  void hang(const std::string& path, bool hangs) {
    {
      std::lock_guard lock(mutex_);
      hangs ? (void)hanging_.insert(path) : (void)hanging_.erase(path);
    }
    wake_.notify_all();
  }
  void answer(const std::string& path, unsigned status) {
    std::lock_guard lock(mutex_);
    status_[path] = status;
  }
  std::vector<Received> received(const std::string& path) {
    std::lock_guard lock(mutex_);
    std::vector<Received> out;
    for (const auto& r : received_) {
      if (r.path == path) {
        out.push_back(r);
      }
    }
    return out;
  }
  // Waits until `path` has received `n` requests (or 10 s pass).
  std::vector<Received> wait_for(const std::string& path, std::size_t n) {
    for (int i = 0; i < 1000 && received(path).size() < n; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    return received(path);
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
      stopping_ = true;
    }
    wake_.notify_all();
    boost::system::error_code ec;
    tcp::socket poke(ioc_);  // wakes the blocking accept
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    for (auto& t : connections_) {
      t.join();
    }
  }

 private:
  void accept_loop() {
    while (true) {
      tcp::socket s(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      std::lock_guard lock(mutex_);
      if (ec || stopping_) {
        return;
      }
      connections_.emplace_back([this, s = std::move(s)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(tcp::socket s) {
    boost::beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    boost::system::error_code ec;
    bhttp::read(s, buffer, req, ec);
    if (ec) {
      return;
    }
    Received r;
    r.path = std::string(req.target());
    r.event = std::string(req["X-Rampart-Event"]);
    r.delivery = std::string(req["X-Rampart-Delivery"]);
    const std::string signature(req["X-Rampart-Signature"]);
    r.signed_ = !signature.empty();
    r.signature_ok = signature == "sha256=" + hmac_hex(kSecret, req.body());
    r.body = json::parse(req.body(), ec);
    std::unique_lock lock(mutex_);
    received_.push_back(r);
    if (r.path == "/hang") {
      wake_.wait(lock, [this] { return stopping_; });
      return;
    }
    wake_.wait(lock, [&] { return stopping_ || !hanging_.contains(r.path); });
    bhttp::response<bhttp::string_body> res{
        static_cast<bhttp::status>(status_.count(r.path) ? status_[r.path] : 200), 11};
    lock.unlock();
    res.body() = "ok";
    res.prepare_payload();
    res.keep_alive(false);
    bhttp::write(s, res, ec);
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, unsigned> status_;
  std::set<std::string> hanging_;
  std::vector<Received> received_;
  std::vector<std::thread> connections_;
};

class WebhookTest : public ::testing::Test {
 protected:
  // shop with v1 (good, serving), v2 (good) and v3 (20% errors), the rollout policy and hooks.
  void start(const std::string& steps, const std::string& hooks) {
    ::setenv(kSecretEnv, kSecret, 1);  // inherited by the rampart process
    const int v1 = cluster.start_app("v1");
    const int v2 = cluster.start_app("v2");
    const int v3 = cluster.start_app("v3", {"--error-rate", "0.2"});
    cluster.start_gateway(service_config("shop", "\"/\"", "none",
                                         {{"v1", {v1}, 100}, {"v2", {v2}, 0}, {"v3", {v3}, 0}}) +
                          "[service.rollout]\nsteps = " + steps +
                          "\n[service.rollout.analysis]\ninterval = \"1s\"\nmin_requests = 20\n"
                          "[[service.rollout.analysis.check]]\nmetric = \"error_rate\"\n"
                          "max = 0.01\ncritical = 0.05\n\n" +
                          hooks);
  }

  json::array deliveries() {
    Reply r = shop.call("GET", "/api/v1/services/shop/rollouts/1/deliveries");
    EXPECT_EQ(r.status, 200u) << r.body;
    return json::parse(r.body).at("deliveries").as_array();
  }

  Receiver receiver;
  Cluster cluster;
  RolloutClient shop{cluster, "shop"};
};

TEST_F(WebhookTest, APromotedRolloutSendsSignedPreAndPostRollout) {
  start(R"([ { weight = 10, pause = "1s" }, { weight = 100 } ])",
        "[[service.rollout.webhook]]\nurl = \"" + receiver.url("/deploys") +
            "\"\nevents = [\"pre-rollout\", \"post-rollout\"]\nsecret_env = \"" + kSecretEnv +
            "\"\n");
  Traffic traffic(cluster, 1);
  shop.deploy("v2");
  ASSERT_EQ(shop.wait_final(), "promoted") << cluster.log();
  auto got = receiver.wait_for("/deploys", 2);
  ASSERT_EQ(got.size(), 2u) << cluster.log();
  EXPECT_EQ(got[0].event, "pre-rollout");
  EXPECT_EQ(got[1].event, "post-rollout");
  for (const auto& r : got) {
    EXPECT_TRUE(r.signed_);
    EXPECT_TRUE(r.signature_ok) << json::serialize(r.body);
    EXPECT_EQ(r.body.at("event").as_string(), r.event);
    EXPECT_EQ(r.body.at("service").as_string(), "shop");
    EXPECT_EQ(r.body.at("version").as_string(), "v2");
    EXPECT_EQ(r.body.at("stable").as_string(), "v1");
  }
  EXPECT_EQ(got[1].body.at("text").as_string(),
            ":white_check_mark: shop: v2 promoted to 100%: " +
                std::string(got[1].body.at("reason").as_string()));
  // Recorded, and listed by the API: delivered, and no secret anywhere.
  json::array listed;
  for (int i = 0; i < 100; ++i) {
    listed = deliveries();
    if (listed.size() == 2 && listed[1].at("state").as_string() == "delivered") {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(listed.size(), 2u) << json::serialize(listed);
  EXPECT_EQ(listed[0].at("kind").as_string(), "pre-rollout");
  EXPECT_EQ(listed[0].at("state").as_string(), "delivered");
  EXPECT_EQ(listed[0].at("status").to_number<std::int64_t>(), 200);
  EXPECT_EQ(listed[0].at("delivery").as_string(), got[0].delivery);
  EXPECT_EQ(listed[1].at("kind").as_string(), "post-rollout");
  EXPECT_EQ(json::serialize(listed).find(kSecret), std::string::npos);
  EXPECT_EQ(cluster.log().find(kSecret), std::string::npos);
  EXPECT_EQ(shop.call("GET", "/api/v1/services/shop").body.find(kSecret), std::string::npos);
}

TEST_F(WebhookTest, AConfirmPromotionThatSaysNoHoldsTheStepUntilItSaysYes) {
  receiver.answer("/confirm", 403);
  start(R"([ { weight = 10, pause = "1s" }, { weight = 100 } ])",
        "[[service.rollout.webhook]]\nurl = \"" + receiver.url("/confirm") +
            "\"\nevents = [\"confirm-promotion\"]\n");
  Traffic traffic(cluster, 1);
  shop.deploy("v2");
  std::this_thread::sleep_for(4s);  // four windows, three past the pause
  auto r = shop.latest();
  EXPECT_EQ(r.at("phase").as_string(), "progressing") << json::serialize(r);
  EXPECT_EQ(r.at("step").to_number<std::int64_t>(), 1);
  EXPECT_NE(std::string(r.at("reason").as_string())
                .find("held: confirm-promotion " + receiver.url("/confirm") + " answered 403"),
            std::string::npos)
      << json::serialize(r);
  auto asked = receiver.received("/confirm");
  ASSERT_GE(asked.size(), 1u);
  EXPECT_EQ(asked[0].event, "confirm-promotion");
  EXPECT_EQ(asked[0].body.at("step").to_number<std::int64_t>(), 2);  // the step it would move to
  EXPECT_EQ(asked[0].body.at("weight").to_number<std::int64_t>(), 100);
  receiver.answer("/confirm", 200);
  EXPECT_EQ(shop.wait_final(), "promoted") << cluster.log();  // asked again within 5 s
}

TEST_F(WebhookTest, AHookThatNeverAnswersDoesNotDelayARollback) {
  start(R"([ { weight = 10, pause = "1s" }, { weight = 50, pause = "1s" }, { weight = 100 } ])",
        "[[service.rollout.webhook]]\nurl = \"" + receiver.url("/hang") +
            "\"\nevents = [\"pre-rollout\", \"confirm-promotion\", \"rollback\", \"event\"]\n"
            "timeout = \"60s\"\n");
  Traffic traffic(cluster, 1);
  shop.deploy("v3");
  ASSERT_EQ(shop.wait_final(), "rolled_back") << cluster.log();
  std::int64_t started = 0, rolled_back = 0;
  const auto events = json::parse(shop.call("GET", "/api/v1/services/shop/rollouts/1/events").body);
  for (const auto& e : events.at("events").as_array()) {
    if (e.at("event").as_string() == "started") {
      started = unix_ms(e.at("at"));
    } else if (e.at("event").as_string() == "rolled_back") {
      rolled_back = unix_ms(e.at("at"));
    }
  }
  ASSERT_GT(started, 0);
  EXPECT_LE(rolled_back - started, 2000) << json::serialize(events);  // the interval and 1 s
  EXPECT_GE(receiver.wait_for("/hang", 1).size(), 1u);                // it was called, and hangs
  const auto listed = deliveries();
  ASSERT_GE(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("kind").as_string(), "pre-rollout");
  EXPECT_EQ(listed[0].at("state").as_string(), "delivering");
  EXPECT_TRUE(listed[0].at("finished_at").is_null());
}

TEST_F(WebhookTest, AfterKillNineTheDeliveryUnderWayIsMadeAgain) {
  receiver.hang("/later", true);
  start(R"([ { weight = 10, pause = "1s" }, { weight = 100 } ])",
        "[[service.rollout.webhook]]\nurl = \"" + receiver.url("/later") +
            "\"\nevents = [\"rollback\"]\ntimeout = \"60s\"\n");
  {
    Traffic traffic(cluster, 1);
    shop.deploy("v3");
    ASSERT_EQ(shop.wait_final(), "rolled_back") << cluster.log();
  }
  ASSERT_EQ(receiver.wait_for("/later", 1).size(), 1u) << cluster.log();
  EXPECT_EQ(deliveries().at(0).at("state").as_string(), "delivering");
  cluster.stop_gateway(SIGKILL);  // before the rollback's delivery was answered
  receiver.hang("/later", false);
  cluster.restart_gateway();
  auto got = receiver.wait_for("/later", 2);
  ASSERT_EQ(got.size(), 2u) << cluster.log();
  EXPECT_EQ(got[1].event, "rollback");
  EXPECT_EQ(got[1].delivery, got[0].delivery);  // the same id: the receiver can dedupe
  json::array listed;
  for (int i = 0; i < 200; ++i) {
    listed = deliveries();
    if (listed.size() == 1 && listed[0].at("state").as_string() == "delivered") {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("state").as_string(), "delivered") << json::serialize(listed);
}

}  // namespace
}  // namespace rampart::testing
