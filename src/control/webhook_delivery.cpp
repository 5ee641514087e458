#include "control/webhook_delivery.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include <charconv>
#include <ctime>
#include <exception>
#include <memory>

namespace rampart::control {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using std::chrono::milliseconds;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;
constexpr milliseconds kPollSlice{20};  // how often an attempt looks at its deadline and cancel

struct Target {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string path;  // with the query
};

std::optional<Target> parse_target(std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty()) {
    return std::nullopt;
  }
  Target t;
  t.tls = u->scheme() == "https";
  t.host = u->host_type() == boost::urls::host_type::ipv6 ? std::string(u->encoded_host_address())
                                                          : std::string(u->encoded_host());
  t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
  t.path = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) {
    t.path += "?" + std::string(u->encoded_query());
  }
  return t;
}

// One request and its answer, shared by the coroutine and the caller that runs it.
struct Exchange {
  bhttp::request<bhttp::string_body> request;
  bhttp::response_parser<bhttp::string_body> parser;
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  std::string error;  // a failure with no error_code (an exception)
  bool done = false;
};

template <class Stream>
asio::awaitable<void> write_and_read(Stream& stream, Exchange* x) {
  auto [wec, written] = co_await bhttp::async_write(stream, x->request, kAwait);
  if (wec) {
    x->ec = wec;
    co_return;
  }
  auto [rec, read] = co_await bhttp::async_read(stream, x->buffer, x->parser, kAwait);
  x->ec = rec;
}

asio::awaitable<void> plain_exchange(beast::tcp_stream* stream, Target t, Exchange* x) {
  tcp::resolver resolver(stream->get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, kAwait);
  if (rec) {
    x->ec = rec;
    co_return;
  }
  auto [cec, ep] = co_await stream->async_connect(endpoints, kAwait);
  if (cec) {
    x->ec = cec;
    co_return;
  }
  co_await write_and_read(*stream, x);
}

asio::awaitable<void> tls_exchange(beast::ssl_stream<beast::tcp_stream>* stream, Target t,
                                   Exchange* x) {
  tcp::resolver resolver(stream->get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, kAwait);
  if (rec) {
    x->ec = rec;
    co_return;
  }
  auto [cec, ep] = co_await beast::get_lowest_layer(*stream).async_connect(endpoints, kAwait);
  if (cec) {
    x->ec = cec;
    co_return;
  }
  auto [hec] = co_await stream->async_handshake(ssl::stream_base::client, kAwait);
  if (hec) {
    x->ec = hec;
    co_return;
  }
  co_await write_and_read(*stream, x);
}

// The client context: the system's CAs, peers verified. Built once; SSL_CTX is safe to share
// between threads once configured.
ssl::context& client_context() {
  static ssl::context* ctx = [] {
    auto* c = new ssl::context(ssl::context::tls_client);
    boost::system::error_code ec;
    c->set_default_verify_paths(ec);  // without them every peer fails verification: reported then
    c->set_verify_mode(ssl::verify_peer, ec);
    return c;
  }();
  return *ctx;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Runs `ioc` until the exchange is done, the deadline passes or `cancelled` says so.
void run_until_done(asio::io_context& ioc, Exchange& x, milliseconds timeout,
                    const Cancelled& cancelled) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!x.done) {
    ioc.run_for(kPollSlice);
    if (x.done) {
      return;
    }
    if (cancelled && cancelled()) {
      x.error = "cancelled";
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      x.error = fmt::format("timed out after {} ms", timeout.count());
      return;
    }
  }
}

void prepare(Exchange& x, const PostRequest& r, const Target& t) {
  x.request = {bhttp::verb::post, t.path, 11};
  const bool default_port = t.port == (t.tls ? "443" : "80");
  const std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  x.request.set(bhttp::field::host, default_port ? host : host + ":" + t.port);
  x.request.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : r.headers) {
    x.request.set(name, value);
  }
  x.request.body() = r.body;
  x.request.prepare_payload();
  x.parser.body_limit(kMaxAnswerBytes);
}

std::function<void(std::exception_ptr)> on_end(Exchange* x) {
  return [x](const std::exception_ptr& e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        x->error = ex.what();
      }
    }
    x->done = true;
  };
}

}  // namespace

milliseconds backoff(std::uint32_t attempt) {
  const std::uint32_t doublings = attempt == 0 ? 0 : std::min<std::uint32_t>(attempt - 1, 16);
  return std::min(milliseconds(1000LL << doublings), kMaxRetryWait);
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::int64_t now_unix_ms) {
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
  }
  if (value.empty() || value.size() > 64) {
    return std::nullopt;
  }
  std::uint64_t seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc{} && p == value.data() + value.size()) {
    return std::min(milliseconds(std::min<std::uint64_t>(seconds, 86'400) * 1000), kMaxRetryWait);
  }
  // An IMF-fixdate, the form RFC 9110 says senders use: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  const std::int64_t at_ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  return std::clamp(milliseconds(at_ms - now_unix_ms), milliseconds(0), kMaxRetryWait);
}

bool is_retryable(unsigned status) {
  return status == 0 || status == 429 || (status >= 500 && status <= 599);
}

std::optional<milliseconds> retry_wait(unsigned status, std::uint32_t attempt, std::uint32_t tries,
                                       std::optional<milliseconds> retry_after) {
  if (!is_retryable(status) || attempt >= tries) {
    return std::nullopt;
  }
  return retry_after ? std::min(*retry_after, kMaxRetryWait) : backoff(attempt);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

PostAnswer http_post(const PostRequest& request, const Cancelled& cancelled) {
  PostAnswer out;
  auto target = parse_target(request.url);
  if (!target) {
    out.error = "\"" + request.url + "\" is not an http:// or https:// URL";
    return out;
  }
  asio::io_context ioc(1);
  Exchange x;
  prepare(x, request, *target);
  beast::tcp_stream plain(ioc);
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  if (target->tls) {
    tls.emplace(ioc, client_context());
    if (!is_ip_literal(target->host)) {
      SSL_set_tlsext_host_name(tls->native_handle(), target->host.c_str());  // SNI
    }
    tls->set_verify_callback(ssl::host_name_verification(target->host));
    asio::co_spawn(ioc, tls_exchange(&*tls, *target, &x), on_end(&x));
  } else {
    asio::co_spawn(ioc, plain_exchange(&plain, *target, &x), on_end(&x));
  }
  run_until_done(ioc, x, request.timeout, cancelled);
  if (!x.error.empty()) {
    out.error = x.error;
  } else if (x.ec) {
    out.error = x.ec.message();
  } else {
    out.status = x.parser.get().result_int();
    out.retry_after = std::string(x.parser.get()[bhttp::field::retry_after]);
  }
  return out;
}

Headers delivery_headers(const Delivery& d) {
  Headers h = {{"Content-Type", "application/json"},
               {"User-Agent", "rampart/0.1"},
               {"X-Rampart-Event", d.kind},
               {"X-Rampart-Delivery", d.id}};
  if (d.secret) {
    h.emplace_back("X-Rampart-Signature", "sha256=" + hmac_sha256_hex(*d.secret, d.body));
  }
  return h;
}

DeliveryOutcome deliver(const Delivery& d, const Sender& send, const Sleeper& sleep,
                        const std::function<std::int64_t()>& now_unix_ms) {
  const PostRequest request{d.url, delivery_headers(d), d.body, d.timeout};
  DeliveryOutcome out;
  for (std::uint32_t attempt = 1; attempt <= d.tries; ++attempt) {
    const PostAnswer answer = send(request);
    out.attempts = attempt;
    out.status = answer.status;
    out.error = answer.error;
    if (answer.status >= 200 && answer.status <= 299) {
      out.delivered = true;
      return out;
    }
    const auto wait = retry_wait(answer.status, attempt, d.tries,
                                 parse_retry_after(answer.retry_after, now_unix_ms()));
    if (!wait) {
      return out;
    }
    if (!sleep(*wait)) {
      out.error = fmt::format("{}{}stopped before attempt {}", out.error,
                              out.error.empty() ? "" : "; ", attempt + 1);
      return out;
    }
  }
  return out;
}

}  // namespace rampart::control
