#pragma once
// Minimal leveled logging to stderr. Each line is written with one write(2), so lines from
// different threads never interleave. Not for the request path: nothing there logs per request.
// A line is "2026-11-23T15:20:01.123Z info message": the time in RFC 3339, UTC, as the API
// writes times.

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
Level level();
void write(Level level, std::string_view message);

// The line write() sends for `message` at `unix_ms`, newline included.
std::string format_line(std::int64_t unix_ms, Level level, std::string_view message);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kDebug) {
    write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kInfo) {
    write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kWarn) {
    write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kError) {
    write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
  }
}

}  // namespace rampart::log
