// The gateway end to end: a real rampart process in front of real demo-app upstreams.

#include "harness.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <map>
#include <thread>

namespace rampart::testing {
namespace {

namespace json = boost::json;

class GatewayTest : public ::testing::Test {
 protected:
  Cluster cluster;
};

TEST_F(GatewayTest, SplitHonouredWithinTwoPercent) {
  int v1 = cluster.start_app("v1");
  int v2 = cluster.start_app("v2");
  cluster.start_gateway(
      service_config("shop", "\"/\"", "none", {{"v1", {v1}, 90}, {"v2", {v2}, 10}}));
  auto c = cluster.client();
  std::map<std::string, int> seen;
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    Reply r = c.get("/item/" + std::to_string(i));
    ASSERT_EQ(r.status, 200u) << r.error << r.body;
    // The answer names the version both in the gateway's header and in the app's own.
    ASSERT_EQ(r.header("X-Rampart-Version"), r.header("X-Demo-Name"));
    seen[r.header("X-Rampart-Version")]++;
  }
  EXPECT_NEAR(seen["v2"], n * 0.10, n * 0.02);
  EXPECT_NEAR(seen["v1"], n * 0.90, n * 0.02);
  EXPECT_EQ(seen["v1"] + seen["v2"], n);
}

TEST_F(GatewayTest, StickyClientStaysOnCanaryAsItGrows) {
  int v1 = cluster.start_app("v1");
  int v2 = cluster.start_app("v2");
  auto config = [&](double canary) {
    return service_config("shop", "\"/\"", "ip",
                          {{"v1", {v1}, 100 - canary}, {"v2", {v2}, canary}});
  };
  cluster.start_gateway(config(10));
  // 200 clients on distinct loopback source addresses.
  std::vector<std::string> ips;
  for (int i = 2; i < 202; ++i) {
    ips.push_back("127.0.0." + std::to_string(i));
  }
  auto version_of = [&](const std::string& ip) {
    auto c = cluster.client(ip);
    Reply first = c.get("/");
    EXPECT_EQ(first.status, 200u) << first.error;
    // The same client gets the same version every time.
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(c.get("/again").header("X-Rampart-Version"), first.header("X-Rampart-Version"));
    }
    return first.header("X-Rampart-Version");
  };
  std::vector<std::string> canary_at_10;
  for (const auto& ip : ips) {
    if (version_of(ip) == "v2") canary_at_10.push_back(ip);
  }
  // ~10% of 200; a loose bound that still fails if stickiness were ignored.
  EXPECT_GE(canary_at_10.size(), 5u);
  EXPECT_LE(canary_at_10.size(), 45u);

  cluster.reload(config(50));
  int at_50 = 0;
  for (const auto& ip : ips) {
    at_50 += version_of(ip) == "v2";
  }
  for (const auto& ip : canary_at_10) {
    EXPECT_EQ(version_of(ip), "v2") << ip << " left the canary at 50%";
  }
  EXPECT_GT(at_50, static_cast<int>(canary_at_10.size()));

  cluster.reload(config(100));
  for (const auto& ip : ips) {
    EXPECT_EQ(version_of(ip), "v2");
  }
}

TEST_F(GatewayTest, OverrideHeaderPinsAVersion) {
  int v1 = cluster.start_app("v1");
  int v2 = cluster.start_app("v2");
  cluster.start_gateway(
      service_config("shop", "\"/\"", "ip", {{"v1", {v1}, 100}, {"v2", {v2}, 0}}));
  auto c = cluster.client();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(c.get("/").header("X-Rampart-Version"), "v1");
    Reply pinned = c.get("/", {{"X-Rampart-Version", "v2"}});
    EXPECT_EQ(pinned.status, 200u);
    EXPECT_EQ(pinned.header("X-Rampart-Version"), "v2");
    EXPECT_EQ(pinned.header("X-Demo-Name"), "v2");
  }
  Reply bad = c.get("/", {{"X-Rampart-Version", "v9"}});
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.header("Content-Type"), "application/json");
  auto body = json::parse(bad.body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "version_not_deployed");
  EXPECT_EQ(body.at("service").as_string(), "shop");
  EXPECT_NE(std::string(body.at("detail").as_string()).find("v9"), std::string::npos);
  // The connection survives a rejected request without a body.
  EXPECT_EQ(c.get("/").status, 200u);
}

TEST_F(GatewayTest, NoRouteIsJson404) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(
      service_config("shop", "\"shop.example.com/\", \"/shop/\"", "none", {{"v1", {v1}, 100}}));
  auto c = cluster.client();
  Reply r = c.get("/other");
  EXPECT_EQ(r.status, 404u);
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "no_route");
  EXPECT_TRUE(body.at("service").is_null());
  EXPECT_EQ(c.get("/shop/x").status, 200u);
  EXPECT_EQ(c.get("/x", {{"Host", "shop.example.com"}}).status, 200u);
}

TEST_F(GatewayTest, ForwardsHeadersAndDropsHopByHop) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  auto c = cluster.client("127.0.0.9");
  Reply r = c.get("/headers", {{"Connection", "keep-alive, X-Secret"},
                               {"X-Secret", "hop"},
                               {"Keep-Alive", "timeout=5"},
                               {"X-Forwarded-For", "203.0.113.7"},
                               {"X-Custom", "kept"}});
  ASSERT_EQ(r.status, 200u) << r.error;
  auto h = json::parse(r.body).as_object();
  EXPECT_FALSE(h.contains("x-secret"));
  EXPECT_FALSE(h.contains("keep-alive"));
  EXPECT_EQ(h.at("x-custom").as_string(), "kept");
  EXPECT_EQ(h.at("x-forwarded-for").as_string(), "203.0.113.7, 127.0.0.9");
  EXPECT_EQ(h.at("x-forwarded-proto").as_string(), "http");
  EXPECT_EQ(h.at("x-forwarded-host").as_string(), "127.0.0.1:" + std::to_string(cluster.port()));
  // Responses carry the version and no hop-by-hop fields of the upstream's.
  EXPECT_EQ(r.header("X-Rampart-Version"), "v1");
  EXPECT_EQ(r.header("Keep-Alive"), "");
}

// RFC 9112 §3.2.2: the authority of an absolute-form target routes and becomes the Host the
// upstream gets; the target goes out in origin form.
TEST_F(GatewayTest, AnAbsoluteFormTargetRoutesByItsAuthorityAndGoesOutInOriginForm) {
  int shop = cluster.start_app("shop-v1");
  int other = cluster.start_app("other-v1");
  cluster.start_gateway(
      service_config("shop", "\"shop.example.com/\"", "none", {{"v1", {shop}, 100}}) +
      service_config("other", "\"/\"", "none", {{"o1", {other}, 100}}));
  auto c = cluster.client();
  Reply r =
      c.raw("GET HTTP://Shop.Example.com:8080/headers?x=1 HTTP/1.1\r\nHost: elsewhere\r\n\r\n");
  ASSERT_EQ(r.status, 200u) << r.error << r.body;
  EXPECT_EQ(r.header("X-Rampart-Version"), "v1");
  // The demo app answers /headers with the request's fields: it saw the path, not the URI.
  auto h = json::parse(r.body).as_object();
  EXPECT_EQ(h.at("host").as_string(), "Shop.Example.com:8080");
  EXPECT_EQ(h.at("x-forwarded-host").as_string(), "Shop.Example.com:8080");

  // A URI with userinfo, or of another scheme, is refused.
  for (const std::string target : {"http://user@shop.example.com/", "https://shop.example.com/"}) {
    auto c = cluster.client();
    Reply r = c.get(target);
    EXPECT_EQ(r.status, 400u) << target << ": " << r.body;
    EXPECT_NE(r.body.find("\"bad_request\""), std::string::npos) << r.body;
  }
}

// Equal Content-Length values (repeated, or as a list) are one length to the gateway; the
// upstream gets one Content-Length field, so no upstream can read the framing differently.
TEST_F(GatewayTest, RepeatedEqualContentLengthsGoOutAsOne) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  for (const std::string fields :
       {"Content-Length: 3, 3\r\n", "Content-Length: 3\r\nContent-Length: 3\r\n"}) {
    auto c = cluster.client();
    Reply r = c.raw("POST /headers HTTP/1.1\r\nHost: x\r\n" + fields + "\r\nabc");
    ASSERT_EQ(r.status, 200u) << fields << r.error << r.body;
    // The demo app joins repeated fields with ", ": one "3" means one field.
    EXPECT_EQ(json::parse(r.body).at("content-length").as_string(), "3") << fields;
  }
}

// An upstream that breaks the protocol before any of its answer reached the client gets the
// client a 502 of the gateway's own, never a re-framed answer, and the client's connection
// stays usable. One that breaks off after part of its body went out is cut off for the client
// too, where its Content-Length tells it so.
TEST_F(GatewayTest, AnUpstreamThatBreaksTheProtocolGets502) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  auto c = cluster.client();
  const std::pair<std::string, std::string> cases[] = {
      {"/broken/bad-chunk", "malformed or cut short: bad chunk"},
      {"/broken/transfer-coding", "Transfer-Encoding"},
  };
  for (const auto& [path, detail] : cases) {
    Reply r = c.get(path);
    ASSERT_EQ(r.status, 502u) << path << ": " << r.error << r.body;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("error").as_string(), "upstream_reset") << path;
    EXPECT_NE(std::string(body.at("detail").as_string()).find(detail), std::string::npos)
        << path << ": " << r.body;
    EXPECT_EQ(body.at("service").as_string(), "shop");
    EXPECT_EQ(body.at("version").as_string(), "v1");
    Reply ok = c.get("/health");  // the same client connection
    EXPECT_EQ(ok.status, 200u) << path << ": " << ok.error;
  }

  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s = cluster.raw_socket(ioc);
  boost::asio::write(
      s, boost::asio::buffer(std::string("GET /broken/cut-body HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string all;
  boost::system::error_code ec;
  char buf[8192];
  while (!ec) {
    std::size_t n = s.read_some(boost::asio::buffer(buf), ec);
    all.append(buf, n);
  }
  EXPECT_EQ(ec, boost::asio::error::eof);
  auto end = all.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << all;
  EXPECT_TRUE(all.starts_with("HTTP/1.1 200")) << all;
  EXPECT_NE(all.find("Content-Length: 100\r\n"), std::string::npos) << all;
  EXPECT_EQ(all.substr(end + 4), "0123456789");

  const std::string metrics = cluster.admin().get("/metrics").body;
  EXPECT_NE(metrics.find(
                R"(rampart_upstream_failures_total{service="shop",version="v1",kind="reset"} 3)"),
            std::string::npos)
      << metrics;
}

// An HTTP/1.0 client that asks to keep the connection is told it is kept, and it is.
TEST_F(GatewayTest, Http10KeepAliveIsAnswered) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  auto c = cluster.client();
  for (int i = 0; i < 2; ++i) {
    Reply r = c.raw("GET /count HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_EQ(r.status, 200u) << "request " << i << ": " << r.error;
    EXPECT_EQ(r.header("Connection"), "keep-alive");
    EXPECT_FALSE(r.closed) << "request " << i;
  }
}

TEST_F(GatewayTest, HeadNoContentAndNotModifiedHaveNoBody) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  auto c = cluster.client();
  Reply head = c.request("HEAD", "/bytes/1000");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header("Content-Length"), "1000");
  EXPECT_TRUE(head.body.empty());
  Reply chunked_head = c.request("HEAD", "/chunked/100000");
  EXPECT_EQ(chunked_head.status, 200u);
  Reply nc = c.get("/status/204");
  EXPECT_EQ(nc.status, 204u);
  EXPECT_TRUE(nc.body.empty());
  Reply nm = c.get("/status/304");
  EXPECT_EQ(nm.status, 304u);
  EXPECT_TRUE(nm.body.empty());
  // Still in sync on the same connection after all of them.
  Reply after = c.get("/bytes/10");
  EXPECT_EQ(after.status, 200u);
  EXPECT_EQ(after.body, "abcdefghij");
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST_F(GatewayTest, StreamsBodiesBothWays) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  auto c = cluster.client();
  Reply sized = c.get("/bytes/3000000");
  ASSERT_EQ(sized.status, 200u) << sized.error;
  EXPECT_EQ(sized.body, pattern(3000000));
  Reply chunked = c.get("/chunked/1000003");
  ASSERT_EQ(chunked.status, 200u) << chunked.error;
  EXPECT_EQ(chunked.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(chunked.body, pattern(1000003));

  // Upload with Content-Length: the app counts what arrived.
  std::string upload = pattern(5 * 1024 * 1024 + 7);
  Reply counted = c.request("POST", "/count", {}, upload);
  ASSERT_EQ(counted.status, 200u) << counted.error;
  EXPECT_EQ(json::parse(counted.body).at("bytes").to_number<int64_t>(),
            static_cast<int64_t>(upload.size()));

  // Chunked upload, written raw.
  std::string raw = "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::size_t total = 0;
  for (int i = 1; i <= 50; ++i) {
    std::string piece = pattern(static_cast<std::size_t>(i) * 1000);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    raw += size + piece + "\r\n";
    total += piece.size();
  }
  raw += "0\r\n\r\n";
  Reply chunked_up = c.raw(raw);
  ASSERT_EQ(chunked_up.status, 200u) << chunked_up.error << chunked_up.body;
  EXPECT_EQ(json::parse(chunked_up.body).at("bytes").to_number<int64_t>(),
            static_cast<int64_t>(total));
}

// Reads a large response through a raw socket without keeping it, so the test itself stays small.
TEST_F(GatewayTest, OneGibDownloadWithBoundedMemory) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  const long rss_before = cluster.gateway().rss_kib();
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s = cluster.raw_socket(ioc);
  const std::size_t size = std::size_t{1} << 30;
  std::string req = "GET /bytes/" + std::to_string(size) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  std::vector<char> buf(1 << 20);
  std::size_t received = 0;
  std::string head;
  std::size_t body = 0;
  long rss_peak = rss_before;
  boost::system::error_code ec;
  while (body < size) {
    std::size_t n = s.read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    received += n;
    if (head.find("\r\n\r\n") == std::string::npos) {
      head.append(buf.data(), n);
      auto end = head.find("\r\n\r\n");
      if (end != std::string::npos) body = head.size() - end - 4;
    } else {
      body += n;
    }
    if ((received & ((64u << 20) - 1)) < n)
      rss_peak = std::max(rss_peak, cluster.gateway().rss_kib());
  }
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(body, size);
  EXPECT_NE(head.find("200 OK"), std::string::npos);
  // The gateway relays through fixed buffers: far less than the body stays resident.
  EXPECT_LT(rss_peak - rss_before, 64 * 1024)
      << "RSS grew from " << rss_before << " to " << rss_peak << " KiB";
}

TEST_F(GatewayTest, Http10ClientGetsAClosedDelimitedBodyInsteadOfChunks) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s = cluster.raw_socket(ioc);
  boost::asio::write(s, boost::asio::buffer(std::string("GET /chunked/70000 HTTP/1.0\r\n\r\n")));
  std::string all;
  boost::system::error_code ec;
  char buf[8192];
  while (!ec) {
    std::size_t n = s.read_some(boost::asio::buffer(buf), ec);
    all.append(buf, n);
  }
  auto end = all.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << all;
  std::string head = all.substr(0, end);
  EXPECT_EQ(head.find("chunked"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;
  EXPECT_EQ(all.substr(end + 4), pattern(70000));
}

TEST_F(GatewayTest, SlowUpstreamGets504) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}), "",
                        "response_timeout_ms = 300");
  auto c = cluster.client();
  auto t0 = std::chrono::steady_clock::now();
  Reply r = c.get("/sleep/3000");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 504u);
  EXPECT_EQ(json::parse(r.body).at("error").as_string(), "upstream_timeout");
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.get("/sleep/10").status, 200u);
}

int free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();  // closed on return: nothing listens there
}

TEST_F(GatewayTest, RefusedUpstreamIsRetriedElsewhereOr502) {
  int live = cluster.start_app("v1");
  int dead = free_port();
  int dead2 = free_port();
  cluster.start_gateway(service_config("shop", "\"/shop/\"", "none", {{"v1", {dead, live}, 100}},
                                       "balance = \"round_robin\"\neject_after = 1000") +
                        service_config("gone", "\"/gone/\"", "none", {{"g1", {dead2}, 100}}));
  auto c = cluster.client();
  for (int i = 0; i < 50; ++i) {
    Reply r = c.get("/shop/" + std::to_string(i));
    ASSERT_EQ(r.status, 200u) << "request " << i << ": " << r.error << r.body;
  }
  Reply gone = c.get("/gone/x");
  EXPECT_EQ(gone.status, 502u);
  auto body = json::parse(gone.body).as_object();
  EXPECT_EQ(body.at("error").as_string(), "upstream_unavailable");
  EXPECT_EQ(body.at("version").as_string(), "g1");
  // Connect failures are counted apart from the app's own answers.
  std::string metrics = cluster.admin().get("/metrics").body;
  EXPECT_NE(
      metrics.find(
          "rampart_upstream_failures_total{service=\"gone\",version=\"g1\",kind=\"connect\"} 1"),
      std::string::npos)
      << metrics;
}

TEST_F(GatewayTest, EjectsAnUpstreamAfterConsecutiveConnectFailures) {
  int live = cluster.start_app("v1");
  int dead = free_port();
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {dead, live}, 100}},
                                       "balance = \"round_robin\"\neject_after = 2\n"
                                       "eject_for_ms = 60000"));
  auto c = cluster.client();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(c.get("/").status, 200u);
  }
  // Each of 2 workers ejects the dead upstream after 2 failures, then stops trying it.
  std::string metrics = cluster.admin().get("/metrics").body;
  auto at = metrics.find("kind=\"connect\"} ");
  ASSERT_NE(at, std::string::npos) << metrics;
  long failures = std::atol(metrics.c_str() + at + 16);
  EXPECT_GE(failures, 2);
  EXPECT_LE(failures, 4);
}

TEST_F(GatewayTest, SmugglingAttemptsAreRejected) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  struct Case {
    const char* name;
    const char* raw;
  };
  const Case cases[] = {
      {"CL and TE",
       "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n"},
      {"TE and CL",
       "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: "
       "4\r\n\r\n0\r\n\r\n"},
      {"differing CL",
       "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"},
      {"CL list", "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\nabcde"},
      {"TE not chunked", "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabcd"},
      {"TE chunked twice",
       "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"},
      {"bad chunk size",
       "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
      {"negative CL", "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"},
      {"space before colon", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 4\r\n\r\nabcd"},
      {"no host", "GET / HTTP/1.1\r\n\r\n"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto c = cluster.client();
    Reply r = c.raw(tc.raw);
    EXPECT_EQ(r.status, 400u) << r.error << r.body;
    EXPECT_TRUE(r.closed);
    if (!r.body.empty()) {
      EXPECT_EQ(json::parse(r.body).at("error").as_string(), "bad_request");
    }
  }
  // A coding before chunked is well framed, but the gateway would lose it: 501, and closed.
  {
    auto c = cluster.client();
    Reply r = c.raw(
        "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(r.status, 501u) << r.error << r.body;
    EXPECT_TRUE(r.closed);
    EXPECT_EQ(json::parse(r.body).at("error").as_string(), "unsupported_transfer_coding");
  }
  // The gateway is still fine.
  EXPECT_EQ(cluster.client().get("/").status, 200u);
}

TEST_F(GatewayTest, LimitsOnHeaderAndBody) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}), "",
                        "max_header_bytes = 4096\nmax_body_bytes = 100000");
  auto c = cluster.client();
  Reply big = c.get("/", {{"X-Big", std::string(8000, 'a')}});
  EXPECT_EQ(big.status, 431u);
  EXPECT_EQ(json::parse(big.body).at("error").as_string(), "header_too_large");
  auto c2 = cluster.client();
  Reply body = c2.request("POST", "/count", {}, std::string(200000, 'b'));
  EXPECT_EQ(body.status, 413u) << body.error;
  auto c3 = cluster.client();
  Reply chunked = c3.raw("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         std::string("30d40\r\n") + std::string(200000, 'c') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 413u) << chunked.error;
  EXPECT_EQ(cluster.client().request("POST", "/count", {}, std::string(1000, 'd')).status, 200u);
}

// A reload that changes only [limits] leaves the store as it is (nothing to apply) and still
// reaches the workers.
TEST_F(GatewayTest, AReloadOfOnlyTheLimitsTakesEffect) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}), "",
                        "max_header_bytes = 4096");
  const std::map<std::string, std::string> big = {{"X-Big", std::string(6000, 'a')}};
  EXPECT_EQ(cluster.client().get("/", big).status, 431u);
  cluster.reload_limits("max_header_bytes = 16384");
  Reply after = cluster.client().get("/", big);
  EXPECT_EQ(after.status, 200u) << after.body;
}

// A busy keep-alive connection waits for its next request with its read buffer, then (after
// 500 ms) without one; others wait without one from the start. Every phase serves the next
// request on the same connection, and the idle timeout counts from the end of the last
// answer.
TEST_F(GatewayTest, KeepAliveConnectionsServeAfterEveryIdlePhaseAndThenTimeOut) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}), "",
                        "idle_timeout_ms = 1500");
  boost::asio::io_context ioc;
  auto s = cluster.raw_socket(ioc);
  const std::string request = "GET /count HTTP/1.1\r\nHost: x\r\n\r\n";
  auto exchange = [&] {
    boost::asio::write(s, boost::asio::buffer(request));
    boost::asio::streambuf buf;
    boost::system::error_code ec;
    boost::asio::read_until(s, buf, "\r\n\r\n", ec);
    std::string head(boost::asio::buffers_begin(buf.data()), boost::asio::buffers_end(buf.data()));
    return ec ? std::string("error: ") + ec.message() : head.substr(0, head.find("\r\n"));
  };
  EXPECT_EQ(exchange(), "HTTP/1.1 200 OK");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // quick: the client is busy
  EXPECT_EQ(exchange(), "HTTP/1.1 200 OK");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // read with the buffer
  EXPECT_EQ(exchange(), "HTTP/1.1 200 OK");
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // past the window: bufferless
  EXPECT_EQ(exchange(), "HTTP/1.1 200 OK");
  const auto t0 = std::chrono::steady_clock::now();
  char byte;
  boost::system::error_code ec;
  const std::size_t n = s.read_some(boost::asio::buffer(&byte, 1), ec);
  const auto closed_after = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(ec, boost::asio::error::eof);
  EXPECT_GE(closed_after, std::chrono::milliseconds(1300));
  EXPECT_LT(closed_after, std::chrono::milliseconds(3000));
}

TEST_F(GatewayTest, HeaderTimeoutIdleTimeoutAndConnectionCap) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}),
                        "max_connections = 3", "header_timeout_ms = 300\nidle_timeout_ms = 400");
  namespace asio = boost::asio;
  asio::io_context ioc;
  const asio::ip::tcp::endpoint gw(asio::ip::make_address("127.0.0.1"),
                                   static_cast<unsigned short>(cluster.port()));
  // A header that never completes: 408 after header_timeout_ms, and the connection is closed.
  {
    asio::ip::tcp::socket s(ioc);
    s.connect(gw);
    auto t0 = std::chrono::steady_clock::now();
    asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n")));
    boost::system::error_code ec;
    char buf[1024];
    std::string got;
    while (!ec) {
      const std::size_t n = s.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
    }
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 408 ")) << got;
    EXPECT_GE(took, std::chrono::milliseconds(250));
    EXPECT_LT(took, std::chrono::milliseconds(2000));
  }
  // An idle keep-alive connection is closed after idle_timeout_ms.
  {
    auto c = cluster.client();
    ASSERT_EQ(c.get("/").status, 200u);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    Reply r = c.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 0u) << "the idle connection should have been closed";
  }
  // The connection cap: three held, the fourth is closed at once; a slot frees on close.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<HttpClient>("127.0.0.1", cluster.port()));
    ASSERT_EQ(held.back()->get("/").status, 200u);
  }
  Reply over = cluster.client().get("/");
  EXPECT_EQ(over.status, 0u);
  held.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(cluster.client().get("/").status, 200u);
  std::string metrics = cluster.admin().get("/metrics").body;
  EXPECT_NE(metrics.find("rampart_connections_rejected_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("rampart_gateway_rejections_total{reason=\"request_timeout\"} 1\n"),
            std::string::npos)
      << metrics;
}

TEST_F(GatewayTest, ExpectContinue) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s = cluster.raw_socket(ioc);
  std::string head =
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(head));
  std::string got(25, '\0');
  boost::asio::read(s, boost::asio::buffer(got));
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  boost::asio::write(s, boost::asio::buffer(std::string("hello")));
  std::string rest(4096, '\0');
  std::size_t n = s.read_some(boost::asio::buffer(rest));
  rest.resize(n);
  EXPECT_NE(rest.find("200 OK"), std::string::npos) << rest;
  EXPECT_NE(rest.find("\"bytes\":5"), std::string::npos) << rest;
}

TEST_F(GatewayTest, ConnectionCloseIsHonoured) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  auto c = cluster.client();
  Reply r = c.get("/", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.header("Connection"), "close");
}

TEST_F(GatewayTest, ReloadUnderLoadFailsNoRequest) {
  int v1 = cluster.start_app("v1");
  int v2 = cluster.start_app("v2");
  auto config = [&](double canary) {
    return service_config("shop", "\"/\"", "none",
                          {{"v1", {v1}, 100 - canary}, {"v2", {v2}, canary}});
  };
  cluster.start_gateway(config(0));
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> total{0};
  std::atomic<int> on_v2{0};
  std::string first_failure;
  std::mutex failure_mutex;
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      auto c = cluster.client("127.0.1." + std::to_string(t + 1));
      while (!stop.load()) {
        Reply r = c.get("/");
        total++;
        if (r.status != 200) {
          failures++;
          std::lock_guard lock(failure_mutex);
          if (first_failure.empty())
            first_failure = std::to_string(r.status) + " " + r.error + r.body;
        } else if (r.header("X-Rampart-Version") == "v2") {
          on_v2++;
        }
        // Every few requests a new connection, so reloads meet fresh and pooled paths.
        if (total % 50 == t) c.close();
      }
    });
  }
  for (double canary : {10.0, 50.0, 100.0, 0.0, 30.0}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cluster.reload(config(canary));
  }
  int v2_before = on_v2.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_GT(total.load(), 500);
  EXPECT_GT(on_v2.load(), v2_before);  // the last split (30% on v2) is in effect
  // A config with an error is refused and the old one stays.
  cluster.write_config(
      "[[service]]\nname = \"shop\"\nroutes = [\"/\"]\n[service.split]\nv9 = 100\n");
  EXPECT_EQ(cluster.admin().request("POST", "/reload").status, 401u);  // needs the admin token
  Reply refused = cluster.admin().request("POST", "/reload", cluster.auth());
  EXPECT_EQ(refused.status, 400u);
  EXPECT_NE(refused.body.find("rampart.toml:"), std::string::npos) << refused.body;
  EXPECT_EQ(cluster.client().get("/").status, 200u);
}

TEST_F(GatewayTest, MetricsAndHealth) {
  int v1 = cluster.start_app("v1");
  int bad = cluster.start_app("v2", {"--error-rate", "1"});
  cluster.start_gateway(
      service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}, {"v2", {bad}, 0}}));
  auto c = cluster.client();
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(c.get("/").status, 200u);
  }
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(c.get("/", {{"X-Rampart-Version", "v2"}}).status, 500u);
  }
  auto admin = cluster.admin();
  // A worker records a request just after writing its answer: poll briefly.
  auto metric_is = [&](const std::string& line) {
    std::string body;
    for (int i = 0; i < 200; ++i) {
      Reply m = admin.get("/metrics");
      EXPECT_EQ(m.status, 200u);
      body = m.body;
      if (body.find(line + "\n") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "no line \"" << line << "\" in\n" << body;
    return false;
  };
  metric_is("rampart_requests_total{service=\"shop\",version=\"v1\",class=\"2xx\"} 30");
  metric_is("rampart_requests_total{service=\"shop\",version=\"v2\",class=\"5xx\"} 7");
  metric_is("rampart_upstream_failures_total{service=\"shop\",version=\"v2\",kind=\"connect\"} 0");
  metric_is("rampart_request_duration_seconds_count{service=\"shop\",version=\"v1\"} 30");
  Reply h = admin.get("/health");
  ASSERT_EQ(h.status, 200u);
  auto health = json::parse(h.body).as_object();
  EXPECT_EQ(health.at("status").as_string(), "ok");
  EXPECT_TRUE(health.contains("version"));
  Reply d = admin.get("/health?detailed=true");
  auto detailed = json::parse(d.body).as_object();
  EXPECT_EQ(detailed.at("components").at("gateway").at("workers").to_number<int>(), 2);
}

TEST_F(GatewayTest, SigtermDrainsInFlightRequests) {
  int v1 = cluster.start_app("v1");
  cluster.start_gateway(service_config("shop", "\"/\"", "none", {{"v1", {v1}, 100}}));
  auto idle = cluster.client();
  ASSERT_EQ(idle.get("/").status, 200u);  // an idle keep-alive connection
  Reply slow;
  std::thread in_flight([&] {
    auto c = cluster.client();
    slow = c.get("/sleep/800");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  cluster.gateway().signal(SIGTERM);
  in_flight.join();
  EXPECT_EQ(slow.status, 200u) << slow.error;
  EXPECT_EQ(slow.header("Connection"), "close");
  EXPECT_EQ(cluster.gateway().wait(std::chrono::seconds(5)), 0) << cluster.log();
  // Nothing listens any more.
  Reply after = cluster.client().get("/");
  EXPECT_EQ(after.status, 0u);
}

}  // namespace
}  // namespace rampart::testing
