#include "gateway/request_routing.hpp"

#include "config/config.hpp"
#include "gateway/picker.hpp"
#include "http/chunked.hpp"
#include "metrics/registry.hpp"

#include <gtest/gtest.h>
#include <boost/beast/http/error.hpp>

#include <string>
#include <utility>
#include <vector>

namespace rampart::gateway {
namespace {

namespace bhttp = boost::beast::http;

// "shop" splits by a header key, "api" by a cookie, "ip" by the client's address; one bucket of
// "shop" goes to v2 only through the override header, which is what the cases rely on.
constexpr std::string_view kConfig = R"(
[[service]]
name = "shop"
routes = ["shop.example.com/", "/shop/"]
sticky = "header:X-User-Id"
[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9001"]
[[service.version]]
name = "v2"
upstreams = ["http://127.0.0.1:9002"]
[service.split]
v1 = 100
v2 = 0

[[service]]
name = "api"
routes = ["api.example.com/"]
sticky = "cookie:sid"
[[service.version]]
name = "a1"
upstreams = ["http://127.0.0.1:9003"]
[[service.version]]
name = "a2"
upstreams = ["http://127.0.0.1:9004"]
[service.split]
a1 = 50
a2 = 50

[[service]]
name = "ip"
routes = ["ip.example.com/"]
[[service.version]]
name = "i1"
upstreams = ["http://127.0.0.1:9005"]
[[service.version]]
name = "i2"
upstreams = ["http://127.0.0.1:9006"]
[service.split]
i1 = 50
i2 = 50
)";

std::shared_ptr<const RouteTable> table() {
  static std::shared_ptr<const RouteTable> built = [] {
    auto cfg = config::parse_config(kConfig, "test.toml");
    EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().message);
    static metrics::Registry registry(1);
    static UpstreamIds ids;
    return build_route_table(*cfg, 1, registry, ids, {});
  }();
  return built;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string target = "/";
  unsigned version = 11;
  Fields fields{};
  bool keep_alive = true;
  std::string client_ip = "10.0.0.1";
  uint32_t random_bucket = 0;
};

bhttp::request_header<> head_of(const Request& r) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::get);
  h.target(r.target);
  h.version(r.version);
  for (const auto& [name, value] : r.fields) {
    h.insert(name, value);
  }
  return h;
}

// The version the service's split gives `key` (what the sticky cases expect).
std::string version_for_key(std::string_view service, std::string_view key) {
  for (const auto& s : table()->services) {
    if (s.name == service) {
      return version_for_bucket(s, sticky_bucket(s.salt_seed, key))->name;
    }
  }
  return "";
}

struct RefusalCase {
  std::string_view name;
  Request request;
  bhttp::status status;
  std::string_view error;
  std::string_view detail;  // a part of it
  std::string_view service;
  metrics::Rejection rejection;
  After after;
};

TEST(RequestRouting, RefusalsNameTheRuleAndWhatBecomesOfTheConnection) {
  const RefusalCase cases[] = {
      {"content-length with transfer-encoding",
       {.fields = {{"Host", "shop.example.com"},
                   {"Content-Length", "5"},
                   {"Transfer-Encoding", "chunked"}}},
       bhttp::status::bad_request,
       "bad_request",
       "ambiguous message framing",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"transfer-encoding not ending in chunked",
       {.fields = {{"Host", "shop.example.com"}, {"Transfer-Encoding", "gzip"}}},
       bhttp::status::bad_request,
       "bad_request",
       "ambiguous message framing",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a transfer coding before chunked",
       {.fields = {{"Host", "shop.example.com"}, {"Transfer-Encoding", "gzip, chunked"}}},
       bhttp::status::not_implemented,
       "unsupported_transfer_coding",
       "no transfer coding but chunked",
       "",
       metrics::Rejection::kUnsupportedTransferCoding,
       After::kLingerClose},
      {"chunked on HTTP/1.0",
       {.version = 10, .fields = {{"Host", "shop.example.com"}, {"Transfer-Encoding", "chunked"}}},
       bhttp::status::bad_request,
       "bad_request",
       "Transfer-Encoding on an HTTP/1.0 request",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a transfer coding before chunked on HTTP/1.0",
       {.version = 10,
        .fields = {{"Host", "shop.example.com"}, {"Transfer-Encoding", "gzip, chunked"}}},
       bhttp::status::bad_request,
       "bad_request",
       "Transfer-Encoding on an HTTP/1.0 request",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"two Host headers",
       {.fields = {{"Host", "shop.example.com"}, {"Host", "api.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "more than one Host header",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"two equal Host headers",
       {.fields = {{"Host", "shop.example.com"}, {"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "more than one Host header",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a Host list",
       {.fields = {{"Host", "shop.example.com, api.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "the Host header is not a valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a Host with a space",
       {.fields = {{"Host", "a b"}}},
       bhttp::status::bad_request,
       "bad_request",
       "the Host header is not a valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a Host with a tab",
       {.fields = {{"Host", "a\tb"}}},
       bhttp::status::bad_request,
       "bad_request",
       "the Host header is not a valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a Host with a path",
       {.fields = {{"Host", "shop.example.com/evil"}}},
       bhttp::status::bad_request,
       "bad_request",
       "the Host header is not a valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a Host folded over two lines (Beast joins the lines with a space)",
       {.fields = {{"Host", "shop.example.com  evil.example"}}},
       bhttp::status::bad_request,
       "bad_request",
       "the Host header is not a valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"a Host with a port that is not a number",
       {.fields = {{"Host", "shop.example.com:abc"}}},
       bhttp::status::bad_request,
       "bad_request",
       "the Host header is not a valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"two override headers",
       {.fields = {{"Host", "shop.example.com"},
                   {"X-Rampart-Version", "v2"},
                   {"X-Rampart-Version", "v9"}}},
       bhttp::status::bad_request,
       "bad_request",
       "more than one X-Rampart-Version header",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"absolute form with an invalid authority",
       {.target = "http://a<b>/", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"absolute form with a port that is not a number",
       {.target = "http://shop.example.com:abc/", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "valid authority",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"HTTP/1.1 without Host",
       {.fields = {}},
       bhttp::status::bad_request,
       "bad_request",
       "needs a Host header",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"target not an absolute path",
       {.target = "shop/cart", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "absolute path",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"asterisk form",
       {.target = "*", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "absolute path, or an http:// URI",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"authority form",
       {.target = "shop.example.com:80", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "absolute path, or an http:// URI",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"https URI",
       {.target = "https://shop.example.com/", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "absolute path, or an http:// URI",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"http URI without a host",
       {.target = "http:///shop/", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "absolute path, or an http:// URI",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"http URI with userinfo",
       {.target = "http://user@shop.example.com/", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "absolute path, or an http:// URI",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"scheme alone",
       {.target = "http://", .fields = {{"Host", "shop.example.com"}}},
       bhttp::status::bad_request,
       "bad_request",
       "absolute path, or an http:// URI",
       "",
       metrics::Rejection::kBadRequest,
       After::kLingerClose},
      {"no route, keep-alive, no body: the connection stays",
       {.target = "/nothing?x=1", .fields = {{"Host", "other.example.com"}}},
       bhttp::status::not_found,
       "no_route",
       "host \"other.example.com\" path \"/nothing\"",
       "",
       metrics::Rejection::kNoRoute,
       After::kKeepAlive},
      {"no route with an unread body",
       {.fields = {{"Host", "other.example.com"}, {"Content-Length", "3"}}},
       bhttp::status::not_found,
       "no_route",
       "no service routes",
       "",
       metrics::Rejection::kNoRoute,
       After::kLingerClose},
      {"no route, the client asked to close",
       {.fields = {{"Host", "other.example.com"}}, .keep_alive = false},
       bhttp::status::not_found,
       "no_route",
       "no service routes",
       "",
       metrics::Rejection::kNoRoute,
       After::kLingerClose},
      {"override names a version the service does not deploy",
       {.fields = {{"Host", "shop.example.com"}, {"X-Rampart-Version", "v9"}}},
       bhttp::status::bad_request,
       "version_not_deployed",
       "version \"v9\" is not in the current deployment of service \"shop\"",
       "shop",
       metrics::Rejection::kVersionNotDeployed,
       After::kKeepAlive},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    const auto head = head_of(c.request);
    auto routed = route_request(*table(), head, c.request.keep_alive, c.request.client_ip,
                                c.request.random_bucket);
    ASSERT_TRUE(std::holds_alternative<Refusal>(routed));
    const Refusal& r = std::get<Refusal>(routed);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.error(), c.error);
    EXPECT_NE(r.detail.find(c.detail), std::string::npos) << r.detail;
    EXPECT_EQ(r.service, c.service);
    EXPECT_EQ(r.version, "");
    EXPECT_EQ(r.rejection, c.rejection);
    EXPECT_EQ(r.after, c.after);
  }
}

struct RoutedCase {
  std::string_view name;
  Request request;
  std::string service;
  std::string version;
  http::Framing framing = http::Framing::kNone;
  bool expect_continue = false;
  std::string_view forwarded_for{};  // what goes out before the client's address
  // For an absolute-form target: the authority (else the Host field is expected) and the
  // origin form that goes out.
  std::string_view absolute_host{};
  std::string_view origin_form{};
};

TEST(RequestRouting, RoutedRequestsCarryServiceVersionAndForwarding) {
  const RoutedCase cases[] = {
      {"host route", {.fields = {{"Host", "shop.example.com"}}}, "shop", "v1"},
      {"path route, any host, absolute-form target",
       {.target = "http://elsewhere/shop/cart?q=1", .fields = {{"Host", "elsewhere"}}},
       "shop",
       "v1",
       http::Framing::kNone,
       false,
       "",
       "elsewhere",
       "/shop/cart?q=1"},
      {"an absolute-form target's authority routes, not the Host header",
       {.target = "http://SHOP.example.com:8080/x", .fields = {{"Host", "api.example.com"}}},
       "shop",
       "v1",
       http::Framing::kNone,
       false,
       "",
       "SHOP.example.com:8080",
       "/x"},
      {"absolute form: scheme in capitals, no path, a query",
       {.target = "HTTP://api.example.com?x=1", .fields = {{"Host", "api.example.com"}}},
       "api",
       "a2",
       http::Framing::kNone,
       false,
       "",
       "api.example.com",
       "?x=1"},
      {"HTTP/1.0 without Host reaches a path route",
       {.target = "/shop/", .version = 10},
       "shop",
       "v1"},
      {"the override header pins a version the split gives nothing",
       {.fields = {{"Host", "shop.example.com"}, {"x-rampart-version", "v2"}}},
       "shop",
       "v2"},
      {"a Host with a port", {.fields = {{"Host", "shop.example.com:8080"}}}, "shop", "v1"},
      {"HTTP/1.0: Expect: 100-continue is not answered",
       {.version = 10,
        .fields = {{"Host", "shop.example.com"},
                   {"Content-Length", "4"},
                   {"Expect", "100-continue"}}},
       "shop",
       "v1",
       http::Framing::kContentLength,
       false},
      {"sticky by cookie",
       {.fields = {{"Host", "api.example.com"}, {"Cookie", "a=1; sid=user-42; b=2"}}},
       "api",
       version_for_key("api", "user-42")},
      {"sticky by client IP",
       {.fields = {{"Host", "ip.example.com"}}, .client_ip = "192.0.2.7"},
       "ip",
       version_for_key("ip", "192.0.2.7")},
      {"no sticky key: the random draw",
       {.fields = {{"Host", "api.example.com"}}, .random_bucket = 0},
       "api",
       "a2"},
      {"no sticky key: the random draw, other half",
       {.fields = {{"Host", "api.example.com"}}, .random_bucket = 9999},
       "api",
       "a1"},
      {"chunked body and Expect: 100-continue",
       {.fields = {{"Host", "shop.example.com"},
                   {"Transfer-Encoding", "chunked"},
                   {"Expect", "100-Continue"}}},
       "shop",
       "v1",
       http::Framing::kChunked,
       true},
      {"one X-Forwarded-For",
       {.fields = {{"Host", "shop.example.com"},
                   {"Content-Length", "4"},
                   {"X-Forwarded-For", "203.0.113.1"}}},
       "shop",
       "v1",
       http::Framing::kContentLength,
       false,
       "203.0.113.1"},
      {"several X-Forwarded-For are joined in order",
       {.fields = {{"Host", "shop.example.com"},
                   {"X-Forwarded-For", "203.0.113.1"},
                   {"x-forwarded-for", "203.0.113.2, 203.0.113.3"},
                   {"X-Forwarded-For", "203.0.113.4"}}},
       "shop",
       "v1",
       http::Framing::kNone,
       false,
       "203.0.113.1, 203.0.113.2, 203.0.113.3, 203.0.113.4"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    const auto head = head_of(c.request);
    auto routed = route_request(*table(), head, c.request.keep_alive, c.request.client_ip,
                                c.request.random_bucket);
    ASSERT_TRUE(std::holds_alternative<RoutedRequest>(routed)) << std::get<Refusal>(routed).detail;
    // Moved, as the session keeps it: the forwarding must not point into the moved-from object.
    const RoutedRequest r = std::move(std::get<RoutedRequest>(routed));
    EXPECT_EQ(r.service->name, c.service);
    EXPECT_EQ(r.version->name, c.version);
    EXPECT_EQ(r.framing, c.framing);
    EXPECT_EQ(r.has_body(), c.framing != http::Framing::kNone);
    EXPECT_EQ(r.expect_continue, c.expect_continue);
    // The key that chose the version comes with the request, for the per-key error bound.
    const std::string_view name(c.name);
    const std::string_view key = name == "sticky by cookie"      ? "user-42"
                                 : name == "sticky by client IP" ? "192.0.2.7"
                                                                 : "";
    EXPECT_EQ(r.sticky_hash, key.empty() ? 0 : sticky_hash(r.service->salt_seed, key));
    EXPECT_EQ(r.sticky_key().hash, r.sticky_hash);
    EXPECT_EQ(r.sticky_key().epoch, r.version->key_epoch);
    const http::Forwarding f = r.forwarding(c.request.client_ip);
    EXPECT_EQ(f.client_ip, c.request.client_ip);
    EXPECT_EQ(f.prior_forwarded_for, c.forwarded_for);
    EXPECT_EQ(f.chunked, c.framing == http::Framing::kChunked);
    EXPECT_EQ(f.absolute_form, !c.absolute_host.empty());
    if (f.absolute_form) {
      EXPECT_EQ(f.host, c.absolute_host);
      EXPECT_EQ(f.origin_form, c.origin_form);
    } else {
      const auto host = head.find(bhttp::field::host);
      EXPECT_EQ(f.host, host == head.end() ? std::string_view() : std::string_view(host->value()));
    }
  }
}

TEST(RequestRouting, UnreadableRequestsAreAnsweredByTheLimitTheyBroke) {
  config::Limits limits;
  limits.max_header_bytes = 8192;
  limits.max_body_bytes = 1024;
  const std::string fields(9000, 'x');
  const Refusal header =
      refuse_unreadable_request(bhttp::error::header_limit, limits, true, "X: " + fields);
  EXPECT_EQ(header.status, bhttp::status::request_header_fields_too_large);
  EXPECT_EQ(header.error(), "header_too_large");
  EXPECT_EQ(header.detail, "the request header exceeds 8192 bytes");
  EXPECT_EQ(header.rejection, metrics::Rejection::kHeaderTooLarge);
  EXPECT_EQ(header.after, After::kLingerClose);

  // A request line alone over the limit (the parser did not get past it): 414.
  const std::string target(9000, 'a');
  for (const std::string& line : {"GET /" + target, "GET /" + target + " HTTP/1.1\r\n"}) {
    const Refusal uri = refuse_unreadable_request(bhttp::error::header_limit, limits, false, line);
    EXPECT_EQ(uri.status, bhttp::status::uri_too_long);
    EXPECT_EQ(uri.error(), "uri_too_long");
    EXPECT_EQ(uri.detail, "the request line exceeds 8192 bytes");
    EXPECT_EQ(uri.rejection, metrics::Rejection::kUriTooLong);
    EXPECT_EQ(uri.after, After::kLingerClose);
  }

  const Refusal body = refuse_unreadable_request(bhttp::error::body_limit, limits, true, "");
  EXPECT_EQ(body.status, bhttp::status::payload_too_large);
  EXPECT_EQ(body.error(), "body_too_large");
  EXPECT_EQ(body.detail, "the request body exceeds 1024 bytes");
  EXPECT_EQ(body.rejection, metrics::Rejection::kBodyTooLarge);

  const Refusal bad = refuse_unreadable_request(bhttp::error::bad_method, limits, false, "G@T / ");
  EXPECT_EQ(bad.status, bhttp::status::bad_request);
  EXPECT_EQ(bad.error(), "bad_request");
  EXPECT_EQ(bad.detail, "malformed request: bad method");
  EXPECT_EQ(bad.after, After::kLingerClose);
}

TEST(RequestRouting, ALineEndingInABareLfIsNamed) {
  const config::Limits limits;
  struct Case {
    std::string_view name;
    bool request_line_read;
    std::string_view unparsed;
    std::string_view detail;
  };
  const Case cases[] = {
      {"request line", false, "GET / HTTP/1.1\nHost: x\r\n\r\n",
       "malformed request: the request line ends in a bare LF, not CRLF"},
      {"header line, the request line still unparsed", false,
       "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
       "malformed request: a header line ends in a bare LF, not CRLF"},
      {"header line after the request line", true, "Host: x\nX: y\r\n\r\n",
       "malformed request: a header line ends in a bare LF, not CRLF"},
      {"every line", false, "GET / HTTP/1.1\nHost: x\n\n",
       "malformed request: the request line ends in a bare LF, not CRLF"},
      {"a bare LF in the body does not count", false, "GET / HTTP/1.1\r\nHost: x\r\n\r\nab\ncd",
       "malformed request: bad version"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    const Refusal r = refuse_unreadable_request(bhttp::error::bad_version, limits,
                                                c.request_line_read, c.unparsed);
    EXPECT_EQ(r.status, bhttp::status::bad_request);
    EXPECT_EQ(r.detail, c.detail);
  }
}

TEST(RequestRouting, AHeaderThatDoesNotArriveInTimeIs408) {
  config::Limits limits;
  limits.header_timeout_ms = 2500;
  const Refusal r = refuse_header_timeout(limits);
  EXPECT_EQ(r.status, bhttp::status::request_timeout);
  EXPECT_EQ(r.error(), "request_timeout");
  EXPECT_EQ(r.detail, "the request header did not arrive within 2500 ms");
  EXPECT_EQ(r.rejection, metrics::Rejection::kRequestTimeout);
  EXPECT_EQ(r.after, After::kClose);
}

TEST(RequestRouting, AnUnreadableBodyNamesTheServiceAndVersion) {
  config::Limits limits;
  limits.max_body_bytes = 10;
  Request req{.fields = {{"Host", "shop.example.com"}, {"Content-Length", "20"}}};
  const auto head = head_of(req);
  auto routed = route_request(*table(), head, true, req.client_ip, 0);
  ASSERT_TRUE(std::holds_alternative<RoutedRequest>(routed));
  const auto& request = std::get<RoutedRequest>(routed);

  const Refusal too_large = refuse_unreadable_body(bhttp::error::body_limit, limits, request);
  EXPECT_EQ(too_large.status, bhttp::status::payload_too_large);
  EXPECT_EQ(too_large.detail, "the request body exceeds 10 bytes");
  EXPECT_EQ(too_large.service, "shop");
  EXPECT_EQ(too_large.version, "v1");
  EXPECT_EQ(too_large.after, After::kLingerClose);

  limits.max_header_bytes = 4096;
  const Refusal line =
      refuse_unreadable_body(http::ChunkFramingError::kLineTooLong, limits, request);
  EXPECT_EQ(line.status, bhttp::status::bad_request);
  EXPECT_EQ(line.detail,
            "malformed request body: a chunk-size line (with its extensions) longer than the "
            "limit of 4096 bytes");
  const Refusal quoted =
      refuse_unreadable_body(http::ChunkFramingError::kLineBreakInQuoted, limits, request);
  EXPECT_EQ(quoted.detail, "malformed request body: CR or LF inside a quoted chunk extension");

  const Refusal bad = refuse_unreadable_body(bhttp::error::bad_chunk, limits, request);
  EXPECT_EQ(bad.status, bhttp::status::bad_request);
  EXPECT_TRUE(bad.detail.starts_with("malformed request body: ")) << bad.detail;
  EXPECT_EQ(bad.rejection, metrics::Rejection::kBadRequest);
  EXPECT_EQ(bad.after, After::kLingerClose);
}

TEST(RequestRouting, AnUpstreamFailureIs504WhenItTimedOutElse502) {
  Request req{.fields = {{"Host", "shop.example.com"}}};
  const auto head = head_of(req);
  auto routed = route_request(*table(), head, true, req.client_ip, 0);
  ASSERT_TRUE(std::holds_alternative<RoutedRequest>(routed));
  const auto& request = std::get<RoutedRequest>(routed);

  const Refusal timeout = refuse_upstream_failure(true, "slow", request, After::kKeepAlive);
  EXPECT_EQ(timeout.status, bhttp::status::gateway_timeout);
  EXPECT_EQ(timeout.error(), "upstream_timeout");
  EXPECT_EQ(timeout.detail, "slow");
  EXPECT_EQ(timeout.rejection, metrics::Rejection::kUpstreamTimeout);
  EXPECT_EQ(timeout.service, "shop");
  EXPECT_EQ(timeout.version, "v1");
  EXPECT_EQ(timeout.after, After::kKeepAlive);

  const Refusal reset = refuse_upstream_failure(false, "reset", request, After::kClose);
  EXPECT_EQ(reset.status, bhttp::status::bad_gateway);
  EXPECT_EQ(reset.error(), "upstream_reset");
  EXPECT_EQ(reset.rejection, metrics::Rejection::kUpstreamReset);
  EXPECT_EQ(reset.after, After::kClose);
}

TEST(RequestRouting, AnUpstreamThatSwitchesProtocolsIs502UpgradeNotSupported) {
  Request req{.fields = {{"Host", "shop.example.com"}}};
  const auto head = head_of(req);
  auto routed = route_request(*table(), head, true, req.client_ip, 0);
  ASSERT_TRUE(std::holds_alternative<RoutedRequest>(routed));
  const Refusal r = refuse_upgrade(std::get<RoutedRequest>(routed), After::kKeepAlive);
  EXPECT_EQ(r.status, bhttp::status::bad_gateway);
  EXPECT_EQ(r.error(), "upgrade_not_supported");
  EXPECT_NE(r.detail.find("does not proxy protocol upgrades"), std::string::npos) << r.detail;
  EXPECT_EQ(r.rejection, metrics::Rejection::kUpgradeNotSupported);
  EXPECT_EQ(r.service, "shop");
  EXPECT_EQ(r.version, "v1");
  EXPECT_EQ(r.after, After::kKeepAlive);
}

}  // namespace
}  // namespace rampart::gateway
