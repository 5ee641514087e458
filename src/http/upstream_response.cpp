#include "http/upstream_response.hpp"

#include "http/headers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cstring>

namespace rampart::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using bhttp::field;

namespace {
std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}
}  // namespace

void UpstreamResponse::add_field(std::string_view name, std::string_view value) {
  append(name);
  append(": ");
  append(value);
  append("\r\n");
}

void UpstreamResponse::on_response_impl(int code, beast::string_view reason_in, int /*version*/,
                                        boost::system::error_code& /*ec*/) {
  const std::string_view reason(reason_in.data(), reason_in.size());
  status_ = static_cast<unsigned>(code);
  const char digits[4] = {static_cast<char>('0' + code / 100 % 10),
                          static_cast<char>('0' + code / 10 % 10),
                          static_cast<char>('0' + code % 10), ' '};
  append("HTTP/1.1 ");
  append(std::string_view(digits, 4));
  append(reason.empty() ? std::string_view(bhttp::obsolete_reason(bhttp::int_to_status(status_)))
                        : reason);
  append("\r\n");
}

void UpstreamResponse::on_field_impl(field name, beast::string_view name_in,
                                     beast::string_view value_in,
                                     boost::system::error_code& /*ec*/) {
  const std::string_view name_string(name_in.data(), name_in.size());
  const std::string_view value(value_in.data(), value_in.size());
  switch (name) {
    case field::connection:
      for (auto t : bhttp::token_list{value}) {
        if (!beast::iequals(t, "close") && !beast::iequals(t, "keep-alive")) {
          connection_named_.emplace_back(t);
        }
      }
      return;
    case field::transfer_encoding:
      // Bodies are re-chunked for the client: a coding besides chunked would be lost.
      if (++transfer_encodings_ > 1 || !beast::iequals(trim(value), "chunked")) {
        unsupported_coding_ = true;
      }
      return;
    case field::keep_alive:
    case field::proxy_connection:
    case field::te:
    case field::trailer:
    case field::upgrade:
    case field::proxy_authorization:
    case field::proxy_authenticate:
      return;  // hop-by-hop: for this connection only
    case field::unknown:
      if (beast::iequals(name_string, kVersionHeader)) {
        return;  // the gateway says which version answered, not the upstream
      }
      break;
    default:
      break;
  }
  add_field(name_string, value);
}

void UpstreamResponse::on_header_impl(boost::system::error_code& ec) {
  if (unsupported_coding_) {
    ec = bhttp::error::bad_transfer_encoding;
    return;
  }
  if (connection_named_.empty()) {
    return;
  }
  // Remove the lines of the fields Connection named. The head is written line by line, so
  // every line after the status line is "name: value\r\n".
  std::string head(head_buf_.data(), head_used_);
  head += overflow_;
  std::string kept;
  kept.reserve(head.size());
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    end = end == std::string::npos ? head.size() : end + 2;
    std::string_view line(head.data() + pos, end - pos);
    const auto colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    const bool named = !first && colon != std::string_view::npos &&
                       std::any_of(connection_named_.begin(), connection_named_.end(),
                                   [&](const std::string& n) { return beast::iequals(n, name); });
    if (!named) {
      kept.append(line);
    }
    first = false;
    pos = end;
  }
  head_used_ = 0;
  overflow_.clear();
  append(kept);
}

std::size_t UpstreamResponse::on_body_impl(beast::string_view body, boost::system::error_code& ec) {
  const std::size_t n = std::min(body.size(), body_size_);
  if (n > 0) {
    std::memcpy(body_data_, body.data(), n);
    body_data_ += n;
    body_size_ -= n;
  }
  if (n < body.size()) {
    ec = bhttp::error::need_buffer;
  }
  return n;
}

}  // namespace rampart::http
