#include "http/headers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <array>
#include <string>
#include <vector>

namespace rampart::http {

namespace beast = boost::beast;
using beast::http::field;

bool has_token(std::string_view value, std::string_view token) {
  for (auto t : beast::http::token_list{value}) {
    if (beast::iequals(t, token)) {
      return true;
    }
  }
  return false;
}

namespace {

// The characters of a reg-name (RFC 3986 §3.2.2) but ',' and '%' (checked apart): unreserved
// and sub-delims.
constexpr std::array<bool, 256> reg_name_chars() {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) {
    t[c] = true;
    t[c - 'a' + 'A'] = true;
  }
  for (int c = '0'; c <= '9'; ++c) {
    t[c] = true;
  }
  for (char c : std::string_view("-._~!$&'()*+;=")) {
    t[static_cast<unsigned char>(c)] = true;
  }
  return t;
}
constexpr std::array<bool, 256> kRegNameChars = reg_name_chars();

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A reg-name or IPv4 address (an IPv4 address is a valid reg-name).
bool is_reg_name(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
        return false;
      }
      i += 2;
    } else if (!kRegNameChars[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

// The inside of an IP literal: an IPv6 address or an IPvFuture, by their alphabets.
bool is_ip_literal(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!kRegNameChars[static_cast<unsigned char>(c)] && c != ':') {
      return false;
    }
  }
  return true;
}

bool is_port(std::string_view s) {
  if (s.size() > 5) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_valid_authority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || !is_ip_literal(authority.substr(1, close - 1))) {
      return false;
    }
    rest = authority.substr(close + 1);
    host = {};
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      rest = authority.substr(colon);
    }
    if (host.empty() || !is_reg_name(host)) {
      return false;
    }
  }
  if (rest.empty()) {
    return true;
  }
  return rest.front() == ':' && is_port(rest.substr(1));
}

Framing request_framing(const beast::http::fields& fields) {
  // One pass over the fields: cheaper than a lookup per name.
  std::size_t te = 0;
  std::size_t cl = 0;
  std::string_view value;
  for (const auto& f : fields) {
    if (f.name() == field::transfer_encoding) {
      ++te;
      value = f.value();
    } else if (f.name() == field::content_length) {
      ++cl;
    }
  }
  if (te == 0) {
    return cl > 0 ? Framing::kContentLength : Framing::kNone;
  }
  if (cl > 0 || te > 1) {
    return Framing::kInvalid;
  }
  // The last coding must be chunked, and chunked may appear only once.
  int chunked = 0;
  std::string_view last;
  for (auto t : beast::http::token_list{value}) {
    last = t;
    if (beast::iequals(t, "chunked")) {
      ++chunked;
    }
  }
  if (chunked != 1 || !beast::iequals(last, "chunked")) {
    return Framing::kInvalid;
  }
  return beast::iequals(value, "chunked") ? Framing::kChunked : Framing::kUnsupportedCoding;
}

}  // namespace rampart::http
