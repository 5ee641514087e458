#pragma once
// What the gateway does with a request whose header it has read, decided without I/O: answer
// it itself (a Refusal: the JSON error of PRODUCT.md and what becomes of the connection), or
// forward it to one version of one service (a RoutedRequest). The session only carries out
// the decision; the rules are here, as plain functions with plain unit tests.

#include "config/config.hpp"
#include "gateway/route_table.hpp"
#include "http/headers.hpp"
#include "http/wire.hpp"
#include "metrics/registry.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace rampart::gateway {

// What becomes of the client connection after a request.
enum class After {
  kKeepAlive,    // read the next request
  kClose,        // close now
  kLingerClose,  // half-close, drain what the client still sends, then close (so the kernel
                 // does not reset the answer it has not read yet)
};

// An answer of the gateway's own instead of the upstream's.
struct Refusal {
  boost::beast::http::status status = boost::beast::http::status::bad_request;
  std::string detail{};
  std::string_view service{};  // "" when no service was matched (null in the body)
  std::string_view version{};  // "" when no version was picked
  // The error code: the body's "error" ("bad_request", "no_route", ...) and the metric's label.
  metrics::Rejection rejection = metrics::Rejection::kBadRequest;
  // What to do with the connection once the answer is written; the answer says
  // `Connection: close` unless this is kKeepAlive. A failed write closes it whatever this says.
  After after = After::kLingerClose;

  std::string_view error() const { return metrics::to_string(rejection); }
};

// A request to forward, with what routing learned from its fields.
struct RoutedRequest {
  const ServiceRoute* service = nullptr;
  const VersionRoute* version = nullptr;
  http::Framing framing = http::Framing::kNone;  // kNone, kContentLength or kChunked
  bool expect_continue = false;                  // Expect: 100-continue
  // The Host field (one at most, a valid authority); for an absolute-form target
  // ("http://authority/path"), which the gateway accepts as RFC 9112 §3.2.2 asks, the authority
  // instead. Empty for an HTTP/1.0 request without Host.
  std::string_view host;
  bool absolute_form = false;
  std::string_view origin_form;      // with absolute_form: the target's path and query
  std::string_view forwarded_for;    // the request's X-Forwarded-For, if one
  std::string joined_forwarded_for;  // when it has several: their values joined with ", "
  uint64_t sticky_hash = 0;          // the sticky key's hash when it chose the version, else 0

  bool has_body() const { return framing != http::Framing::kNone; }
  // What the gateway adds as it forwards the request from `client_ip`. Views into this object.
  http::Forwarding forwarding(std::string_view client_ip) const;
  // The key its errors are bounded by (metrics/version_stats.hpp). REQUIRES: version set.
  metrics::StickyKey sticky_key() const { return {sticky_hash, version->key_epoch}; }
};

// Routes a request by its header (PRODUCT.md, "The gateway's routing rules"): checks its
// framing (no transfer coding on HTTP/1.0), its Host (one at most, a valid authority; required
// on HTTP/1.1), its target, and that X-Rampart-Version comes at most once; matches a service; picks
// the version from the override header, the service's sticky key (the client IP, a header or a
// cookie) or `random_bucket` (uniform in [0, 10000)). `keep_alive` is what the client asked for.
// Views in the answer point into `routes` and `head`.
std::variant<Refusal, RoutedRequest> route_request(const RouteTable& routes,
                                                   const boost::beast::http::request_header<>& head,
                                                   bool keep_alive, std::string_view client_ip,
                                                   uint32_t random_bucket);

// The answer to a request whose header could not be read (`ec` from Beast's parser; neither a
// disconnect nor a timeout). `request_line_read`: the parser got past the request line;
// `unparsed`: what is left of the header in the read buffer. Over max_header_bytes: 414 when
// the request line was not read (it alone is longer), else 431; 413 over the body limit; else
// 400, saying so when a line ends in a bare LF.
Refusal refuse_unreadable_request(const boost::system::error_code& ec, const config::Limits& limits,
                                  bool request_line_read, std::string_view unparsed);

// The answer to a client that started a request header but did not finish it within
// header_timeout_ms: 408, and the connection is closed.
Refusal refuse_header_timeout(const config::Limits& limits);

// The answer to a request whose body failed mid-way (`ec` from Beast's parser, not a
// disconnect nor a timeout): 413 over the body limit, else 400. The connection is closed.
Refusal refuse_unreadable_body(const boost::system::error_code& ec, const config::Limits& limits,
                               const RoutedRequest& request);

// The answer when the upstream of `request` timed out (504 upstream_timeout) or failed (502
// upstream_reset: reset, closed, or broke the protocol) before any of its answer went out.
Refusal refuse_upstream_failure(bool timed_out, std::string detail, const RoutedRequest& request,
                                After after);

// The answer when the upstream of `request` answered 101 Switching Protocols: 502
// upgrade_not_supported, as protocol upgrades (WebSocket) are not proxied.
Refusal refuse_upgrade(const RoutedRequest& request, After after);

}  // namespace rampart::gateway
