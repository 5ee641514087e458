#pragma once
// The upstream's response, parsed for relaying without building a header container.
//
// Beast's response_parser stores every field in a basic_fields (one allocation and one
// case-insensitive tree insertion per field), which the proxy then edits (hop-by-hop fields
// out, X-Rampart-Version and Connection in) and writes out again: about a fifth of the
// instructions of a proxied request (callgrind, docs/benchmarks.md). UpstreamResponse writes
// the head the client will get while it parses: the status line (as HTTP/1.1) and every
// field except the hop-by-hop ones and X-Rampart-Version, straight into the caller's buffer.
// The caller then appends its own fields with add_field() and ends the head with
// finish_head(). The body goes, as with buffer_body, into the memory given to body_target().
//
// A head that does not fit the given buffer continues in a string (head_overflow()).
// Fields named by the Connection header are removed at the end of the header (rare). A
// Transfer-Encoding other than one "chunked" fails the header with bad_transfer_encoding: the
// body goes to the client re-chunked, and any other coding would be lost on the way.

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::http {

class UpstreamResponse : public boost::beast::http::basic_parser<false> {
 public:
  // Where the head is written; REQUIRES: set before the first put().
  explicit UpstreamResponse(std::span<char> head_buffer) : head_buf_(head_buffer) {}

  unsigned status() const { return status_; }

  // The head written so far: head_buffer()[0, head_size()) followed by head_overflow().
  std::size_t head_size() const { return head_used_; }
  const std::string& head_overflow() const { return overflow_; }
  // Appends "name: value\r\n"; call after the header is parsed.
  void add_field(std::string_view name, std::string_view value);
  // Appends the blank line that ends the head.
  void finish_head() { append("\r\n"); }

  // The body is copied into [data, data + size), like buffer_body; body_left() is what is
  // still free there.
  void body_target(char* data, std::size_t size) {
    body_data_ = data;
    body_size_ = size;
  }
  std::size_t body_left() const { return body_size_; }

 private:
  void append(std::string_view s) {
    if (s.empty()) {
      return;  // (an empty view may hold a null pointer, which memcpy must not get)
    }
    if (overflow_.empty() && s.size() <= head_buf_.size() - head_used_) {
      std::memcpy(head_buf_.data() + head_used_, s.data(), s.size());
      head_used_ += s.size();
    } else {
      overflow_.append(s);
    }
  }

  void on_request_impl(boost::beast::http::verb, boost::beast::string_view,
                       boost::beast::string_view, int, boost::system::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view reason, int version,
                        boost::system::error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>&,
                         boost::system::error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::system::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::system::error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(boost::system::error_code&) override {}

  std::span<char> head_buf_;
  std::size_t head_used_ = 0;
  std::string overflow_;
  unsigned status_ = 0;
  std::vector<std::string> connection_named_;  // fields the Connection header names
  int transfer_encodings_ = 0;                 // Transfer-Encoding fields seen
  bool unsupported_coding_ = false;            // a coding besides chunked: fails the header
  char* body_data_ = nullptr;
  std::size_t body_size_ = 0;
};

}  // namespace rampart::http
