#include "http/wire.hpp"

#include <gtest/gtest.h>

#include <array>

namespace rampart::http {
namespace {

namespace bhttp = boost::beast::http;

bhttp::request_header<> sample_request() {
  bhttp::request_header<> h;
  h.method(bhttp::verb::post);
  h.target("/a?b=c");
  h.version(10);  // always written as HTTP/1.1
  h.set(bhttp::field::host, "shop");
  h.insert("X-Dup", "1");
  h.insert(bhttp::field::connection, "keep-alive, X-Secret");
  h.insert("X-Secret", "hop");
  h.insert("Keep-Alive", "timeout=5");
  h.insert("Proxy-Authorization", "Basic x");
  h.insert(bhttp::field::expect, "100-continue");
  h.insert(bhttp::field::transfer_encoding, "chunked");
  h.insert("x-forwarded-proto", "https");
  h.insert("X-Forwarded-Host", "forged");
  h.insert("X-Dup", "2");
  return h;
}

TEST(Wire, ForwardedRequestHead) {
  const auto h = sample_request();
  const Forwarding fw{"10.0.0.9", "203.0.113.7", "shop", true};
  std::array<char, 512> buf{};
  const std::size_t n = write_forwarded_head(h, fw, buf);
  const std::string want =
      "POST /a?b=c HTTP/1.1\r\nHost: shop\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
      "X-Forwarded-For: 203.0.113.7, 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
      "X-Forwarded-Host: shop\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(std::string(buf.data(), n), want);
  EXPECT_EQ(forwarded_head_string(h, fw), want);

  const Forwarding plain{"10.0.0.9", "", "shop", false};
  bhttp::request_header<> get;
  get.method(bhttp::verb::get);
  get.target("/");
  get.set(bhttp::field::host, "shop");
  EXPECT_EQ(forwarded_head_string(get, plain),
            "GET / HTTP/1.1\r\nHost: shop\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\nX-Forwarded-Host: shop\r\n\r\n");
}

TEST(Wire, AnAbsoluteFormTargetGoesOutInOriginFormWithItsAuthorityAsHost) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::get);
  h.target("http://shop.example.com:8080/a?b=c");
  h.set(bhttp::field::host, "forged.example.com");
  h.insert("X-Dup", "1");
  h.insert(bhttp::field::host, "second.example.com");
  struct Case {
    std::string_view origin_form;
    std::string_view target;  // as it goes out
  };
  const Case cases[] = {{"/a?b=c", "/a?b=c"}, {"", "/"}, {"?b=c", "/?b=c"}};
  for (const auto& c : cases) {
    const Forwarding fw{"10.0.0.9", "", "shop.example.com:8080", false, true, c.origin_form};
    const std::string want = "GET " + std::string(c.target) +
                             " HTTP/1.1\r\nHost: shop.example.com:8080\r\nX-Dup: 1\r\n"
                             "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
                             "X-Forwarded-Host: shop.example.com:8080\r\n\r\n";
    std::array<char, 512> buf{};
    const std::size_t n = write_forwarded_head(h, fw, buf);
    EXPECT_EQ(std::string(buf.data(), n), want);
    EXPECT_EQ(forwarded_head_string(h, fw), want);
  }
}

TEST(Wire, ASizedBodyGoesOutWithOneContentLength) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::put);
  h.target("/a");
  h.set(bhttp::field::host, "shop");
  h.insert(bhttp::field::content_length, "12, 12");
  h.insert("X-Dup", "1");
  h.insert(bhttp::field::content_length, "12");
  Forwarding fw{"10.0.0.9", "", "shop", false};
  fw.content_length = 12;
  EXPECT_EQ(
      forwarded_head_string(h, fw),
      "PUT /a HTTP/1.1\r\nHost: shop\r\nX-Dup: 1\r\nContent-Length: 12\r\n"
      "X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: shop\r\n\r\n");
  fw.content_length = 18446744073709551615u;  // the widest length fits the writer
  std::array<char, 512> buf{};
  const std::size_t n = write_forwarded_head(h, fw, buf);
  EXPECT_NE(std::string(buf.data(), n).find("\r\nContent-Length: 18446744073709551615\r\n"),
            std::string::npos);
}

TEST(Wire, ARequestWithoutHostGoesOutWithTheUpstreamsAuthorityAndNoForwardedHost) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::get);
  h.target("/");
  h.version(10);
  Forwarding fw{"10.0.0.9", {}, {}, false};  // null views: nothing to copy
  fw.upstream_host = "127.0.0.1:9001";
  std::array<char, 256> buf{};
  const std::size_t n = write_forwarded_head(h, fw, buf);
  EXPECT_EQ(std::string(buf.data(), n),
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
}

TEST(Wire, TheHostRoutedOnGoesOutOnceWhateverConnectionNames) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::get);
  h.target("/");
  h.set(bhttp::field::host, "shop");
  h.insert(bhttp::field::connection, "Host, X-Secret");
  h.insert("X-Secret", "hop");
  const Forwarding fw{"10.0.0.9", "", "shop", false};
  EXPECT_EQ(forwarded_head_string(h, fw),
            "GET / HTTP/1.1\r\nHost: shop\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\nX-Forwarded-Host: shop\r\n\r\n");
}

TEST(Wire, UnderscoreTwinsOfFramingAndForwardingFieldsAreDropped) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::post);
  h.target("/");
  h.set(bhttp::field::host, "shop");
  h.insert("Transfer_Encoding", "chunked");
  h.insert("content_length", "5");
  h.insert("CONTENT_LENGTH", "6");
  h.insert("Content_Length", "7");
  h.insert("Content-Length_", "8");  // not a twin: kept
  h.insert("Host_", "evil");         // not a twin: kept
  h.insert("HOST", "shop");
  h.insert("X_Forwarded_For", "192.0.2.66");
  h.insert("X-Forwarded_Proto", "https");
  h.insert("x_forwarded_host", "evil");
  h.insert("X_User_Id", "7");  // any other underscore field is the upstream's business
  Forwarding fw{"10.0.0.9", "", "shop", false};
  fw.content_length = 5;
  EXPECT_EQ(forwarded_head_string(h, fw),
            "POST / HTTP/1.1\r\nHost: shop\r\nContent-Length_: 8\r\nHost_: evil\r\n"
            "X_User_Id: 7\r\nContent-Length: 5\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\nX-Forwarded-Host: shop\r\n\r\n");
}

TEST(Wire, TooSmallABufferWritesNothing) {
  const auto h = sample_request();
  const Forwarding fw{"10.0.0.9", "", "shop", false};
  std::array<char, 64> small{};
  EXPECT_EQ(write_forwarded_head(h, fw, small), 0u);
  std::array<char, 512> enough{};
  EXPECT_EQ(write_forwarded_head(h, fw, enough), forwarded_head_string(h, fw).size());
}

TEST(Wire, ALaterHttp1MinorVersionIsReadAsHttp11) {
  struct Case {
    std::string_view in;
    bool rewritten;
    std::string_view out;
  };
  const Case cases[] = {
      {"GET / HTTP/1.2\r\nHost: x\r\n\r\n", true, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"GET / HTTP/1.9\r\n", true, "GET / HTTP/1.1\r\n"},
      {"HTTP/1.2 200 OK\r\n", true, "HTTP/1.1 200 OK\r\n"},
      {"GET / HTTP/1.1\r\n", false, "GET / HTTP/1.1\r\n"},
      {"GET / HTTP/2.0\r\n", false, "GET / HTTP/2.0\r\n"},
      {"GET / HTTP/1.x\r\n", false, "GET / HTTP/1.x\r\n"},
      {"GET / HTTP/1.2", false, "GET / HTTP/1.2"},  // the line is not whole yet
      {"GET / XTTP/1.2\r\n", false, "GET / XTTP/1.2\r\n"},
      {"HTTP/1.2\r\n", false, "HTTP/1.2\r\n"},
      {"", false, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.in));
    std::string s(c.in);
    EXPECT_EQ(read_as_http11(s.data(), s.size()), c.rewritten);
    EXPECT_EQ(s, c.out);
  }
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
