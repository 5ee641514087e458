#include "http/wire.hpp"

#include <gtest/gtest.h>

#include <array>

namespace rampart::http {
namespace {

namespace bhttp = boost::beast::http;

TEST(Wire, RequestHead) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::post);
  h.target("/a?b=c");
  h.version(10);  // always written as HTTP/1.1
  h.set(bhttp::field::host, "shop");
  h.insert("X-Dup", "1");
  h.insert("X-Dup", "2");
  std::array<char, 256> buf{};
  std::size_t n = write_head(h, buf);
  const std::string want = "POST /a?b=c HTTP/1.1\r\nHost: shop\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n";
  EXPECT_EQ(std::string(buf.data(), n), want);
  EXPECT_EQ(head_string(h), want);
}

TEST(Wire, TooSmallABufferWritesNothing) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::get);
  h.target("/" + std::string(100, 'x'));
  std::array<char, 64> small{};
  EXPECT_EQ(write_head(h, small), 0u);
  std::array<char, 200> enough{};
  EXPECT_EQ(write_head(h, enough), head_string(h).size());
}

TEST(Wire, ChunkSizeLines) {
  struct Case {
    std::size_t size;
    const char* want;
  };
  const Case cases[] = {{0, "0\r\n"},
                        {1, "1\r\n"},
                        {15, "f\r\n"},
                        {16, "10\r\n"},
                        {65536, "10000\r\n"},
                        {0xdeadbeef, "deadbeef\r\n"},
                        {~std::size_t{0}, "ffffffffffffffff\r\n"}};
  for (const auto& c : cases) {
    char line[20];
    std::size_t n = write_chunk_size(c.size, line);
    EXPECT_EQ(std::string(line, n), c.want);
  }
}

}  // namespace
}  // namespace rampart::http
