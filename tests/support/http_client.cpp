#include "support/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>

namespace rampart::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

std::string Reply::header(const std::string& name) const {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  auto it = headers.find(lower);
  return it == headers.end() ? "" : it->second;
}

HttpClient::HttpClient(std::string host, int port, std::string source_ip,
                       std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), source_ip_(std::move(source_ip)), timeout_(timeout) {}

void HttpClient::close() {
  if (stream_) {
    boost::system::error_code ec;
    stream_->socket().close(ec);
    stream_.reset();
  }
  buffer_.clear();
}

bool HttpClient::ensure_connected(std::string& error) {
  if (stream_) {
    return true;
  }
  stream_.emplace(ioc_);
  boost::system::error_code ec;
  tcp::endpoint to(asio::ip::make_address(host_), static_cast<unsigned short>(port_));
  stream_->socket().open(to.protocol(), ec);
  if (!ec && !source_ip_.empty()) {
    stream_->socket().bind(tcp::endpoint(asio::ip::make_address(source_ip_), 0), ec);
  }
  if (!ec) {
    stream_->expires_after(timeout_);
    stream_->connect(to, ec);
  }
  if (ec) {
    error = "connect: " + ec.message();
    close();
    return false;
  }
  stream_->socket().set_option(tcp::no_delay(true), ec);
  return true;
}

Reply HttpClient::read_reply(bool head) {
  Reply r;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1ull << 32);
  if (head) {
    parser.skip(true);
  }
  boost::system::error_code ec;
  stream_->expires_after(timeout_);
  bhttp::read(*stream_, buffer_, parser, ec);
  if (ec) {
    r.error = "read: " + ec.message();
    r.closed = true;
    close();
    return r;
  }
  auto& res = parser.get();
  r.status = res.result_int();
  r.body = std::move(res.body());
  for (const auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    auto& slot = r.headers[name];
    slot = slot.empty() ? std::string(f.value()) : slot + ", " + std::string(f.value());
  }
  if (!parser.keep_alive()) {
    r.closed = true;
    close();
  }
  return r;
}

Reply HttpClient::get(const std::string& target,
                      const std::map<std::string, std::string>& headers) {
  return request("GET", target, headers, "");
}

Reply HttpClient::request(const std::string& method, const std::string& target,
                          const std::map<std::string, std::string>& headers,
                          const std::string& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Reply r;
    if (!ensure_connected(r.error)) {
      return r;
    }
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, host_ + ":" + std::to_string(port_));
    for (const auto& [k, v] : headers) {
      req.set(k, v);
    }
    req.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.prepare_payload();
    }
    boost::system::error_code ec;
    stream_->expires_after(timeout_);
    bhttp::write(*stream_, req, ec);
    if (ec) {
      close();
      if (attempt == 0) continue;  // a kept-alive connection the server had closed
      r.error = "write: " + ec.message();
      return r;
    }
    return read_reply(method == "HEAD");
  }
  return Reply{};
}

Reply HttpClient::raw(const std::string& raw) {
  Reply r;
  if (!ensure_connected(r.error)) {
    return r;
  }
  boost::system::error_code ec;
  stream_->expires_after(timeout_);
  asio::write(stream_->socket(), asio::buffer(raw), ec);
  if (ec) {
    r.error = "write: " + ec.message();
    close();
    return r;
  }
  return read_reply(false);
}

}  // namespace rampart::testing
