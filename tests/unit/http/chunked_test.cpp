// The limits on a chunked body's framing, alone and with Beast's parser as the gateway drives
// it (gateway/session.cpp, parse_some): the parser is fed what arrived, and whenever it wants
// more, what it left unconsumed is checked before the next read.

#include "http/chunked.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

namespace rampart::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::system::error_code;

TEST(ChunkFraming, PendingBytesTable) {
  struct Case {
    std::string_view name;
    std::string pending;
    error_code want;
  };
  const std::size_t limit = 64;
  const Case cases[] = {
      {"a size line not ended yet", "1a;name=val", {}},
      {"the CRLF of the chunk before, then a partial line", "\r\n5;a", {}},
      {"a line of the limit's length", std::string(64, 'b'), {}},
      {"a line over the limit", "5;a=" + std::string(61, 'b'), ChunkFramingError::kLineTooLong},
      {"a run of zeros over the limit", std::string(65, '0'), ChunkFramingError::kLineTooLong},
      {"the last chunk waiting for its trailer", "0\r\nTrailer: x", {}},
      {"the last chunk with leading zeros and an extension", "\r\n000;a=b\r\nX: y\r\n", {}},
      {"a trailer over the limit", "0\r\nX: " + std::string(64, 'y'),
       ChunkFramingError::kTrailerTooLarge},
      {"a quoted extension past the line's end", "5;a=\"xx\r\nyy",
       ChunkFramingError::kLineBreakInQuoted},
      {"the last chunk's quoted extension past the line's end", "0;a=\"xx\r\nyy",
       ChunkFramingError::kLineBreakInQuoted},
      {"a quoted extension with an escaped quote, closed", "0;a=\"x\\\"y\"\r\nT: 1", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    EXPECT_EQ(check_pending_chunk_framing(c.pending, limit), c.want);
  }
}

TEST(ChunkFraming, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(error_code(ChunkFramingError::kLineBreakInQuoted).message(),
            "CR or LF inside a quoted chunk extension");
  EXPECT_NE(error_code(ChunkFramingError::kLineTooLong).message().find("chunk-size line"),
            std::string::npos);
  EXPECT_NE(error_code(ChunkFramingError::kTrailerTooLarge).message().find("trailer"),
            std::string::npos);
}

// What became of a request fed to the parser in pieces of `step` bytes, as the gateway feeds
// it.
struct Fed {
  error_code ec;        // the first error (none: the message parsed whole)
  std::size_t fed = 0;  // bytes given to the buffer before it
  std::size_t max_buffered = 0;
  std::string body;
};

Fed feed(std::string_view message, std::size_t step, std::size_t limit) {
  bhttp::request_parser<bhttp::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limit));
  parser.body_limit(boost::none);
  boost::beast::flat_buffer buffer;
  std::array<char, 4096> body{};
  Fed out;
  for (;;) {
    parser.get().body().data = body.data();
    parser.get().body().size = body.size();
    error_code ec;
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    out.body.append(body.data(), body.size() - parser.get().body().size);
    if (ec == bhttp::error::need_buffer) {
      continue;
    }
    if (ec && ec != bhttp::error::need_more) {
      out.ec = ec;
      return out;
    }
    if (parser.is_done()) {
      return out;
    }
    if (used > 0 && buffer.size() > 0) {
      continue;  // one element at a time; feed the rest before reading
    }
    if (buffer.size() > 0 && parser.is_header_done() && parser.chunked()) {
      out.ec = check_pending_chunk_framing(
          std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()), limit);
      if (out.ec) {
        return out;
      }
    }
    if (out.fed == message.size()) {
      out.ec = bhttp::error::need_more;
      return out;
    }
    const std::size_t n = std::min(step, message.size() - out.fed);
    auto room = buffer.prepare(n);
    std::copy_n(message.data() + out.fed, n, static_cast<char*>(room.data()));
    buffer.commit(n);
    out.fed += n;
    out.max_buffered = std::max(out.max_buffered, buffer.size());
  }
}

constexpr std::string_view kHead =
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(ChunkFraming, AValidBodyWithExtensionsAndTrailersParses) {
  const std::string message = std::string(kHead) +
                              "5;a=b;q=\"x y\"\r\nhello\r\n006\r\n world\r\n"
                              "000;end\r\nChecksum: 1\r\n\r\n";
  for (std::size_t step : {1, 3, 7, 4096}) {
    SCOPED_TRACE(step);
    const Fed f = feed(message, step, 1024);
    EXPECT_FALSE(f.ec) << f.ec.message();
    EXPECT_EQ(f.body, "hello world");
  }
}

TEST(ChunkFraming, AnEndlessSizeLineIsStoppedAtTheLimit) {
  const std::string message = std::string(kHead) + "5;a=" + std::string(1 << 20, 'b');
  const Fed f = feed(message, 4096, 16384);
  EXPECT_EQ(f.ec, ChunkFramingError::kLineTooLong);
  EXPECT_LT(f.max_buffered, 16384u + 4096u + kHead.size());
}

TEST(ChunkFraming, AnEndlessRunOfZerosIsStoppedAtTheLimit) {
  const std::string message = std::string(kHead) + std::string(1 << 20, '0');
  const Fed f = feed(message, 4096, 16384);
  EXPECT_EQ(f.ec, ChunkFramingError::kLineTooLong);
  EXPECT_LT(f.max_buffered, 16384u + 4096u + kHead.size());
}

TEST(ChunkFraming, AnEndlessTrailerIsStoppedAtTheLimit) {
  const std::string message =
      std::string(kHead) + "3\r\nabc\r\n0\r\nX-Long: " + std::string(1 << 20, 't');
  const Fed f = feed(message, 4096, 16384);
  EXPECT_EQ(f.ec, ChunkFramingError::kTrailerTooLarge);
  EXPECT_LT(f.max_buffered, 16384u + 4096u + kHead.size());
  EXPECT_EQ(f.body, "abc");
}

TEST(ChunkFraming, ALineBreakInAQuotedExtensionFailsAtTheFirstLine) {
  std::string message = std::string(kHead) + "5;a=\"";
  for (int i = 0; i < 1024; ++i) {
    message += std::string(1022, 'x') + "\r\n";
  }
  const Fed f = feed(message, 4096, 16384);
  EXPECT_EQ(f.ec, ChunkFramingError::kLineBreakInQuoted);
  EXPECT_LE(f.fed, 2 * 4096u) << "the parse went on past the first line break";
}

}  // namespace
}  // namespace rampart::http
