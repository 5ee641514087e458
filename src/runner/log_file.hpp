#pragma once
// An instance's log: its stdout and stderr, line by line, each line prefixed with the time it
// was read ("2026-11-23T15:20:01.123Z "), in size-bounded rotated files: `instance.log`, then
// `instance.log.1` (newer) ... `instance.log.N` (older). Together they never hold more than
// (N + 1) * max_file_bytes. A line longer than max_line_bytes is cut there (marked "…").
//
// Thread safety: every member may be called from any thread; a mutex guards the files. The
// reader thread started by read_from() is the only writer while a pipe is attached.

#include "common/result.hpp"

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rampart::runner {

struct LogLimits {
  std::size_t max_file_bytes = 1024 * 1024;
  unsigned rotated_files = 3;          // instance.log.1 .. instance.log.3
  std::size_t max_line_bytes = 16384;  // kept <= max_file_bytes by open()
};

class LogFile {
 public:
  // Opens (appends to) `path`, creating its directory. kIo when it cannot be written.
  static Result<std::unique_ptr<LogFile>> open(std::filesystem::path path, LogLimits limits);
  ~LogFile();  // stops and joins the reader thread (after draining what the pipe holds)
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Writes one line (without its newline) with the time prefix, rotating first if the line
  // would push the current file past max_file_bytes.
  void write_line(std::string_view line);

  // Takes ownership of `fd` (a pipe's read end) and starts a thread that writes every line read
  // from it until EOF or detach_reader(). At most one reader at a time.
  void read_from(int fd);
  // Waits up to ~100 ms for what is still in the pipe, then stops and joins the reader: for a
  // child whose own children may keep the pipe open after it exited.
  void detach_reader();

  // The last `n` lines (time prefix included), oldest first, across the rotated files.
  std::vector<std::string> tail(std::size_t n) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  LogFile(std::filesystem::path path, LogLimits limits, int fd, std::size_t size);
  void rotate();  // REQUIRES: mutex_ is held
  void read_loop(int fd);
  std::filesystem::path rotated(unsigned i) const;

  const std::filesystem::path path_;
  const LogLimits limits_;
  mutable std::mutex mutex_;
  int fd_;               // guarded by mutex_
  std::size_t size_;     // bytes in the current file; guarded by mutex_
  std::string partial_;  // a line read without its newline yet; reader thread only
  std::atomic<bool> stop_reader_{false};
  std::thread reader_;
};

}  // namespace rampart::runner
