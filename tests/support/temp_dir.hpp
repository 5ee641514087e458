#pragma once
// Test support: a fresh temporary directory, removed with everything in it on destruction
// (permissions restored first, so a test may make it read-only).

#include <filesystem>
#include <string>

namespace rampart::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `content` to `name` through a rename, so a reader never sees half a file.
  void write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace rampart::testing
