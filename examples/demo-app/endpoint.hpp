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
  kCountdown,    // /countdown/N: 200 for the process's first N requests to it, then 503
  kHeaders,      // /headers
  kBroken,       // /broken/KIND: a malformed answer, then the connection is closed
  kEnv,          // /env/NAME: the value of the app's environment variable NAME (tests only)
  kExit,         // /exit/CODE: 200, then the process exits with CODE (a crash, for tests)
  kDefault,      // anything else
  kBadArgument,  // one of the above with a number that is not valid for it
};

struct Endpoint {
  EndpointKind kind = EndpointKind::kDefault;
  uint64_t number = 0;      // N for /bytes, /chunked and /countdown, MS for /sleep, CODE for
                            // /status and /exit, the index into kBrokenAnswers for /broken
  std::string_view name{};  // NAME of /env/NAME: a view into the target routed
};

// What /broken/KIND answers, for testing what a proxy makes of an upstream that breaks the
// protocol: the raw bytes written, after which the app closes the connection.
struct BrokenAnswer {
  std::string_view kind;
  std::string_view bytes;
};
inline constexpr BrokenAnswer kBrokenAnswers[] = {
    // a chunk size that is not hexadecimal
    {"bad-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
    // 10 of the 100 bytes its Content-Length promises
    {"cut-body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"},
    // a transfer coding other than chunked: the body runs until the connection closes
    {"transfer-coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot really gzip"},
};

// The largest /sleep/MS accepted: an hour.
inline constexpr uint64_t kMaxSleepMs = 3'600'000;
// How long /exit/CODE waits after its answer before the process exits, so the answer reaches
// the client first.
inline constexpr uint64_t kExitDelayMs = 100;

// Maps a request target ("/bytes/10?x=1") to its endpoint. The query string plays no part.
// A number that is missing, not decimal, out of range, or (for /status) a 1xx or outside
// 100..599, (for /exit) over 255 gives kBadArgument, and so do a /broken/KIND of no kind in
// kBrokenAnswers and an /env/NAME whose NAME is empty or has a '/' or '='.
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
std::string exit_body(uint64_t code, std::string_view name);

// The request's header fields as (name, value) in arrival order, turned into one JSON object:
// names lower-cased, the values of a repeated name joined with ", " in arrival order.
std::string headers_body(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace rampart::demo
