#pragma once
// Small POSIX file pieces for the files only rampart's user may read (the bootstrap token, the
// master key): an owned descriptor, errno as an Error, a whole write, a durable 0600 file and
// the fsync of a directory after a rename or link into it.

#include "common/result.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace rampart {

// Owns a file descriptor: closes it unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// kIo: "WHAT \"PATH\": strerror(err)".
Error io_error(std::string_view what, const std::string& path, int err);

// Writes all of `text` to `fd` (retrying short writes and EINTR); `path` names it in errors.
Status write_all(int fd, const std::string& path, std::string_view text);

// Writes `text` to `path` with mode 0600 whatever the umask, fsync'd and closed. `exclusive`:
// refuse a file that exists (O_EXCL); otherwise truncate it.
Status write_private_file(const std::string& path, std::string_view text, bool exclusive);

// fsyncs the directory holding `path` ("." for a bare name), so that a rename or link into it
// survives a crash.
Status fsync_directory_of(const std::string& path);

}  // namespace rampart
