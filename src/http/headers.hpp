#pragma once
// Header rules a proxy must apply on each hop (RFC 9110 §7.6.1, RFC 9112 §6).

#include <boost/beast/http/fields.hpp>

#include <string_view>

namespace rampart::http {

// The hop-by-hop fields (Connection and every field it names, Keep-Alive, Proxy-Connection,
// TE, Trailer, Upgrade, Transfer-Encoding, Proxy-Authorization, Proxy-Authenticate) are left
// out as heads are written: http/wire.hpp for requests, http/upstream_response.hpp for
// responses.

// How a request body is framed, checked against request smuggling (RFC 9112 §6.3):
// Transfer-Encoding must end in "chunked" and may not come with Content-Length. A body with a
// coding before chunked ("gzip, chunked") is well framed, but the gateway re-chunks bodies and
// would lose that coding: kUnsupportedCoding, which RFC 9112 §6.1 answers with 501.
enum class Framing { kNone, kContentLength, kChunked, kInvalid, kUnsupportedCoding };
Framing request_framing(const boost::beast::http::fields& fields);

// The header that pins a request to a version and names the version that answered.
inline constexpr std::string_view kVersionHeader = "X-Rampart-Version";

// True when `value` (a comma-separated token list) contains `token`, case-insensitively.
bool has_token(std::string_view value, std::string_view token);

// True when `authority` is a valid Host value or absolute-form authority (RFC 9112 §3.2,
// RFC 3986 §3.2.2-3 without userinfo): a non-empty host (a reg-name of unreserved characters,
// percent-encodings and sub-delims, an IPv4 address, or an IP literal in brackets), then
// optionally ":" and a port of at most 5 digits. A comma, which RFC 3986 allows in a reg-name,
// is refused: in a field value it makes a list ("a, b"), and Host must be one authority.
// Whitespace, "/", "@", control characters and the like are refused.
bool is_valid_authority(std::string_view authority);

}  // namespace rampart::http
