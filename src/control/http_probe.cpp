#include "control/http_probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace rampart::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

ProbeResult http_get(const std::string& host, unsigned short port, const std::string& path,
                     const std::map<std::string, std::string>& headers,
                     std::chrono::milliseconds timeout) {
  const auto started = std::chrono::steady_clock::now();
  ProbeResult out;
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, path, 11};
  req.set(bhttp::field::host, host + ":" + std::to_string(port));
  req.set(bhttp::field::user_agent, "rampart-check");
  req.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : headers) {
    req.set(name, value);
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  beast::flat_buffer buffer;
  // Asynchronous operations, because tcp_stream's deadline applies only to those: a blocking
  // read from a server that accepted but never answers (a stopped process) would never end.
  if (!ec) {
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](boost::system::error_code e, const auto&) {
      ec = e;
      if (e) {
        return;
      }
      bhttp::async_write(stream, req, [&](boost::system::error_code e, std::size_t) {
        ec = e;
        if (e) {
          return;
        }
        bhttp::async_read(stream, buffer, parser,
                          [&](boost::system::error_code e, std::size_t) { ec = e; });
      });
    });
    ioc.run();
  }
  out.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (ec) {
    out.error = ec == beast::error::timeout
                    ? "timed out after " + std::to_string(timeout.count()) + " ms"
                    : ec.message();
    return out;
  }
  out.status = parser.get().result_int();
  return out;
}

}  // namespace rampart::control
