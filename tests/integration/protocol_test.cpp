// The gateway's protocol edges end to end: hostile framing, Host rules, version and connection
// semantics, answers of the gateway's own, against a real rampart and real demo-app upstreams.

#include "harness.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace rampart::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

class ProtocolTest : public ::testing::Test {
 protected:
  // One service on "/" with one version on one demo-app.
  void start(const std::string& limits = "") {
    app_port = cluster.start_app("v1");
    cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {app_port}, 100}}), "",
                          limits);
  }
  // The count the gateway's /metrics gives the rejection `reason`.
  long rejections(const std::string& reason) {
    const std::string metrics = cluster.admin().get("/metrics").body;
    const std::string key = "rampart_gateway_rejections_total{reason=\"" + reason + "\"} ";
    const auto at = metrics.find(key);
    return at == std::string::npos ? -1 : std::atol(metrics.c_str() + at + key.size());
  }

  Cluster cluster;
  int app_port = 0;
};

constexpr std::string_view kChunkedHead =
    "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

// Everything the server sends until it closes (or `timeout` passes), after `request`.
std::string exchange(asio::ip::tcp::socket& s, const std::string& request,
                     std::chrono::milliseconds timeout = 5s) {
  asio::write(s, asio::buffer(request));
  std::string all;
  const auto until = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  s.non_blocking(true);
  while (std::chrono::steady_clock::now() < until) {
    boost::system::error_code ec;
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    all.append(buf, n);
    if (ec) {
      break;
    }
  }
  return all;
}

std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Chunk framing that never ends (a size line with an extension, a trailer, a run of zeros),
// sent on several connections at once: each is refused after max_header_bytes of it, and the
// gateway's memory stays where it was (it used to buffer all of it: +129 MB for 64 MiB).
TEST_F(ProtocolTest, EndlessChunkFramingOnSeveralConnectionsKeepsMemoryBounded) {
  start();
  const long rss_before = cluster.gateway().rss_kib();
  const std::string kinds[] = {
      std::string(kChunkedHead) + "5;a=",                    // a size line with an extension
      std::string(kChunkedHead) + "3\r\nabc\r\n0\r\nX-T: ",  // a trailer
      std::string(kChunkedHead),                             // zeros
  };
  const std::size_t per_connection = std::size_t{24} << 20;
  std::atomic<int> cut_off{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < 6; ++i) {
    senders.emplace_back([&, i] {
      asio::io_context ioc;
      asio::ip::tcp::socket s = cluster.raw_socket(ioc);
      const std::string piece(1 << 20, i % 3 == 2 ? '0' : 'b');
      boost::system::error_code ec;
      asio::write(s, asio::buffer(kinds[i % 3]), ec);
      std::size_t sent = 0;
      while (!ec && sent < per_connection) {
        sent += asio::write(s, asio::buffer(piece), ec);
      }
      if (ec) {
        ++cut_off;
      }
    });
  }
  long rss_peak = rss_before;
  for (int i = 0; i < 100 && cut_off.load() < 6; ++i) {
    rss_peak = std::max(rss_peak, cluster.gateway().rss_kib());
    std::this_thread::sleep_for(20ms);
  }
  for (auto& t : senders) {
    t.join();
  }
  rss_peak = std::max(rss_peak, cluster.gateway().rss_kib());
  EXPECT_EQ(cut_off.load(), 6) << "a connection took all " << per_connection << " bytes";
  EXPECT_LT(rss_peak - rss_before, 16 * 1024)
      << "RSS grew from " << rss_before << " to " << rss_peak << " KiB";
  EXPECT_EQ(cluster.client().get("/").status, 200u);
}

TEST_F(ProtocolTest, AChunkSizeLineOverTheLimitIs400Json) {
  start("max_header_bytes = 4096");
  struct Case {
    std::string name;
    std::string raw;
    std::string detail;
  };
  const Case cases[] = {
      {"size line", std::string(kChunkedHead) + "5;a=" + std::string(6000, 'b'), "chunk-size line"},
      {"zeros", std::string(kChunkedHead) + std::string(6000, '0'), "chunk-size line"},
      {"trailer", std::string(kChunkedHead) + "3\r\nabc\r\n0\r\nX-T: " + std::string(6000, 't'),
       "trailer section"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    asio::io_context ioc;
    asio::ip::tcp::socket s = cluster.raw_socket(ioc);
    const std::string got = exchange(s, c.raw);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 400 ")) << got;
    EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
    const auto body = json::parse(body_of(got)).as_object();
    EXPECT_EQ(body.at("error").as_string(), "bad_request");
    EXPECT_NE(std::string(body.at("detail").as_string()).find(c.detail), std::string::npos) << body;
    EXPECT_NE(std::string(body.at("detail").as_string()).find("4096"), std::string::npos) << body;
  }
}

// `5;a="` + ("x" × 1022 + CRLF) × N: CR and LF cannot be in a quoted string, so the first line
// break is answered at once, before the rest is read (it used to be parsed quadratically).
TEST_F(ProtocolTest, ALineBreakInAQuotedChunkExtensionIs400AtOnce) {
  start("idle_timeout_ms = 30000");
  asio::io_context ioc;
  asio::ip::tcp::socket s = cluster.raw_socket(ioc);
  std::string raw = std::string(kChunkedHead) + "5;a=\"";
  for (int i = 0; i < 4; ++i) {
    raw += std::string(1022, 'x') + "\r\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::string got = exchange(s, raw, 10s);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400 ")) << got;
  EXPECT_NE(got.find("CR or LF inside a quoted chunk extension"), std::string::npos) << got;
  EXPECT_LT(took, 3s) << "the connection waited for more instead of answering";
}

TEST_F(ProtocolTest, HostMustComeOnceAndBeAnAuthority) {
  start();
  const std::string cases[] = {
      "GET /headers HTTP/1.1\r\nHost: example.org\r\nHost: down.local\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: a, b\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: a.example, evil.example\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: a b\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: a\tb\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: good.example/evil\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: good.example\r\n evil.example\r\n\r\n",  // obs-fold
      "GET /headers HTTP/1.1\r\nHost: good.example:abc\r\n\r\n",
      "GET http://a<b>/headers HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET http://a.example:abc/headers HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /headers HTTP/1.1\r\nHost: x\r\nX-Rampart-Version: v1\r\nX-Rampart-Version: v2\r\n\r\n",
  };
  for (const auto& raw : cases) {
    SCOPED_TRACE(raw);
    auto c = cluster.client();
    Reply r = c.raw(raw);
    EXPECT_EQ(r.status, 400u) << r.error << r.body;
    EXPECT_TRUE(r.closed);
    EXPECT_EQ(json::parse(r.body).at("error").as_string(), "bad_request") << r.body;
  }
  EXPECT_EQ(cluster.client().get("/").status, 200u);
}

// The forwarded request always carries the Host it was routed on, once.
TEST_F(ProtocolTest, TheUpstreamAlwaysGetsTheHostTheRequestWasRoutedOn) {
  start();
  {
    auto c = cluster.client();
    Reply r = c.raw("GET /headers HTTP/1.1\r\nHost: shop.example.com\r\nConnection: Host\r\n\r\n");
    ASSERT_EQ(r.status, 200u) << r.error << r.body;
    auto h = json::parse(r.body).as_object();
    EXPECT_EQ(h.at("host").as_string(), "shop.example.com");
  }
  {
    // HTTP/1.0 without Host: out as HTTP/1.1 with the upstream's authority.
    auto c = cluster.client();
    Reply r = c.raw("GET /headers HTTP/1.0\r\n\r\n");
    ASSERT_EQ(r.status, 200u) << r.error << r.body;
    auto h = json::parse(r.body).as_object();
    EXPECT_EQ(h.at("host").as_string(), "127.0.0.1:" + std::to_string(app_port));
    EXPECT_FALSE(h.contains("x-forwarded-host"));
  }
}

TEST_F(ProtocolTest, Http10WithTransferEncodingIs400AndClosed) {
  start();
  for (const std::string coding : {"chunked", "gzip, chunked"}) {
    SCOPED_TRACE(coding);
    auto c = cluster.client();
    Reply r =
        c.raw("POST /count HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: " + coding +
              "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(r.status, 400u) << r.error << r.body;
    EXPECT_TRUE(r.closed);
    EXPECT_NE(r.body.find("Transfer-Encoding on an HTTP/1.0 request"), std::string::npos) << r.body;
  }
}

TEST_F(ProtocolTest, AnHttp10ClientGetsNo100Continue) {
  start();
  asio::io_context ioc;
  asio::ip::tcp::socket s = cluster.raw_socket(ioc);
  asio::write(s, asio::buffer(std::string(
                     "POST /count HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")));
  std::this_thread::sleep_for(200ms);  // long enough for an upstream connection and a 100
  const std::string got = exchange(s, "hello");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got;
  EXPECT_EQ(got.find("100 Continue"), std::string::npos) << got;
  EXPECT_NE(got.find("\"bytes\":5"), std::string::npos) << got;
}

TEST_F(ProtocolTest, UnderscoreTwinsOfFramingAndForwardingFieldsAreNotForwarded) {
  start();
  auto c = cluster.client("127.0.0.9");
  Reply r = c.raw(
      "POST /headers HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent_Length: 10\r\n"
      "Transfer_Encoding: chunked\r\nX_Forwarded_For: 192.0.2.66\r\nX_Custom: kept\r\n\r\nabc");
  ASSERT_EQ(r.status, 200u) << r.error << r.body;
  auto h = json::parse(r.body).as_object();
  EXPECT_FALSE(h.contains("content_length")) << r.body;
  EXPECT_FALSE(h.contains("transfer_encoding")) << r.body;
  EXPECT_FALSE(h.contains("x_forwarded_for")) << r.body;
  EXPECT_EQ(h.at("x_custom").as_string(), "kept");
  EXPECT_EQ(h.at("content-length").as_string(), "3");
  EXPECT_EQ(h.at("x-forwarded-for").as_string(), "127.0.0.9");
}

TEST_F(ProtocolTest, Http12IsServedAsHttp11AndEmptyLinesBeforeARequestAreIgnored) {
  start();
  {
    auto c = cluster.client();
    Reply r = c.raw("GET /count HTTP/1.2\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 200u) << r.error << r.body;
    EXPECT_FALSE(r.closed);
  }
  {
    // A CRLF after a body, then the next request on the same connection.
    auto c = cluster.client();
    Reply first = c.raw("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n");
    ASSERT_EQ(first.status, 200u) << first.error << first.body;
    Reply second = c.get("/count");
    EXPECT_EQ(second.status, 200u) << second.error << second.body;
  }
}

TEST_F(ProtocolTest, AHeaderThatDoesNotArriveInTimeIs408JsonThenClosed) {
  start("header_timeout_ms = 300");
  asio::io_context ioc;
  asio::ip::tcp::socket s = cluster.raw_socket(ioc);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string got = exchange(s, "GET / HTTP/1.1\r\nHost: x\r\n");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408 ")) << got;
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
  const auto body = json::parse(body_of(got)).as_object();
  EXPECT_EQ(body.at("error").as_string(), "request_timeout");
  EXPECT_EQ(body.at("detail").as_string(), "the request header did not arrive within 300 ms");
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  EXPECT_EQ(rejections("request_timeout"), 1);
}

TEST_F(ProtocolTest, ALongTargetIs414AndABareLfIsNamed) {
  start("max_header_bytes = 4096");
  {
    auto c = cluster.client();
    Reply r = c.get("/" + std::string(20000, 'a'));
    EXPECT_EQ(r.status, 414u) << r.error << r.body;
    EXPECT_EQ(json::parse(r.body).at("error").as_string(), "uri_too_long");
  }
  {
    auto c = cluster.client();
    Reply r = c.get("/", {{"X-Big", std::string(5000, 'a')}});
    EXPECT_EQ(r.status, 431u) << r.error << r.body;
  }
  {
    auto c = cluster.client();
    Reply r = c.raw("GET / HTTP/1.1\nHost: x\n\n");
    EXPECT_EQ(r.status, 400u) << r.error << r.body;
    EXPECT_EQ(json::parse(r.body).at("detail").as_string(),
              "malformed request: the request line ends in a bare LF, not CRLF");
  }
  EXPECT_EQ(rejections("uri_too_long"), 1);
  EXPECT_EQ(rejections("header_too_large"), 1);
}

// An upstream that answers 101 anyway (the gateway removed Upgrade): a clear 502, counted
// under its own reason.
TEST_F(ProtocolTest, AnUpstreamThatSwitchesProtocolsGets502UpgradeNotSupported) {
  asio::io_context upstream_ioc;
  asio::ip::tcp::acceptor acceptor(upstream_ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const int port = acceptor.local_endpoint().port();
  std::thread upstream([&] {
    asio::ip::tcp::socket s(upstream_ioc);
    acceptor.accept(s);
    char buf[4096];
    s.read_some(asio::buffer(buf));
    asio::write(
        s, asio::buffer(std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                    "Connection: Upgrade\r\n\r\n")));
    boost::system::error_code ec;
    s.read_some(asio::buffer(buf), ec);  // until the gateway drops the connection
  });
  cluster.start_gateway(service_config("ws", "\"/\"", "none", {{"v1", {port}, 100}}));
  auto c = cluster.client();
  Reply r =
      c.raw("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  upstream.join();
  EXPECT_EQ(r.status, 502u) << r.error << r.body;
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "upgrade_not_supported");
  EXPECT_NE(std::string(body.at("detail").as_string()).find("does not proxy protocol upgrades"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(body.at("service").as_string(), "ws");
  EXPECT_EQ(rejections("upgrade_not_supported"), 1);
  EXPECT_EQ(rejections("upstream_reset"), 0);
}

// Every error code the gateway answers with is counted under a reason label of its own.
TEST_F(ProtocolTest, RejectionsAreCountedUnderTheirOwnErrorCode) {
  start();
  auto c = cluster.client();
  EXPECT_EQ(c.get("/broken/bad-chunk").status, 502u);
  auto c2 = cluster.client();
  EXPECT_EQ(c2.raw("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                   "3\r\nabc\r\n0\r\n\r\n")
                .status,
            501u);
  EXPECT_EQ(rejections("upstream_reset"), 1);
  EXPECT_EQ(rejections("upstream_unavailable"), 0);
  EXPECT_EQ(rejections("unsupported_transfer_coding"), 1);
  EXPECT_EQ(rejections("bad_request"), 0);
}

}  // namespace
}  // namespace rampart::testing
