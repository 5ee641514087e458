#pragma once
// The admin listener: a small HTTP/1.1 server on the control thread's io_context. It reads
// whole requests and hands them to one handler, which only adapts: parse, call a plain
// function, map the result to a response. Handlers run on the io_context's thread, or on a
// blocking pool (run_handlers_on).
//
// Its deadlines and header limit are the gateway's ([limits], docs/configuration.md): a new
// connection must send its first byte within header_timeout_ms, a kept-alive one within
// idle_timeout_ms; from its first byte a request (header and body) must arrive within
// header_timeout_ms, else the connection is closed unanswered. A header over
// max_header_bytes gets 431, a body over 1 MiB 413.

#include "common/result.hpp"
#include "config/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>

namespace rampart::admin {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Handler = std::function<Response(const Request&)>;

// A JSON response with `body` (already serialised) and the right headers.
Response json_response(boost::beast::http::status status, std::string body, unsigned version,
                       bool keep_alive);

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& ioc, Handler handler);
  ~AdminServer();

  // Runs the handler on `executor` (a blocking pool: handlers may wait on the store's fsync)
  // instead of the listener's io_context; the connection resumes on the io_context. The
  // handler must then be thread-safe. Call before start().
  void run_handlers_on(boost::asio::any_io_executor executor);

  // The deadlines and header limit of the requests read from now on (config::Limits{} until
  // called). Thread-safe; may be called while running (a reload's new [limits]).
  void set_limits(const config::Limits& limits);

  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  // Stops accepting; open admin connections end after their current request.
  void stop();

  struct State;

 private:
  boost::asio::io_context& ioc_;
  std::shared_ptr<State> state_;
};

}  // namespace rampart::admin
