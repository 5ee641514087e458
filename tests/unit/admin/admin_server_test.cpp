// The admin listener's deadlines and header limit ([limits], as the gateway's), against a
// listener on loopback with short limits.

#include "admin/admin_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace rampart::admin {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A listener on its own thread that answers every request 200 {"ok":true}.
class Listener {
 public:
  explicit Listener(const config::Limits& limits)
      : server_(ioc_, [](const Request& req) {
          return json_response(bhttp::status::ok, R"({"ok":true})", req.version(),
                               req.keep_alive());
        }) {
    server_.set_limits(limits);
    auto bound = server_.listen({asio::ip::make_address("127.0.0.1"), 0});
    EXPECT_TRUE(bound) << bound.error().message;
    port_ = bound ? bound->port() : 0;
    server_.start();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Listener() {
    asio::post(ioc_, [this] { server_.stop(); });
    ioc_.stop();
    thread_.join();
  }

  tcp::socket connect(asio::io_context& ioc) const {
    tcp::socket s(ioc);
    s.connect({asio::ip::make_address("127.0.0.1"), port_});
    return s;
  }

 private:
  asio::io_context ioc_;
  AdminServer server_;
  unsigned short port_ = 0;
  std::thread thread_;
};

// Reads until the peer closes; what it sent.
std::string read_all(tcp::socket& s) {
  std::string got;
  char buf[4096];
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec) {
      return got;
    }
  }
}

config::Limits short_limits() {
  config::Limits l;
  l.header_timeout_ms = 300;
  l.idle_timeout_ms = 600;
  l.max_header_bytes = 1024;
  return l;
}

TEST(AdminServer, ANewConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout) {
  Listener listener(short_limits());
  asio::io_context ioc;
  auto s = listener.connect(ioc);
  const auto start = Clock::now();
  EXPECT_EQ(read_all(s), "");
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_LT(waited, milliseconds(2000));
}

TEST(AdminServer, AHeaderTrickledInOverTheHeaderTimeoutIsNotAnswered) {
  Listener listener(short_limits());
  asio::io_context ioc;
  auto s = listener.connect(ioc);
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto start = Clock::now();
  for (char c : request) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer(&c, 1), ec);
    if (ec) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(40));  // 1.3 s for the whole request
  }
  EXPECT_EQ(read_all(s), "");
  EXPECT_LT(Clock::now() - start, milliseconds(2500));
}

TEST(AdminServer, AKeptAliveConnectionMayIdleForTheIdleTimeoutThenIsClosed) {
  Listener listener(short_limits());
  asio::io_context ioc;
  auto s = listener.connect(ioc);
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  asio::write(s, asio::buffer(request));
  char buf[4096];
  std::size_t n = s.read_some(asio::buffer(buf));
  EXPECT_NE(std::string(buf, n).find("200 OK"), std::string::npos);
  // Longer than the header timeout, shorter than the idle timeout: still open.
  std::this_thread::sleep_for(milliseconds(400));
  asio::write(s, asio::buffer(request));
  n = s.read_some(asio::buffer(buf));
  EXPECT_NE(std::string(buf, n).find("200 OK"), std::string::npos);
  const auto start = Clock::now();
  EXPECT_EQ(read_all(s), "");
  EXPECT_GE(Clock::now() - start, milliseconds(500));
}

TEST(AdminServer, AHeaderOverTheLimitIs431) {
  Listener listener(short_limits());
  asio::io_context ioc;
  auto s = listener.connect(ioc);
  const std::string request =
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  boost::system::error_code ec;
  asio::write(s, asio::buffer(request), ec);
  const std::string got = read_all(s);
  EXPECT_EQ(got.rfind("HTTP/1.1 431 ", 0), 0u) << got;
  EXPECT_NE(got.find("1024 bytes (max_header_bytes)"), std::string::npos) << got;
}

}  // namespace
}  // namespace rampart::admin
