#include "support/temp_dir.hpp"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>

namespace rampart::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "rampart-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

void TempDir::write(const std::string& name, const std::string& content) const {
  std::string tmp = file(name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
  }
  std::filesystem::rename(tmp, file(name));
}

}  // namespace rampart::testing
