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
