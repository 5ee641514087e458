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
  // One pass over the fields, comparing their known-field codes: a message has few fields,
  // and looking each hop-by-hop name up (a case-insensitive tree search) cost more than the
  // whole pass (callgrind, docs/benchmarks.md). Names listed in Connection are rare; they
  // are collected here and erased by name afterwards.
  std::vector<std::string> named;
  for (auto it = fields.begin(); it != fields.end();) {
    switch (it->name()) {
      case field::connection:
        for (auto t : beast::http::token_list{it->value()}) {
          if (!beast::iequals(t, "close") && !beast::iequals(t, "keep-alive")) {
            named.emplace_back(t);
          }
        }
        it = fields.erase(it);
        break;
      case field::keep_alive:
      case field::proxy_connection:
      case field::te:
      case field::trailer:
      case field::upgrade:
      case field::transfer_encoding:
      case field::proxy_authorization:
      case field::proxy_authenticate:
        it = fields.erase(it);
        break;
      default:
        ++it;
        break;
    }
  }
  for (const auto& n : named) {
    fields.erase(n);
  }
}

Framing request_framing(const beast::http::fields& fields) {
  // One pass (see strip_hop_by_hop).
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
  return Framing::kChunked;
}

}  // namespace rampart::http
