#include "common/log.hpp"

#include "common/time_text.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

namespace rampart::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}
}  // namespace

void set_level(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

std::string format_line(std::int64_t unix_ms, Level level, std::string_view message) {
  return fmt::format("{} {} {}\n", format_rfc3339(unix_ms), level_name(level), message);
}

void write(Level level, std::string_view message) {
  using namespace std::chrono;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  std::string line = format_line(now, level, message);
  // One write: concurrent lines never interleave. A short write to stderr is not retried.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace rampart::log
