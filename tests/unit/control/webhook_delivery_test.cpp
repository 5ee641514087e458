// Webhook delivery: the signature against RFC 4231's vectors, the retry policy (backoff,
// Retry-After in both forms, what is final), deliver() with a fake sender and sleeper, and
// http_post's deadline and cancellation against a peer that never answers.

#include "control/webhook_delivery.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <atomic>
#include <deque>

namespace rampart::control {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::int64_t kNow = 1'445'412'480'000;  // Wed, 21 Oct 2015 07:28:00 GMT

TEST(Signature, MatchesRfc4231) {
  // Test case 1: a 20-byte key of 0x0b.
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(hmac_sha256_hex(std::string(131, '\xaa'),
                            "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Signature, IsSentWithASecretOnly) {
  Delivery d{.url = "http://h/", .kind = "rollback", .id = "shop-1-2-0", .body = "{}"};
  Headers h = delivery_headers(d);
  auto find = [&](std::string_view name) -> std::string {
    for (const auto& [n, v] : h) {
      if (n == name) {
        return v;
      }
    }
    return "(none)";
  };
  EXPECT_EQ(find("Content-Type"), "application/json");
  EXPECT_EQ(find("User-Agent"), "rampart/0.1");
  EXPECT_EQ(find("X-Rampart-Event"), "rollback");
  EXPECT_EQ(find("X-Rampart-Delivery"), "shop-1-2-0");
  EXPECT_EQ(find("X-Rampart-Signature"), "(none)");
  d.secret = "Jefe";
  d.body = "what do ya want for nothing?";
  h = delivery_headers(d);
  EXPECT_EQ(find("X-Rampart-Signature"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(RetryPolicy, BackoffDoublesUpToTheCap) {
  EXPECT_EQ(backoff(1), seconds(1));
  EXPECT_EQ(backoff(2), seconds(2));
  EXPECT_EQ(backoff(3), seconds(4));
  EXPECT_EQ(backoff(6), seconds(32));
  EXPECT_EQ(backoff(7), kMaxRetryWait);
  EXPECT_EQ(backoff(40), kMaxRetryWait);
}

TEST(RetryPolicy, RetryAfterInSecondsOrAsAnHttpDate) {
  struct Case {
    const char* value;
    std::optional<milliseconds> wait;
  };
  const Case cases[] = {
      {"120", kMaxRetryWait},  // capped
      {"3", seconds(3)},
      {" 0 ", seconds(0)},
      {"Wed, 21 Oct 2015 07:28:10 GMT", seconds(10)},
      {"Wed, 21 Oct 2015 07:27:00 GMT", seconds(0)},  // in the past
      {"Thu, 22 Oct 2015 07:28:00 GMT", kMaxRetryWait},
      {"", std::nullopt},
      {"-1", std::nullopt},
      {"1.5", std::nullopt},
      {"soon", std::nullopt},
      {"Wed, 21 Oct 2015 07:28:10 CET", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse_retry_after(c.value, kNow), c.wait) << c.value;
  }
}

TEST(RetryPolicy, WhatIsRetriedAndWhatIsFinal) {
  struct Case {
    unsigned status;
    std::uint32_t attempt;
    std::optional<milliseconds> retry_after;
    std::optional<milliseconds> wait;
  };
  const Case cases[] = {
      {0, 1, std::nullopt, seconds(1)},    // no answer: back off
      {503, 2, std::nullopt, seconds(2)},  // 5xx
      {500, 1, seconds(7), seconds(7)},    // Retry-After replaces the backoff
      {429, 1, seconds(30), seconds(30)},   {429, 1, std::nullopt, seconds(1)},
      {503, 3, std::nullopt, std::nullopt},  // the last of 3 tries
      {404, 1, std::nullopt, std::nullopt},  // other 4xx are final
      {403, 1, seconds(5), std::nullopt},   {200, 1, std::nullopt, std::nullopt},
      {301, 1, std::nullopt, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(retry_wait(c.status, c.attempt, 3, c.retry_after), c.wait)
        << c.status << " attempt " << c.attempt;
  }
}

// A sender that answers from a script and remembers what it was sent.
struct Script {
  std::deque<PostAnswer> answers;
  std::vector<PostRequest> sent;
  std::vector<milliseconds> slept;

  Sender sender() {
    return [this](const PostRequest& r) {
      sent.push_back(r);
      PostAnswer a = answers.front();
      answers.pop_front();
      return a;
    };
  }
  Sleeper sleeper(bool go_on = true) {
    return [this, go_on](milliseconds d) {
      slept.push_back(d);
      return go_on;
    };
  }
};

Delivery delivery(std::uint32_t tries) {
  return Delivery{.url = "https://hooks.example.com/x",
                  .kind = "rollback",
                  .id = "shop-1-2-0",
                  .body = R"({"event":"rollback"})",
                  .secret = "k",
                  .timeout = milliseconds(250),
                  .tries = tries};
}

TEST(Deliver, RetriesA503WithBackoffAndHonoursRetryAfterOnA429) {
  Script s;
  s.answers = {{503, "", ""}, {429, "", "5"}, {0, "connection refused", ""}, {204, "", ""}};
  auto out = deliver(delivery(4), s.sender(), s.sleeper(), [] { return kNow; });
  EXPECT_TRUE(out.delivered);
  EXPECT_EQ(out.attempts, 4u);
  EXPECT_EQ(out.status, 204u);
  EXPECT_EQ(s.slept, (std::vector<milliseconds>{seconds(1), seconds(5), seconds(4)}));
  ASSERT_EQ(s.sent.size(), 4u);
  EXPECT_EQ(s.sent[0].timeout, milliseconds(250));
  EXPECT_EQ(s.sent[0].body, s.sent[3].body);
  EXPECT_EQ(s.sent[0].headers, s.sent[3].headers);  // the same delivery id and signature
}

TEST(Deliver, A404IsFinalAndTheLastTryIsTheLast) {
  Script s;
  s.answers = {{404, "", ""}};
  auto out = deliver(delivery(3), s.sender(), s.sleeper(), [] { return kNow; });
  EXPECT_FALSE(out.delivered);
  EXPECT_EQ(out.attempts, 1u);
  EXPECT_EQ(out.status, 404u);
  EXPECT_TRUE(s.slept.empty());

  Script t;
  t.answers = {{500, "", ""}, {502, "", ""}};
  out = deliver(delivery(2), t.sender(), t.sleeper(), [] { return kNow; });
  EXPECT_EQ(out.attempts, 2u);
  EXPECT_EQ(out.status, 502u);
  EXPECT_EQ(t.slept.size(), 1u);
}

TEST(Deliver, AStopDuringTheWaitEndsIt) {
  Script s;
  s.answers = {{0, "timed out after 250 ms", ""}};
  auto out = deliver(delivery(3), s.sender(), s.sleeper(/*go_on=*/false), [] { return kNow; });
  EXPECT_FALSE(out.delivered);
  EXPECT_EQ(out.attempts, 1u);
  EXPECT_EQ(out.error, "timed out after 250 ms; stopped before attempt 2");
}

// A peer that accepts connections (the kernel does, from the backlog) and never answers.
class SilentPeer {
 public:
  SilentPeer() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {}
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

TEST(HttpPost, ADeadlineBoundsAnAttemptToAPeerThatNeverAnswers) {
  SilentPeer peer;
  const auto t0 = std::chrono::steady_clock::now();
  auto a = http_post(PostRequest{peer.url(), {}, "{}", milliseconds(300)});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(a.status, 0u);
  EXPECT_EQ(a.error, "timed out after 300 ms");
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(1500));
}

TEST(HttpPost, ACancelEndsAnAttemptWithinMilliseconds) {
  SilentPeer peer;
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(100));
    cancelled = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto a =
      http_post(PostRequest{peer.url(), {}, "{}", seconds(30)}, [&] { return cancelled.load(); });
  canceller.join();
  EXPECT_EQ(a.error, "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(2));
}

TEST(HttpPost, ABadUrlAndARefusedConnectionAreErrorsNotThrows) {
  EXPECT_NE(http_post(PostRequest{"ftp://x/", {}, "", milliseconds(100)}).error, "");
  auto refused = http_post(PostRequest{"http://127.0.0.1:1/", {}, "", milliseconds(1000)});
  EXPECT_EQ(refused.status, 0u);
  EXPECT_NE(refused.error, "");
}

// A TLS server on loopback with a certificate no system CA signed: it handshakes once.
class SelfSignedPeer {
 public:
  SelfSignedPeer()
      : ctx_(boost::asio::ssl::context::tls_server),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    SSL_CTX_use_certificate(ctx_.native_handle(), cert);
    SSL_CTX_use_PrivateKey(ctx_.native_handle(), key);
    X509_free(cert);
    EVP_PKEY_free(key);
    thread_ = std::thread([this] {
      boost::asio::ip::tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket> tls(std::move(socket), ctx_);
      tls.handshake(boost::asio::ssl::stream_base::server, ec);  // the client gives up
    });
  }
  ~SelfSignedPeer() { thread_.join(); }
  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

TEST(HttpPost, HttpsVerifiesThePeerAgainstTheSystemsCertificates) {
  SelfSignedPeer peer;
  auto a = http_post(PostRequest{peer.url(), {}, "{}", seconds(5)});
  EXPECT_EQ(a.status, 0u);
  EXPECT_NE(a.error.find("certificate verify failed"), std::string::npos) << a.error;
}

}  // namespace
}  // namespace rampart::control
