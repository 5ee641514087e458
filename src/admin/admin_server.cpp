#include "admin/admin_server.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <optional>

namespace rampart::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxBody = 1024 * 1024;
constexpr std::size_t kFirstRead = 4096;
}  // namespace

struct AdminServer::State {
  explicit State(asio::io_context& ioc, Handler h) : acceptor(ioc), handler(std::move(h)) {}
  tcp::acceptor acceptor;
  Handler handler;
  std::optional<asio::any_io_executor> handler_executor;
  std::atomic<bool> stopped{false};
  std::atomic<std::uint32_t> max_header_bytes{config::Limits{}.max_header_bytes};
  std::atomic<std::uint32_t> header_timeout_ms{config::Limits{}.header_timeout_ms};
  std::atomic<std::uint32_t> idle_timeout_ms{config::Limits{}.idle_timeout_ms};
};

Response json_response(bhttp::status status, std::string body, unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  if (body.empty() || body.back() != '\n') {
    body.push_back('\n');
  }
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

namespace {

Response error_response(bhttp::status status, std::string_view error, std::string_view detail) {
  boost::json::object o;
  o["error"] = error;
  o["detail"] = detail;
  return json_response(status, boost::json::serialize(o), 11, false);
}

// Waits for the first byte of the next request, at most `limit`: false when none came.
asio::awaitable<bool> await_first_byte(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                       std::chrono::milliseconds limit) {
  if (buffer.size() > 0) {
    co_return true;
  }
  stream.expires_after(limit);
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kFirstRead), kAwait);
  buffer.commit(n);
  co_return !ec && n > 0;
}

asio::awaitable<void> serve_admin(std::shared_ptr<AdminServer::State> state, tcp::socket socket) {
  using std::chrono::milliseconds;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    const std::uint32_t max_header = state->max_header_bytes.load(std::memory_order_relaxed);
    const milliseconds header_timeout(state->header_timeout_ms.load(std::memory_order_relaxed));
    const milliseconds idle_timeout(state->idle_timeout_ms.load(std::memory_order_relaxed));
    if (!co_await await_first_byte(stream, buffer, first ? header_timeout : idle_timeout)) {
      break;
    }
    first = false;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(max_header);
    parser.body_limit(kMaxBody);
    stream.expires_after(header_timeout);
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAwait);
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        auto res = error_response(
            bhttp::status::request_header_fields_too_large, "header_too_large",
            fmt::format("the request header exceeds {} bytes (max_header_bytes)", max_header));
        co_await bhttp::async_write(stream, res, kAwait);
      } else if (ec == bhttp::error::body_limit) {
        auto res = error_response(bhttp::status::payload_too_large, "body_too_large",
                                  "the request body exceeds 1 MiB");
        co_await bhttp::async_write(stream, res, kAwait);
      } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                 ec != asio::error::connection_reset && ec != asio::error::eof) {
        auto res = error_response(bhttp::status::bad_request, "bad_request", ec.message());
        co_await bhttp::async_write(stream, res, kAwait);
      }
      break;
    }
    const Request& req = parser.get();
    Response res;
    if (state->handler_executor) {
      res = co_await asio::co_spawn(
          *state->handler_executor,
          [&]() -> asio::awaitable<Response> { co_return state->handler(req); },
          asio::use_awaitable);
    } else {
      res = state->handler(req);
    }
    bool keep = req.keep_alive() && !state->stopped && res.keep_alive();
    res.keep_alive(keep);
    stream.expires_after(header_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kAwait);
    if (wec || !keep) {
      break;
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_admin(std::shared_ptr<AdminServer::State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kAwait);
    if (ec) {
      if (state->stopped || !state->acceptor.is_open()) {
        co_return;
      }
      continue;
    }
    asio::co_spawn(state->acceptor.get_executor(), serve_admin(state, std::move(socket)),
                   [](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         log::error("admin session ended with an exception: {}", ex.what());
                       }
                     }
                   });
  }
}

}  // namespace

AdminServer::AdminServer(asio::io_context& ioc, Handler handler)
    : ioc_(ioc), state_(std::make_shared<State>(ioc, std::move(handler))) {}

AdminServer::~AdminServer() { stop(); }

Result<tcp::endpoint> AdminServer::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  auto& a = state_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) {
    a.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    a.bind(endpoint, ec);
  }
  if (!ec) {
    a.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(Errc::kIo, "cannot listen on " + endpoint.address().to_string() + ":" +
                                     std::to_string(endpoint.port()) + " (admin): " + ec.message());
  }
  return a.local_endpoint();
}

void AdminServer::run_handlers_on(asio::any_io_executor executor) {
  state_->handler_executor = std::move(executor);
}

void AdminServer::set_limits(const config::Limits& limits) {
  state_->max_header_bytes.store(limits.max_header_bytes, std::memory_order_relaxed);
  state_->header_timeout_ms.store(limits.header_timeout_ms, std::memory_order_relaxed);
  state_->idle_timeout_ms.store(limits.idle_timeout_ms, std::memory_order_relaxed);
}

void AdminServer::start() {
  asio::co_spawn(ioc_, accept_admin(state_), [](std::exception_ptr) {});
}

void AdminServer::stop() {
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

}  // namespace rampart::admin
