#pragma once
// The live progress view of `deploy --watch` and `status SERVICE --watch` on a terminal: a
// pure function of what the API answered and the time, redrawn in place by the watcher
// (cli/rollout_commands.cpp) with ANSI cursor-up and clear-line, no curses.
//
//   shop  rollout 3  v2 from v1  canary
//   progressing  step 1 of 3  [███░░░░░░░░░░░░░░░░░] 10%
//   4m10s left in the pause
//   version         req/s   errors     p95     p99
//   v2 (canary)      12.5    0.20%    12ms    30ms
//   ...
//   checks (window at 15:21:30)
//     ✓ error_rate  0.002 (stable 0.001)  max 0.01, critical 0.05  pass
//   decisions
//     15:21:00  started      step 1   10%  checks passed
//
// No line is wider than `width` (code points; the view has no wide characters).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace rampart::cli {

inline constexpr int kMinViewWidth = 30;
inline constexpr std::size_t kViewDecisions = 4;  // the last events the view lists

// Per version rates between two answers of GET /services/{s}'s "metrics" (requests, 5xx,
// p95_ms, p99_ms per version), `elapsed_ms` apart: {"v2": {"rps", "error_rate", "p95_ms",
// "p99_ms"}}, each a number or null (no earlier answer, no request in between). The latencies
// are the gateway's since it started (progress_view prefers the last window's).
boost::json::object live_metrics(const boost::json::value& before, const boost::json::value& now,
                                 std::int64_t elapsed_ms);

// `rollout` and `events` as GET .../rollouts/{id} and .../events answer them (events: the
// array), `metrics` as live_metrics() answers (or null: none yet). p95 and p99 are the last
// analysis window's where a check measured them (what the judge saw), else the gateway's since
// it started. Ends in a newline.
std::string progress_view(const boost::json::value& rollout, const boost::json::value& events,
                          const boost::json::value& metrics, std::int64_t now_ms, int width);

}  // namespace rampart::cli
