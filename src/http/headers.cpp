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

// A reg-name (an IPv4 address is one too): the common case is one branch-free pass that
// only notes whether a character outside the table came; percent-encodings are checked after.
bool is_reg_name(std::string_view host) {
  bool other = false;
  for (char c : host) {
    other |= !kRegNameChars[static_cast<unsigned char>(c)];
  }
  if (!other) [[likely]] {
    return !host.empty();
  }
  for (std::size_t i = 0; i < host.size(); ++i) {
    if (kRegNameChars[static_cast<unsigned char>(host[i])]) {
      continue;
    }
    if (host[i] != '%' || i + 2 >= host.size() || !is_hex(host[i + 1]) || !is_hex(host[i + 2])) {
      return false;
    }
    i += 2;
  }
  return true;
}

}  // namespace

bool is_valid_authority(std::string_view authority) {
  // The port: digits after the last ':', found from the end (a reg-name has no ':').
  const std::size_t colon = authority.rfind(':');
  const bool bracketed = !authority.empty() && authority.front() == '[';
  std::string_view host = authority;
  if (colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']')) {
    if (!is_port(authority.substr(colon + 1))) {
      return false;
    }
    host = authority.substr(0, colon);
  }
  if (bracketed) {
    return host.size() > 2 && host.back() == ']' && is_ip_literal(host.substr(1, host.size() - 2));
  }
  return is_reg_name(host);
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
