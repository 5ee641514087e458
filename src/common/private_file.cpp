#include "common/private_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace rampart {

Fd::~Fd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Error io_error(std::string_view what, const std::string& path, int err) {
  return make_error(Errc::kIo, fmt::format("{} \"{}\": {}", what, path, std::strerror(err)));
}

Status write_all(int fd, const std::string& path, std::string_view text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io_error("cannot write", path, errno);
    }
    written += static_cast<std::size_t>(n);
  }
  return {};
}

Status write_private_file(const std::string& path, std::string_view text, bool exclusive) {
  const int create = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : O_TRUNC);
  Fd fd(::open(path.c_str(), create, 0600));
  if (fd.get() < 0) {
    return io_error("cannot create", path, errno);
  }
  // The umask may have narrowed the mode, and a file that existed keeps its own.
  if (::fchmod(fd.get(), 0600) != 0) {
    return io_error("cannot chmod", path, errno);
  }
  if (auto st = write_all(fd.get(), path, text); !st) {
    return st;
  }
  if (::fsync(fd.get()) != 0) {
    return io_error("cannot fsync", path, errno);
  }
  if (::close(fd.release()) != 0) {
    return io_error("cannot close", path, errno);
  }
  return {};
}

Status fsync_directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return io_error("cannot fsync directory", dir, errno);
  }
  return {};
}

}  // namespace rampart
