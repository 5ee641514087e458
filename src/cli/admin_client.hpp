#pragma once
// A small blocking HTTP client for the CLI's calls to the admin API.

#include "common/result.hpp"

#include <chrono>
#include <string>

namespace rampart::cli {

struct HttpResult {
  unsigned status = 0;
  std::string body;
};

// Sends one request to `address` ("host:port") and returns the answer. Connection and I/O
// errors (and a timeout) are errors with a message that names the address.
Result<HttpResult> admin_request(const std::string& address, const std::string& method,
                                 const std::string& target, const std::string& body = "",
                                 const std::string& token = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace rampart::cli
