// UpstreamResponse: the client's head is written while the upstream's is parsed, without the
// hop-by-hop fields, and the body lands where body_target() says.

#include "http/upstream_response.hpp"

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <array>
#include <string>

namespace rampart::http {
namespace {

namespace bhttp = boost::beast::http;

// Parses `wire` in one put and answers the head the client would get (with our fields).
std::string head_of(UpstreamResponse& p, std::span<char> buf, std::string_view wire,
                    std::size_t* used = nullptr) {
  boost::system::error_code ec;
  const std::size_t n = p.put(boost::asio::buffer(wire.data(), wire.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(p.is_header_done());
  if (used != nullptr) *used = n;
  p.add_field("X-Rampart-Version", "v2");
  p.finish_head();
  return std::string(buf.data(), p.head_size()) + p.head_overflow();
}

TEST(UpstreamResponse, WritesTheHeadWithoutHopByHopFields) {
  std::array<char, 1024> buf{};
  UpstreamResponse p(buf);
  const std::string head = head_of(p, buf,
                                   "HTTP/1.0 200 Fine\r\n"
                                   "Server: app\r\n"
                                   "Connection: keep-alive, X-Secret\r\n"
                                   "Keep-Alive: timeout=5\r\n"
                                   "X-Secret: 42\r\n"
                                   "Proxy-Authenticate: Basic\r\n"
                                   "Trailer: X-Sum\r\n"
                                   "Upgrade: h2c\r\n"
                                   "x-rampart-version: forged\r\n"
                                   "Content-Length: 5\r\n"
                                   "\r\n"
                                   "hello");
  EXPECT_EQ(head,
            "HTTP/1.1 200 Fine\r\n"
            "Server: app\r\n"
            "Content-Length: 5\r\n"
            "X-Rampart-Version: v2\r\n"
            "\r\n");
  EXPECT_EQ(p.status(), 200u);
  EXPECT_TRUE(p.keep_alive());
  EXPECT_EQ(p.content_length().value_or(0), 5u);
}

TEST(UpstreamResponse, ATransferCodingOtherThanOneChunkedFailsTheHeader) {
  struct Case {
    std::string_view name;
    std::string_view fields;
    bool ok;
  };
  const Case cases[] = {
      {"chunked", "Transfer-Encoding: chunked\r\n", true},
      {"chunked in capitals", "Transfer-Encoding: CHUNKED\r\n", true},
      {"gzip, then chunked", "Transfer-Encoding: gzip, chunked\r\n", false},
      {"gzip alone (delimited by close)", "Transfer-Encoding: gzip\r\n", false},
      {"two fields", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    std::array<char, 256> buf{};
    UpstreamResponse p(buf);
    const std::string wire = "HTTP/1.1 200 OK\r\n" + std::string(c.fields) + "\r\n";
    boost::system::error_code ec;
    p.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    if (c.ok) {
      EXPECT_FALSE(ec) << ec.message();
      EXPECT_TRUE(p.chunked());
      // Transfer-Encoding is hop-by-hop: the caller adds its own.
      EXPECT_EQ(std::string(buf.data(), p.head_size()), "HTTP/1.1 200 OK\r\n");
    } else {
      EXPECT_EQ(ec, bhttp::error::bad_transfer_encoding);
    }
  }
}

TEST(UpstreamResponse, AnEmptyReasonGetsTheStandardOne) {
  std::array<char, 256> buf{};
  UpstreamResponse p(buf);
  EXPECT_EQ(head_of(p, buf, "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n"),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nX-Rampart-Version: v2\r\n\r\n");
}

TEST(UpstreamResponse, AHeadLargerThanTheBufferContinuesInTheOverflow) {
  std::array<char, 40> buf{};
  UpstreamResponse p(buf);
  const std::string big(100, 'x');
  const std::string head =
      head_of(p, buf, "HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(head, "HTTP/1.1 200 OK\r\nX-Big: " + big +
                      "\r\nContent-Length: 0\r\nX-Rampart-Version: v2\r\n\r\n");
  EXPECT_LE(p.head_size(), buf.size());
  EXPECT_FALSE(p.head_overflow().empty());
}

TEST(UpstreamResponse, TheBodyGoesToTheTargetAndAsksForMoreRoomWhenFull) {
  std::array<char, 256> buf{};
  UpstreamResponse p(buf);
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
  std::size_t used = 0;
  head_of(p, buf, wire, &used);
  std::string_view rest = std::string_view(wire).substr(used);
  std::array<char, 4> body{};
  p.body_target(body.data(), body.size());
  boost::system::error_code ec;
  std::size_t n = p.put(boost::asio::buffer(rest.data(), rest.size()), ec);
  EXPECT_EQ(ec, bhttp::error::need_buffer);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(std::string(body.data(), 4), "0123");
  EXPECT_EQ(p.body_left(), 0u);
  rest.remove_prefix(n);
  std::array<char, 16> more{};
  p.body_target(more.data(), more.size());
  ec = {};
  n = p.put(boost::asio::buffer(rest.data(), rest.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(std::string(more.data(), 6), "456789");
  EXPECT_TRUE(p.is_done());
}

TEST(UpstreamResponse, ChunkedBodiesArriveUnchunked) {
  std::array<char, 256> buf{};
  UpstreamResponse p(buf);
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  std::size_t used = 0;
  const std::string head = head_of(p, buf, wire, &used);
  EXPECT_EQ(head, "HTTP/1.1 200 OK\r\nX-Rampart-Version: v2\r\n\r\n");  // TE is hop-by-hop
  EXPECT_TRUE(p.chunked());
  std::string_view rest = std::string_view(wire).substr(used);
  std::array<char, 64> body{};
  p.body_target(body.data(), body.size());
  while (!p.is_done()) {
    boost::system::error_code ec;
    const std::size_t n = p.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_GT(n, 0u);
    rest.remove_prefix(n);
  }
  EXPECT_EQ(std::string(body.data(), body.size() - p.body_left()), "abcde");
}

}  // namespace
}  // namespace rampart::http
