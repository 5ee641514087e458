#include "runner/log_file.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>

namespace rampart::runner {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<LogFile> open_log(const testing::TempDir& dir, LogLimits limits) {
  auto log = LogFile::open(dir.path() / "logs" / "instance.log", limits);
  EXPECT_TRUE(log) << (log ? "" : log.error().message);
  return std::move(*log);
}

// The text after the time prefix.
std::string message(const std::string& line) { return line.substr(line.find(' ') + 1); }

TEST(LogFile, RotationBoundsTotalSizeAndTailCrossesFiles) {
  testing::TempDir dir;
  auto log = open_log(dir, LogLimits{1000, 2, 200});
  for (int i = 0; i < 500; ++i) {
    log->write_line("line " + std::to_string(i) + " of the instance's chatter");
  }
  std::uintmax_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir.path() / "logs")) {
    EXPECT_LE(entry.file_size(), 1000u) << entry.path();
    total += entry.file_size();
  }
  EXPECT_LE(total, 3000u);
  EXPECT_TRUE(fs::exists(dir.path() / "logs" / "instance.log.2"));
  EXPECT_FALSE(fs::exists(dir.path() / "logs" / "instance.log.3"));

  const auto last = log->tail(3);
  ASSERT_EQ(last.size(), 3u);
  EXPECT_EQ(message(last[2]), "line 499 of the instance's chatter");
  // More lines than the current file holds: taken from .1 as well, still in order.
  const auto many = log->tail(30);
  ASSERT_EQ(many.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(message(many[i]), "line " + std::to_string(470 + i) + " of the instance's chatter");
  }
}

TEST(LogFile, EveryLineStartsWithItsTime) {
  testing::TempDir dir;
  auto log = open_log(dir, LogLimits{});
  log->write_line("listening on 127.0.0.1:8080");
  const auto lines = log->tail(5);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      lines[0],
      std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z listening on 127\.0\.0\.1:8080)")))
      << lines[0];
}

TEST(LogFile, LongLineIsCut) {
  testing::TempDir dir;
  auto log = open_log(dir, LogLimits{4096, 1, 100});
  log->write_line(std::string(5000, 'x'));
  const auto lines = log->tail(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(message(lines[0]), std::string(100, 'x') + "…");
}

TEST(LogFile, ReadsLinesFromAPipeIncludingAnUnterminatedLast) {
  testing::TempDir dir;
  auto log = open_log(dir, LogLimits{});
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  log->read_from(fds[0]);
  const std::string text = "first\nsecond\nno newline";
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  log->detach_reader();
  const auto lines = log->tail(10);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(message(lines[0]), "first");
  EXPECT_EQ(message(lines[1]), "second");
  EXPECT_EQ(message(lines[2]), "no newline");
}

TEST(LogFile, UnwritableDirectoryIsAClearError) {
  auto log = LogFile::open("/proc/no-such/instance.log", LogLimits{});
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, Errc::kIo);
  EXPECT_NE(log.error().message.find("/proc/no-such"), std::string::npos) << log.error().message;
}

}  // namespace
}  // namespace rampart::runner
