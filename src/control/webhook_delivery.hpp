#pragma once
// One webhook delivery: a JSON body POSTed to an http:// or https:// URL, signed, with a
// deadline per attempt and retries with exponential backoff (seed 003's table: 429 → wait as
// Retry-After says, 5xx and network errors → back off, other 4xx → give up).
//
// The retry policy (retry_wait, backoff, parse_retry_after) and the signature are pure
// functions with their own tests; deliver() runs them with a Sender (the real one is
// http_post) and a Sleeper, so a test drives it without a network or a clock.
//
// Thread safety: every function may run on any thread; http_post blocks its caller.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::control {

// The longest wait between two attempts: a Retry-After of an hour is not honoured as such.
inline constexpr std::chrono::milliseconds kMaxRetryWait{60'000};

// The wait after failed attempt `attempt` (1-based): 1 s, 2 s, 4 s, ..., at most kMaxRetryWait.
std::chrono::milliseconds backoff(std::uint32_t attempt);

// A Retry-After header's value, delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015
// 07:28:00 GMT", read against `now_unix_ms`) -> the wait, at most kMaxRetryWait (0 for a date
// in the past); nullopt when it is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_ms);

// Whether an answer is worth another attempt: no answer (status 0: refused, reset, timed out),
// 429 and 5xx. A 2xx is a success and every other status is final.
bool is_retryable(unsigned status);

// After attempt `attempt` of `tries` answered `status`: how long to wait before the next, or
// nullopt when there is none (a success, a final answer, or the last try). `retry_after` (as
// parse_retry_after read it) replaces the backoff when the server sent one.
std::optional<std::chrono::milliseconds> retry_wait(
    unsigned status, std::uint32_t attempt, std::uint32_t tries,
    std::optional<std::chrono::milliseconds> retry_after);

// HMAC-SHA256(key, body) in lower-case hex (64 characters).
std::string hmac_sha256_hex(std::string_view key, std::string_view body);

using Headers = std::vector<std::pair<std::string, std::string>>;

struct PostRequest {
  std::string url;  // http:// or https://
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // for the whole attempt, from resolving to the answer
};

struct PostAnswer {
  unsigned status = 0;      // 0: no answer (see error)
  std::string error;        // "connection refused", "timed out after 5000 ms", ...
  std::string retry_after;  // the Retry-After header, if any
};

// true to go on; false when the wait was cut short (the server stops).
using Sleeper = std::function<bool(std::chrono::milliseconds)>;
// Called every few milliseconds during an attempt: true aborts it ("cancelled").
using Cancelled = std::function<bool()>;
using Sender = std::function<PostAnswer(const PostRequest&)>;

// One POST, blocking. https verifies the peer against the system's CAs and the host name (with
// SNI). Never throws; the answer's body is read (up to 64 KiB) and dropped.
PostAnswer http_post(const PostRequest& request, const Cancelled& cancelled = {});

// What to deliver, and how hard to try.
struct Delivery {
  std::string url;
  std::string kind;  // X-Rampart-Event: "pre-rollout", "rollback", ...
  std::string id;    // X-Rampart-Delivery: the same on every attempt and every redelivery
  std::string body;  // JSON
  std::optional<std::string> secret;  // the HMAC key: X-Rampart-Signature: sha256=<hex>
  std::chrono::milliseconds timeout{5000};
  std::uint32_t tries = 3;
};

struct DeliveryOutcome {
  bool delivered = false;  // a 2xx
  std::uint32_t attempts = 0;
  unsigned status = 0;  // the last answer's, 0 without one
  std::string error;    // the last attempt's, or why it stopped ("stopped before attempt 2")
};

// The headers of `d`'s request.
Headers delivery_headers(const Delivery& d);

// Attempts `d` until a 2xx, a final answer, `d.tries` attempts, or a cut-short sleep.
// `now_unix_ms` reads Retry-After dates.
DeliveryOutcome deliver(const Delivery& d, const Sender& send, const Sleeper& sleep,
                        const std::function<std::int64_t()>& now_unix_ms);

}  // namespace rampart::control
