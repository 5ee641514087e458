#include "runner/log_file.hpp"

#include "common/time_text.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>

namespace rampart::runner {
namespace {

namespace fs = std::filesystem;

std::int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int open_for_append(const fs::path& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

// Writes all of `data`, retrying short writes; a failing disk loses log lines, never the
// instance, so the error is dropped.
void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Appends the lines of `path` to `out` (oldest first).
void read_lines(const fs::path& path, std::vector<std::string>& out) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
}

}  // namespace

Result<std::unique_ptr<LogFile>> LogFile::open(fs::path path, LogLimits limits) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return make_error(Errc::kIo, "log " + path.parent_path().string() + ": " + ec.message());
  }
  const int fd = open_for_append(path);
  if (fd < 0) {
    return make_error(Errc::kIo, "log " + path.string() + ": " + std::strerror(errno));
  }
  limits.max_file_bytes = std::max<std::size_t>(limits.max_file_bytes, 64);
  limits.max_line_bytes =
      std::clamp<std::size_t>(limits.max_line_bytes, 1, limits.max_file_bytes - 40);
  const auto size = fs::file_size(path, ec);
  return std::unique_ptr<LogFile>(
      new LogFile(std::move(path), limits, fd, ec ? 0 : static_cast<std::size_t>(size)));
}

LogFile::LogFile(fs::path path, LogLimits limits, int fd, std::size_t size)
    : path_(std::move(path)), limits_(limits), fd_(fd), size_(size) {}

LogFile::~LogFile() {
  detach_reader();
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

fs::path LogFile::rotated(unsigned i) const {
  return fs::path(path_.string() + "." + std::to_string(i));
}

void LogFile::rotate() {
  std::error_code ec;
  if (limits_.rotated_files == 0) {
    fs::remove(path_, ec);
  } else {
    fs::remove(rotated(limits_.rotated_files), ec);
    for (unsigned i = limits_.rotated_files; i > 1; --i) {
      fs::rename(rotated(i - 1), rotated(i), ec);
    }
    fs::rename(path_, rotated(1), ec);
  }
  ::close(fd_);
  fd_ = open_for_append(path_);
  size_ = 0;
}

void LogFile::write_line(std::string_view line) {
  std::string text = format_rfc3339(now_unix_ms());
  text += ' ';
  if (line.size() > limits_.max_line_bytes) {
    text.append(line.substr(0, limits_.max_line_bytes));
    text += "…";
  } else {
    text.append(line);
  }
  text += '\n';
  std::lock_guard lock(mutex_);
  if (size_ > 0 && size_ + text.size() > limits_.max_file_bytes) {
    rotate();
  }
  if (fd_ < 0) {
    return;
  }
  write_all(fd_, text);
  size_ += text.size();
}

void LogFile::read_from(int fd) {
  detach_reader();
  stop_reader_ = false;
  reader_ = std::thread([this, fd] { read_loop(fd); });
}

void LogFile::detach_reader() {
  if (!reader_.joinable()) {
    return;
  }
  stop_reader_ = true;
  reader_.join();
}

void LogFile::read_loop(int fd) {
  char buffer[8192];
  // After a stop request, keep reading what is already there, but only so much: a chatty
  // grandchild holding the pipe must not keep the reader (and whoever joins it) forever.
  int reads_after_stop = 0;
  while (reads_after_stop < 64) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 50);
    if (stop_reader_) {
      ++reads_after_stop;
    }
    if (ready == 0) {
      if (stop_reader_) {
        break;
      }
      continue;
    }
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    const ssize_t n = ready < 0 ? -1 : ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // EOF: every writer closed the pipe
    }
    partial_.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
      write_line(std::string_view(partial_).substr(start, nl - start));
      start = nl + 1;
    }
    partial_.erase(0, start);
    if (partial_.size() > limits_.max_line_bytes) {
      write_line(partial_);
      partial_.clear();
    }
  }
  if (!partial_.empty()) {
    write_line(partial_);
    partial_.clear();
  }
  ::close(fd);
}

std::vector<std::string> LogFile::tail(std::size_t n) const {
  std::lock_guard lock(mutex_);
  std::deque<std::string> out;
  for (unsigned i = 0; i <= limits_.rotated_files && out.size() < n; ++i) {
    std::vector<std::string> lines;
    read_lines(i == 0 ? path_ : rotated(i), lines);
    for (auto it = lines.rbegin(); it != lines.rend() && out.size() < n; ++it) {
      out.push_front(std::move(*it));
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace rampart::runner
