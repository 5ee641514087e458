#pragma once
// The server's data directory: the store (rampart.db), the bootstrap admin token (admin.token),
// the admin address for the CLI (admin.addr), the settings a restart with only --data uses
// (server.toml), and the lock that makes one server its only owner (rampart.lock).

#include "common/result.hpp"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace rampart::app {

class DataDir {
 public:
  // Creates the directory (mode 0700) when missing and locks it for this process: a second
  // server on the same directory fails at once with "DIR is in use by another rampart (pid N)".
  // The lock lives as long as the object (and dies with the process, even on kill -9).
  static Result<DataDir> open(const std::string& path);

  DataDir(DataDir&& other) noexcept;
  DataDir& operator=(DataDir&&) = delete;
  DataDir(const DataDir&) = delete;
  ~DataDir();

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}

  std::string path_;
  int lock_fd_ = -1;
};

// Writes `text` to `path` so that a reader (or a crash) sees the old file or the new one whole:
// a temporary file, fsync'd, renamed over, and the directory fsync'd.
Status write_file_atomically(const std::string& path, std::string_view text, mode_t mode);

}  // namespace rampart::app
