#pragma once
// The demo app's request routing and answer bodies: plain functions, no I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::demo {

enum class EndpointKind {
  kHealth,       // /health
  kBytes,        // /bytes/N
  kChunked,      // /chunked/N
  kCount,        // /count
  kEcho,         // /echo
  kSleep,        // /sleep/MS
  kStatus,       // /status/CODE
  kHeaders,      // /headers
  kDefault,      // anything else
  kBadArgument,  // one of the above with a number that is not valid for it
};

struct Endpoint {
  EndpointKind kind = EndpointKind::kDefault;
  uint64_t number = 0;  // N for /bytes and /chunked, MS for /sleep, CODE for /status
};

// The largest /sleep/MS accepted: an hour.
inline constexpr uint64_t kMaxSleepMs = 3'600'000;

// Maps a request target ("/bytes/10?x=1") to its endpoint. The query string plays no part.
// A number that is missing, not decimal, out of range, or (for /status) a 1xx or outside
// 100..599 gives kBadArgument.
Endpoint route(std::string_view target);

// The path part of a request target: everything before the first '?'.
std::string_view path_of(std::string_view target);

// Byte i of every /bytes and /chunked body.
inline char pattern_byte(uint64_t i) { return static_cast<char>('a' + i % 26); }

// JSON bodies. Every string is escaped; `name` is the app's --name.
std::string health_body(std::string_view name);
std::string default_body(std::string_view name, std::string_view method, std::string_view target);
std::string injected_error_body(std::string_view name);
std::string count_body(uint64_t bytes, uint64_t xxh64);
std::string status_body(unsigned status, std::string_view name);
std::string sleep_body(uint64_t ms, std::string_view name);
std::string error_body(std::string_view error, std::string_view detail, std::string_view name);

// The request's header fields as (name, value) in arrival order, turned into one JSON object:
// names lower-cased, the values of a repeated name joined with ", " in arrival order.
std::string headers_body(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace rampart::demo
