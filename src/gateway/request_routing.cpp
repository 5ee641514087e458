#include "gateway/request_routing.hpp"

#include "gateway/picker.hpp"
#include "http/chunked.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <optional>

namespace rampart::gateway {

namespace bhttp = boost::beast::http;

namespace {

// A request target as the gateway accepts it: origin form ("/path?query") or absolute form
// with the http scheme ("http://authority/path?query", the scheme in any case).
struct Target {
  bool absolute = false;
  std::string_view authority;  // absolute form only
  std::string_view rest;       // the path and query; "" or "?query" for "http://a", "http://a?q"

  // The path that routes are matched against: no query, "/" when there is none.
  std::string_view path() const {
    const std::string_view p = rest.substr(0, rest.find('?'));
    return p.empty() ? std::string_view("/") : p;
  }
};

std::optional<Target> parse_target(std::string_view target) {
  if (!target.empty() && target.front() == '/') {
    return Target{false, {}, target};
  }
  constexpr std::string_view kScheme = "http://";
  if (target.size() <= kScheme.size() ||
      !boost::beast::iequals(target.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  const std::string_view after = target.substr(kScheme.size());
  const std::size_t end = std::min(after.find_first_of("/?"), after.size());
  Target t{true, after.substr(0, end), after.substr(end)};
  // No userinfo ("user@host"): RFC 9110 §4.2.4 forbids it in http URIs.
  if (!http::is_valid_authority(t.authority)) {
    return std::nullopt;
  }
  return t;
}

Refusal bad_request(std::string detail) {
  return {.status = bhttp::status::bad_request,
          .detail = std::move(detail),
          .rejection = metrics::Rejection::kBadRequest,
          .after = After::kLingerClose};
}

// RFC 9112 §6.1: a Transfer-Encoding on HTTP/1.0 is faulty framing; the connection is closed.
Refusal transfer_coding_on_http10() {
  return bad_request("Transfer-Encoding on an HTTP/1.0 request: the framing cannot be trusted");
}

Refusal body_too_large(const config::Limits& limits) {
  return {.status = bhttp::status::payload_too_large,
          .detail = "the request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes",
          .rejection = metrics::Rejection::kBodyTooLarge,
          .after = After::kLingerClose};
}

}  // namespace

http::Forwarding RoutedRequest::forwarding(std::string_view client_ip) const {
  http::Forwarding f;
  f.client_ip = client_ip;
  f.prior_forwarded_for = joined_forwarded_for.empty() ? forwarded_for : joined_forwarded_for;
  f.host = host;
  f.chunked = framing == http::Framing::kChunked;
  f.absolute_form = absolute_form;
  f.origin_form = origin_form;
  return f;
}

std::variant<Refusal, RoutedRequest> route_request(const RouteTable& routes,
                                                   const bhttp::request_header<>& head,
                                                   bool keep_alive, std::string_view client_ip,
                                                   uint32_t random_bucket) {
  RoutedRequest out;
  out.framing = http::request_framing(head);
  if (out.framing == http::Framing::kUnsupportedCoding) {
    if (head.version() < 11) {
      return transfer_coding_on_http10();
    }
    return Refusal{.status = bhttp::status::not_implemented,
                   .detail =
                       "the gateway supports no transfer coding but chunked; send the body "
                       "with Transfer-Encoding: chunked or Content-Length",
                   .rejection = metrics::Rejection::kUnsupportedTransferCoding,
                   .after = After::kLingerClose};
  }
  if (out.framing == http::Framing::kInvalid) {
    return bad_request(
        "ambiguous message framing: Transfer-Encoding must end in chunked and may not come with "
        "Content-Length");
  }
  if (out.framing == http::Framing::kChunked && head.version() < 11) {
    return transfer_coding_on_http10();
  }
  // One pass over the fields for everything routing and forwarding need (a lookup per name
  // would search the field tree each time).
  std::string_view override_version;
  std::string_view expect;
  std::string_view cookie;
  bool seen_host = false;
  bool seen_override = false;
  for (const auto& f : head) {
    switch (f.name()) {
      case bhttp::field::host:
        // RFC 9112 §3.2: more than one Host, or one that is not an authority, is answered 400.
        if (seen_host) {
          return bad_request("more than one Host header");
        }
        out.host = f.value();
        seen_host = true;
        if (!out.host.empty() && !http::is_valid_authority(out.host)) {
          return bad_request("the Host header is not a valid authority (host[:port])");
        }
        break;
      case bhttp::field::expect:
        expect = f.value();
        break;
      case bhttp::field::cookie:
        if (cookie.empty()) {
          cookie = f.value();
        }
        break;
      case bhttp::field::unknown: {
        const std::string_view name = f.name_string();
        if (boost::beast::iequals(name, http::kVersionHeader)) {
          // Routed on and forwarded: with two, the upstream could read the other one.
          if (seen_override) {
            return bad_request("more than one " + std::string(http::kVersionHeader) + " header");
          }
          override_version = f.value();
          seen_override = true;
        } else if (boost::beast::iequals(name, "X-Forwarded-For")) {
          if (out.forwarded_for.empty() && out.joined_forwarded_for.empty()) {
            out.forwarded_for = f.value();
          } else {
            if (out.joined_forwarded_for.empty()) {
              out.joined_forwarded_for = std::string(out.forwarded_for);
            }
            out.joined_forwarded_for += ", ";
            out.joined_forwarded_for += std::string_view(f.value());
          }
        }
        break;
      }
      default:
        break;
    }
  }
  // RFC 9110 §15.2: no 1xx answer to an HTTP/1.0 client.
  out.expect_continue = head.version() >= 11 && http::has_token(expect, "100-continue");
  if (out.host.empty() && head.version() >= 11) {
    return bad_request("an HTTP/1.1 request needs a Host header");
  }
  const std::optional<Target> target = parse_target(head.target());
  if (!target) {
    return bad_request(
        "the request target must be an absolute path, or an http:// URI with a valid authority "
        "(host[:port], no userinfo)");
  }
  if (target->absolute) {
    // RFC 9112 §3.2.2: the target's authority replaces the Host header.
    out.host = target->authority;
    out.absolute_form = true;
    out.origin_form = target->rest;
  }

  // Answered early, a request whose body is left unread cannot share its connection.
  const After early = keep_alive && !out.has_body() ? After::kKeepAlive : After::kLingerClose;
  const std::string_view path = target->path();
  out.service = routes.match(out.host, path);
  if (out.service == nullptr) {
    return Refusal{.status = bhttp::status::not_found,
                   .detail = "no service routes host \"" + std::string(out.host) + "\" path \"" +
                             std::string(path) + "\"",
                   .rejection = metrics::Rejection::kNoRoute,
                   .after = early};
  }
  const ServiceRoute& service = *out.service;

  PickInput pick_input;
  pick_input.random_bucket = random_bucket;
  if (!override_version.empty()) {
    pick_input.override_version = override_version;
  }
  switch (service.sticky.kind) {
    case config::StickyKind::kIp:
      pick_input.sticky_key = client_ip;
      break;
    case config::StickyKind::kHeader:
      if (auto it = head.find(service.sticky.name); it != head.end() && !it->value().empty()) {
        pick_input.sticky_key = it->value();
      }
      break;
    case config::StickyKind::kCookie:
      if (!cookie.empty()) {
        pick_input.sticky_key = find_cookie(cookie, service.sticky.name);
      }
      break;
    case config::StickyKind::kNone:
      break;
  }
  const Pick pick = pick_version(service, pick_input);
  if (pick.error) {
    return Refusal{.status = bhttp::status::bad_request,
                   .detail = *pick.error == PickError::kVersionNotDeployed
                                 ? "version \"" + std::string(override_version) +
                                       "\" is not in the current deployment of service \"" +
                                       service.name + "\""
                                 : "the current deployment gives this request to no version",
                   .service = service.name,
                   .rejection = metrics::Rejection::kVersionNotDeployed,
                   .after = early};
  }
  out.version = pick.version;
  out.sticky_hash = pick.sticky_hash;
  return out;
}

Refusal refuse_unreadable_request(const boost::system::error_code& ec, const config::Limits& limits,
                                  bool request_line_read, std::string_view unparsed) {
  if (ec == bhttp::error::header_limit) {
    if (!request_line_read) {
      return {.status = bhttp::status::uri_too_long,
              .detail =
                  "the request line exceeds " + std::to_string(limits.max_header_bytes) + " bytes",
              .rejection = metrics::Rejection::kUriTooLong,
              .after = After::kLingerClose};
    }
    return {.status = bhttp::status::request_header_fields_too_large,
            .detail =
                "the request header exceeds " + std::to_string(limits.max_header_bytes) + " bytes",
            .rejection = metrics::Rejection::kHeaderTooLarge,
            .after = After::kLingerClose};
  }
  if (ec == bhttp::error::body_limit) {
    return body_too_large(limits);
  }
  // Beast reads a bare LF as part of the line, and then names what follows ("bad version").
  const std::size_t line_end = unparsed.find('\n');
  const std::size_t header_end = unparsed.find("\r\n\r\n");
  for (std::size_t at = line_end; at != std::string_view::npos && at < header_end;
       at = unparsed.find('\n', at + 1)) {
    if (at == 0 || unparsed[at - 1] != '\r') {
      return bad_request(at == line_end && !request_line_read
                             ? "malformed request: the request line ends in a bare LF, not CRLF"
                             : "malformed request: a header line ends in a bare LF, not CRLF");
    }
  }
  return bad_request("malformed request: " + ec.message());
}

Refusal refuse_header_timeout(const config::Limits& limits) {
  return {.status = bhttp::status::request_timeout,
          .detail = "the request header did not arrive within " +
                    std::to_string(limits.header_timeout_ms) + " ms",
          .rejection = metrics::Rejection::kRequestTimeout,
          .after = After::kClose};
}

Refusal refuse_unreadable_body(const boost::system::error_code& ec, const config::Limits& limits,
                               const RoutedRequest& request) {
  const bool over_framing_limit = ec == http::ChunkFramingError::kLineTooLong ||
                                  ec == http::ChunkFramingError::kTrailerTooLarge;
  Refusal r = ec == bhttp::error::body_limit
                  ? body_too_large(limits)
                  : bad_request("malformed request body: " + ec.message() +
                                (over_framing_limit
                                     ? " of " + std::to_string(limits.max_header_bytes) + " bytes"
                                     : ""));
  r.service = request.service->name;
  r.version = request.version->name;
  return r;
}

Refusal refuse_upstream_failure(bool timed_out, std::string detail, const RoutedRequest& request,
                                After after) {
  return {.status = timed_out ? bhttp::status::gateway_timeout : bhttp::status::bad_gateway,
          .detail = std::move(detail),
          .service = request.service->name,
          .version = request.version->name,
          .rejection =
              timed_out ? metrics::Rejection::kUpstreamTimeout : metrics::Rejection::kUpstreamReset,
          .after = after};
}

Refusal refuse_upgrade(const RoutedRequest& request, After after) {
  return {.status = bhttp::status::bad_gateway,
          .detail =
              "the upstream answered 101 Switching Protocols: the gateway does not proxy "
              "protocol upgrades (WebSocket)",
          .service = request.service->name,
          .version = request.version->name,
          .rejection = metrics::Rejection::kUpgradeNotSupported,
          .after = after};
}

}  // namespace rampart::gateway
