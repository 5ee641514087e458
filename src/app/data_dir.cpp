#include "app/data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace rampart::app {

namespace {

constexpr std::string_view kLockFile = "rampart.lock";

// The pid the lock holder wrote, or "unknown".
std::string holder_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid(text, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
    pid.pop_back();
  }
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

Result<DataDir> DataDir::open(const std::string& path) {
  std::error_code ec;
  // The directory holds the admin token: only its owner may look inside.
  if (std::filesystem::create_directories(path, ec) && !ec) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
  }
  if (ec) {
    return make_error(Errc::kIo,
                      fmt::format("cannot create the data directory {}: {}", path, ec.message()));
  }
  const std::string lock_path = path + "/" + std::string(kLockFile);
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(Errc::kIo,
                      fmt::format("cannot open {}: {}", lock_path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    std::string pid = holder_pid(fd);
    ::close(fd);
    if (e == EWOULDBLOCK) {
      return make_error(Errc::kUnavailable,
                        fmt::format("{} is in use by another rampart (pid {}); stop it, or give "
                                    "this server another --data directory",
                                    path, pid));
    }
    return make_error(Errc::kIo, fmt::format("cannot lock {}: {}", lock_path, std::strerror(e)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int e = errno;
    ::close(fd);
    return make_error(Errc::kIo, fmt::format("cannot write {}: {}", lock_path, std::strerror(e)));
  }
  return DataDir(path, fd);
}

DataDir::DataDir(DataDir&& other) noexcept
    : path_(std::move(other.path_)), lock_fd_(std::exchange(other.lock_fd_, -1)) {}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the lock; the file stays (its pid is only read under it)
  }
}

Status write_file_atomically(const std::string& path, std::string_view text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_error(Errc::kIo, fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  bool good = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!good || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = good ? errno : saved;
    ::unlink(tmp.c_str());
    return make_error(Errc::kIo, fmt::format("cannot write {}: {}", path, std::strerror(e)));
  }
  const auto dir = std::filesystem::path(path).parent_path();
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace rampart::app
