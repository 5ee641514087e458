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

void strip_hop_by_hop(beast::http::fields& fields) {
  auto connection = fields.find(field::connection);
  if (connection != fields.end()) {
    // Collect first: erasing while iterating the Connection value would invalidate it.
    std::vector<std::string> named;
    for (auto it = fields.find(field::connection);
         it != fields.end() && it->name() == field::connection; ++it) {
      for (auto t : beast::http::token_list{it->value()}) {
        named.emplace_back(t);
      }
    }
    for (const auto& n : named) {
      if (!beast::iequals(n, "close") && !beast::iequals(n, "keep-alive")) {
        fields.erase(n);
      }
    }
    fields.erase(field::connection);
  }
  static constexpr std::array kHopByHop = {
      field::keep_alive,
      field::proxy_connection,
      field::te,
      field::trailer,
      field::upgrade,
      field::transfer_encoding,
      field::proxy_authorization,
      field::proxy_authenticate,
  };
  for (auto f : kHopByHop) {
    fields.erase(f);
  }
}

Framing request_framing(const beast::http::fields& fields) {
  auto te = fields.count(field::transfer_encoding);
  auto cl = fields.count(field::content_length);
  if (te == 0) {
    return cl > 0 ? Framing::kContentLength : Framing::kNone;
  }
  if (cl > 0 || te > 1) {
    return Framing::kInvalid;
  }
  // The last coding must be chunked, and chunked may appear only once.
  std::string_view value = fields[field::transfer_encoding];
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
  return Framing::kChunked;
}

}  // namespace rampart::http
