#pragma once
// Test support: a blocking HTTP/1.1 client with keep-alive, an optional source address (to
// look like many clients on loopback: 127.0.0.2, 127.0.0.3, ...) and raw-bytes requests.

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace rampart::testing {

struct Reply {
  unsigned status = 0;  // 0: the request failed at the transport level (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;
  bool closed = false;  // the server closed the connection (or said Connection: close)

  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  HttpClient(std::string host, int port, std::string source_ip = "",
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

  Reply get(const std::string& target, const std::map<std::string, std::string>& headers = {});
  Reply request(const std::string& method, const std::string& target,
                const std::map<std::string, std::string>& headers = {},
                const std::string& body = "");
  // Writes `raw` bytes as they are, then reads one response.
  Reply raw(const std::string& raw);
  void close();

 private:
  bool ensure_connected(std::string& error);
  Reply read_reply(bool head);

  std::string host_;
  int port_;
  std::string source_ip_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace rampart::testing
