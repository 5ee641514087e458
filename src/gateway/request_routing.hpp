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
  std::string_view error{};  // the body's "error": "bad_request", "no_route", ...
  std::string detail{};
  std::string_view service{};  // "" when no service was matched (null in the body)
  std::string_view version{};  // "" when no version was picked
  metrics::Rejection rejection = metrics::Rejection::kBadRequest;
  // What to do with the connection once the answer is written; the answer says
  // `Connection: close` unless this is kKeepAlive. A failed write closes it whatever this says.
  After after = After::kLingerClose;
};

// A request to forward, with what routing learned from its fields.
struct RoutedRequest {
  const ServiceRoute* service = nullptr;
  const VersionRoute* version = nullptr;
  http::Framing framing = http::Framing::kNone;  // kNone, kContentLength or kChunked
  bool expect_continue = false;                  // Expect: 100-continue
  // The first Host field; for an absolute-form target ("http://authority/path"), which the
  // gateway accepts as RFC 9112 §3.2.2 asks, the authority instead.
  std::string_view host;
  bool absolute_form = false;
  std::string_view origin_form;      // with absolute_form: the target's path and query
  std::string_view forwarded_for;    // the request's X-Forwarded-For, if one
  std::string joined_forwarded_for;  // when it has several: their values joined with ", "

  bool has_body() const { return framing != http::Framing::kNone; }
  // What the gateway adds as it forwards the request from `client_ip`. Views into this object.
  http::Forwarding forwarding(std::string_view client_ip) const;
};

// Routes a request by its header (PRODUCT.md, "The gateway's routing rules"): checks its
// framing, Host and target; matches a service; picks the version from the override header,
// the service's sticky key (the client IP, a header or a cookie) or `random_bucket` (uniform
// in [0, 10000)). `keep_alive` is what the client asked for. Views in the answer point into
// `routes` and `head`.
std::variant<Refusal, RoutedRequest> route_request(const RouteTable& routes,
                                                   const boost::beast::http::request_header<>& head,
                                                   bool keep_alive, std::string_view client_ip,
                                                   uint32_t random_bucket);

// The answer to a request whose header could not be read (`ec` from Beast's parser; neither a
// disconnect nor a timeout): 431 over the header limit, 413 over the body limit, else 400.
Refusal refuse_unreadable_request(const boost::system::error_code& ec,
                                  const config::Limits& limits);

// The answer to a request whose body failed mid-way (`ec` from Beast's parser, not a
// disconnect nor a timeout): 413 over the body limit, else 400. The connection is closed.
Refusal refuse_unreadable_body(const boost::system::error_code& ec, const config::Limits& limits,
                               const RoutedRequest& request);

// The answer when the upstream of `request` timed out (504 upstream_timeout) or failed (502
// upstream_reset: reset, closed, or broke the protocol) before any of its answer went out.
Refusal refuse_upstream_failure(bool timed_out, std::string detail, const RoutedRequest& request,
                                After after);

}  // namespace rampart::gateway
