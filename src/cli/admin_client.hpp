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

// Sends one request to `address` ("host:port"), with `Authorization: Bearer token` when `token`
// is not empty, and returns the answer whatever its status. A malformed address is
// kInvalidArgument; a failed resolve or connect is kUnavailable "cannot reach the admin API at
// ADDR: REASON (is rampart server running? ...)"; a failure or timeout after connecting is
// kUnavailable "the admin API at ADDR did not answer: REASON". Messages are one line.
Result<HttpResult> admin_request(const std::string& address, const std::string& method,
                                 const std::string& target, const std::string& body = "",
                                 const std::string& token = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace rampart::cli
