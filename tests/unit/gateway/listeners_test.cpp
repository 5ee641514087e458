// One owner per listening address: a gateway refuses a port another process listens on, even
// when that process set SO_REUSEPORT (which would otherwise let both bind and split the
// connections between them).

#include "gateway/listeners.hpp"

#include "gateway/gateway.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <sys/socket.h>

#include <gtest/gtest.h>

namespace rampart::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::string_view kProcNetTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:5A9C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "4242 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "77 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0100007F:5A9C 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
    "99 1 0000000000000000 100 0 0 10 0\n"
    "   3: garbage\n";

constexpr std::string_view kProcNetTcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0\n";

TEST(ProcNetTcp, ParsesListeningSocketsOnly) {
  auto sockets = parse_proc_net_tcp(kProcNetTcp, false);
  ASSERT_EQ(sockets.size(), 2u);  // the established one and the garbage line are skipped
  EXPECT_EQ(sockets[0].address.to_string(), "127.0.0.1");
  EXPECT_EQ(sockets[0].port, 23196);
  EXPECT_EQ(sockets[0].inode, 4242u);
  EXPECT_EQ(sockets[1].address.to_string(), "0.0.0.0");
  EXPECT_EQ(sockets[1].port, 80);

  auto v6 = parse_proc_net_tcp(kProcNetTcp6, true);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].address.to_string(), "::1");
  EXPECT_EQ(v6[0].port, 8080);
}

TEST(ProcNetTcp, WildcardsOverlapEveryAddressOfTheirPort) {
  auto sockets = parse_proc_net_tcp(kProcNetTcp, false);
  const auto at = [](const char* a, unsigned short p) {
    return tcp::endpoint(asio::ip::make_address(a), p);
  };
  EXPECT_TRUE(overlaps(sockets[0], at("127.0.0.1", 23196)));
  EXPECT_TRUE(overlaps(sockets[0], at("0.0.0.0", 23196)));
  EXPECT_FALSE(overlaps(sockets[0], at("127.0.0.2", 23196)));
  EXPECT_FALSE(overlaps(sockets[0], at("127.0.0.1", 23197)));
  EXPECT_TRUE(overlaps(sockets[1], at("127.0.0.9", 80)));
}

// A socket on 127.0.0.1 with SO_REUSEPORT, listening, as another gateway's worker would be.
tcp::acceptor reuseport_listener(asio::io_context& ioc, unsigned short port = 0) {
  tcp::acceptor a(ioc);
  a.open(tcp::v4());
  int one = 1;
  ::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  a.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  a.listen();
  return a;
}

TEST(GatewayListen, RefusesAPortAnotherGatewayListensOnWithReusePort) {
  asio::io_context ioc;
  auto other = reuseport_listener(ioc);
  metrics::Registry registry(2);
  Gateway gw({.workers = 2}, registry);
  auto bound = gw.listen(other.local_endpoint());
  ASSERT_FALSE(bound);
  EXPECT_EQ(bound.error().message,
            "cannot listen on 127.0.0.1:" + std::to_string(other.local_endpoint().port()) +
                ": Address already in use");
}

TEST(GatewayListen, SeesAListenerThatAppearedAfterTheFirstCheck) {
  asio::io_context ioc;
  auto ours = reuseport_listener(ioc);
  const tcp::endpoint at = ours.local_endpoint();
  EXPECT_FALSE(another_listener(at, {socket_inode(ours.native_handle())}));
  auto theirs = reuseport_listener(ioc, at.port());  // the kernel lets it share the port
  EXPECT_TRUE(another_listener(at, {socket_inode(ours.native_handle())}));
}

TEST(GatewayListen, AFreePortIsTaken) {
  metrics::Registry registry(2);
  Gateway gw({.workers = 2}, registry);
  auto bound = gw.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ASSERT_TRUE(bound) << bound.error().message;
  EXPECT_NE(bound->port(), 0);
}

}  // namespace
}  // namespace rampart::gateway
