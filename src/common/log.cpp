#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
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

void write(Level level, std::string_view message) {
  using namespace std::chrono;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  std::string line = fmt::format("{}.{:03d} {} {}\n", now / 1000, static_cast<int>(now % 1000),
                                 level_name(level), message);
  // One write: concurrent lines never interleave. A short write to stderr is not retried.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace rampart::log
