// The deadline wheel's contract: a deadline is never lost, whatever the coroutine that owns the
// socket is doing when it fires. One that fires while no operation is pending (the coroutine
// is parsing, or its last read has completed and waits to be resumed) fails the socket's next
// operation at once.

#include "gateway/deadline.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>
#include <utility>

namespace rampart::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Two connected loopback sockets on `ioc`.
std::pair<Socket, Socket> socket_pair(asio::io_context& ioc) {
  Acceptor acceptor(ioc.get_executor(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Socket a(ioc.get_executor());
  a.connect(acceptor.local_endpoint());
  Socket b = acceptor.accept();
  return {std::move(a), std::move(b)};
}

// Lets `timeout` pass, then ticks `wheel` as the worker's ticker would.
void pass_and_tick(DeadlineWheel& wheel, std::chrono::milliseconds timeout) {
  std::this_thread::sleep_for(timeout + 3 * DeadlineWheel::kTick);
  wheel.tick();
}

TEST(Deadline, OneThatFiresWithNoOperationPendingFailsTheNextRead) {
  asio::io_context ioc;
  DeadlineWheel wheel;
  auto [a, b] = socket_pair(ioc);
  TimedSocket s(wheel, std::move(a));
  s.expires_after(10ms);
  pass_and_tick(wheel, 10ms);  // nothing pending: the cancel reaches no operation
  ASSERT_TRUE(s.timed_out());

  std::optional<boost::system::error_code> got;
  char byte = 0;
  s.async_read_some(asio::buffer(&byte, 1),
                    [&](boost::system::error_code ec, std::size_t) { got = ec; });
  ioc.run_for(500ms);
  ASSERT_TRUE(got.has_value()) << "the read waited as if the deadline had never fired";
  EXPECT_EQ(s.classify(*got), boost::beast::error::timeout);
}

TEST(Deadline, OneThatFiresWithNoOperationPendingFailsTheNextWriteEvenWithDataWaiting) {
  asio::io_context ioc;
  DeadlineWheel wheel;
  auto [a, b] = socket_pair(ioc);
  asio::write(b, asio::buffer("x", 1));  // a read now would succeed at once
  TimedSocket s(wheel, std::move(a));
  s.expires_after(10ms);
  pass_and_tick(wheel, 10ms);

  std::optional<boost::system::error_code> read_ec;
  std::optional<boost::system::error_code> write_ec;
  char byte = 0;
  s.async_read_some(asio::buffer(&byte, 1),
                    [&](boost::system::error_code ec, std::size_t) { read_ec = ec; });
  asio::async_write(s, asio::buffer("y", 1),
                    [&](boost::system::error_code ec, std::size_t) { write_ec = ec; });
  ioc.run_for(500ms);
  ASSERT_TRUE(read_ec.has_value());
  ASSERT_TRUE(write_ec.has_value());
  EXPECT_EQ(s.classify(*read_ec), boost::beast::error::timeout);
  EXPECT_EQ(s.classify(*write_ec), boost::beast::error::timeout);
}

TEST(Deadline, RearmingClearsAFiredDeadline) {
  asio::io_context ioc;
  DeadlineWheel wheel;
  auto [a, b] = socket_pair(ioc);
  TimedSocket s(wheel, std::move(a));
  s.expires_after(10ms);
  pass_and_tick(wheel, 10ms);
  ASSERT_TRUE(s.timed_out());

  s.expires_after(10s);
  EXPECT_FALSE(s.timed_out());
  asio::write(b, asio::buffer("x", 1));
  std::optional<boost::system::error_code> got;
  char byte = 0;
  s.async_read_some(asio::buffer(&byte, 1),
                    [&](boost::system::error_code ec, std::size_t) { got = ec; });
  ioc.run_for(500ms);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(*got) << got->message();
  EXPECT_EQ(byte, 'x');
}

TEST(Deadline, OneThatFiresDuringAReadCancelsIt) {
  asio::io_context ioc;
  DeadlineWheel wheel;
  auto [a, b] = socket_pair(ioc);
  TimedSocket s(wheel, std::move(a));
  s.expires_after(10ms);
  std::optional<boost::system::error_code> got;
  char byte = 0;
  s.async_read_some(asio::buffer(&byte, 1),
                    [&](boost::system::error_code ec, std::size_t) { got = ec; });
  ioc.poll();  // the read is pending in the reactor
  pass_and_tick(wheel, 10ms);
  ioc.run_for(500ms);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(s.classify(*got), boost::beast::error::timeout);
}

}  // namespace
}  // namespace rampart::gateway
