#pragma once
// Writing HTTP/1.1 message heads and chunk framing straight into a caller's buffer.
//
// The proxy relays a message as: head, then body pieces. Writing the head into the same
// buffer the first body piece is read into lets the first write be one contiguous buffer,
// instead of the dozens of small pieces a generic serializer gathers.

#include <boost/beast/http/message.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace rampart::http {

// What the gateway adds to a request it forwards.
struct Forwarding {
  std::string_view client_ip;            // appended to X-Forwarded-For
  std::string_view prior_forwarded_for;  // the request's own X-Forwarded-For ("": none)
  // The host the request was routed on (its Host field, or an absolute-form target's
  // authority): the one Host field the upstream gets, and X-Forwarded-Host. "" when the request
  // had none (HTTP/1.0): then Host is `upstream_host` and no X-Forwarded-Host is sent.
  std::string_view host;
  bool chunked = false;  // the body goes out chunked
  // The request's target was in absolute form ("http://authority/path?query", RFC 9112
  // §3.2.2): it goes out in origin form, `origin_form` ("/path?query"; "/" is put in front of
  // one that is empty or starts with '?'), and with `Host: host` (the authority) instead of
  // the request's own Host fields.
  bool absolute_form = false;
  std::string_view origin_form{};
  // The body's length when it is sized: written as the one Content-Length field, in place of
  // the request's (which may be repeated, or a list of equal values, as RFC 9110 §8.6 lets a
  // recipient accept, but an upstream need not).
  std::optional<std::uint64_t> content_length{};
  // The Host of a request that had none: the upstream's authority ("127.0.0.1:9001").
  std::string_view upstream_host{};
};

// The request as the upstream gets it, written without changing `head`: the request line
// (HTTP/1.1, the target in origin form) and `Host: host` (upstream_host when host is empty);
// every field except Host, the hop-by-hop ones (and those its Connection header names, Host
// excepted), Expect, X-Forwarded-For/-Proto/-Host, Content-Length when it is rewritten for a
// sized body, and the underscore twins of the framing and forwarding fields
// (Content_Length, Transfer_Encoding, Host, X_Forwarded_For, ...: a CGI-style upstream reads
// `_` as `-`, and would see two framings or a forged address); then X-Forwarded-For (the prior
// value, ", ", the client IP), X-Forwarded-Proto: http, X-Forwarded-Host (when the request had
// a host) and, when chunked, Transfer-Encoding: chunked. Returns the bytes written, or 0 when `out`
// is too small (then use forwarded_head_string). Responses are written while they are parsed
// (http/upstream_response.hpp).
std::size_t write_forwarded_head(const boost::beast::http::request_header<>& head,
                                 const Forwarding& forwarding, std::span<char> out);
std::string forwarded_head_string(const boost::beast::http::request_header<>& head,
                                  const Forwarding& forwarding);

// RFC 9112 §2.3: a message of a later HTTP/1.x (HTTP/1.2 ... HTTP/1.9) is handled as
// HTTP/1.1, which Beast's parser refuses to. When the first line of the message in
// [data, data + size) is a whole request line ending in " HTTP/1.D", or a status line starting
// "HTTP/1.D ", with D 2..9, rewrites D to 1 and returns true; else leaves it and returns false.
// Called only after the parser answered bad_version, so the common path does not pay.
bool read_as_http11(char* data, std::size_t size);

// "1a2b\r\n": the size line of a chunk of `size` bytes. `out` must hold 18 bytes.
std::size_t write_chunk_size(std::size_t size, char* out);

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace rampart::http
