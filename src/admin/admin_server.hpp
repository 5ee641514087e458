#pragma once
// The admin listener: a small HTTP/1.1 server on the control thread's io_context. It reads
// whole requests (bounded: 16 KiB of header, 1 MiB of body, 10 s to arrive) and hands them to
// one handler, which only adapts: parse, call a plain function, map the result to a response.
// Handlers run on the io_context's thread, or on a blocking pool (run_handlers_on).

#include "common/result.hpp"

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
