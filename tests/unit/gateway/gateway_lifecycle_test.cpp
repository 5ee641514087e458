// Starting, draining and stopping a Gateway's workers from the control thread: drain() and
// stop() reach each worker through its eventfd, never through its io_context.

#include "config/config.hpp"
#include "gateway/gateway.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace rampart::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// A route to an upstream nobody listens on: requests get the gateway's own 502 answer, which
// is all these tests need to see a worker serve.
config::Config test_config() {
  auto cfg = config::parse_config(R"(
[[service]]
name = "shop"
routes = ["/"]
sticky = "none"

[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9"]
)",
                                  "test.toml");
  EXPECT_TRUE(cfg) << cfg.error().message;
  return *cfg;
}

class GatewayLifecycleTest : public ::testing::Test {
 protected:
  void start(std::size_t workers) {
    gateway_ = std::make_unique<Gateway>(
        Gateway::Options{.workers = workers, .max_connections = 100}, registry_);
    gateway_->publish(test_config());
    auto bound = gateway_->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ASSERT_TRUE(bound) << bound.error().message;
    endpoint_ = *bound;
    gateway_->start();
  }

  // Sends one keep-alive request on `socket` and reads the whole answer's head.
  static std::string request(tcp::socket& socket) {
    const std::string req = "GET / HTTP/1.1\r\nHost: shop\r\n\r\n";
    asio::write(socket, asio::buffer(req));
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
      got.append(buf, socket.read_some(asio::buffer(buf)));
    }
    return got;
  }

  // How long ~Gateway took (it stops and joins every worker).
  std::chrono::steady_clock::duration destroy_gateway() {
    const auto began = std::chrono::steady_clock::now();
    gateway_.reset();
    return std::chrono::steady_clock::now() - began;
  }

  metrics::Registry registry_{2};  // shards for up to 2 workers
  std::unique_ptr<Gateway> gateway_;
  tcp::endpoint endpoint_;
  asio::io_context client_io_;
};

TEST_F(GatewayLifecycleTest, DrainWithNoConnectionsFinishesAtOnce) {
  start(2);
  const auto began = std::chrono::steady_clock::now();
  EXPECT_TRUE(gateway_->drain(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
}

TEST_F(GatewayLifecycleTest, DrainClosesAnIdleKeepAliveConnectionAndStopsAccepting) {
  start(2);
  tcp::socket client(client_io_);
  client.connect(endpoint_);
  EXPECT_NE(request(client).find("HTTP/1.1 502"), std::string::npos);

  EXPECT_TRUE(gateway_->drain(5s));
  // The idle connection was closed by the drain: the next read sees the end of the stream
  // (or a reset), not a hang.
  char byte;
  boost::system::error_code ec;
  client.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();

  tcp::socket late(client_io_);
  late.connect(endpoint_, ec);
  EXPECT_TRUE(ec) << "the listener still accepts after a drain";
}

TEST_F(GatewayLifecycleTest, DestroyingARunningGatewayStopsItsWorkersAndClosesConnections) {
  start(2);
  tcp::socket client(client_io_);
  client.connect(endpoint_);
  EXPECT_NE(request(client).find("HTTP/1.1 502"), std::string::npos);
  // The connection is still open: ~Gateway stops the workers without waiting for it, and
  // destroying their io_contexts closes it.
  EXPECT_LT(destroy_gateway(), 2s);
  char byte;
  boost::system::error_code ec;
  client.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(GatewayLifecycleTest, AGatewayNeverStartedIsDestroyedAtOnce) {
  gateway_ =
      std::make_unique<Gateway>(Gateway::Options{.workers = 2, .max_connections = 100}, registry_);
  gateway_->publish(test_config());
  EXPECT_LT(destroy_gateway(), 2s);
}

TEST_F(GatewayLifecycleTest, StoppingAfterADrainThatFinishedReturnsAtOnce) {
  start(1);
  EXPECT_TRUE(gateway_->drain(5s));
  // ~Gateway stops every worker again, after their io_contexts have returned.
  EXPECT_LT(destroy_gateway(), 2s);
}

}  // namespace
}  // namespace rampart::gateway
