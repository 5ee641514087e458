#include "cli/admin_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace rampart::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string unreachable(const std::string& address, const std::string& reason) {
  return "cannot reach the admin API at " + address + ": " + reason +
         " (is rampart server running? set --addr or RAMPART_ADDR)";
}

}  // namespace

Result<HttpResult> admin_request(const std::string& address, const std::string& method,
                                 const std::string& target, const std::string& body,
                                 const std::string& token, std::chrono::milliseconds timeout) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return make_error(Errc::kInvalidArgument,
                      "admin address \"" + address + "\" must be host:port, e.g. 127.0.0.1:9901");
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') {
    host = host.substr(1, host.size() - 2);
  }
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    return make_error(Errc::kUnavailable, unreachable(address, ec.message()));
  }
  stream.expires_after(timeout);
  stream.connect(endpoints, ec);
  if (ec) {
    return make_error(Errc::kUnavailable, unreachable(address, ec.message()));
  }
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, address);
  req.set(bhttp::field::user_agent, "rampart-cli");
  if (!token.empty()) {
    req.set(bhttp::field::authorization, "Bearer " + token);
  }
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  req.keep_alive(false);
  bhttp::write(stream, req, ec);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (!ec) {
    bhttp::read(stream, buffer, parser, ec);
  }
  if (ec) {
    return make_error(Errc::kUnavailable,
                      "the admin API at " + address + " did not answer: " + ec.message());
  }
  return HttpResult{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace rampart::cli
