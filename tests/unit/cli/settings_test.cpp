#include "cli/settings.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

namespace rampart::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kVars[] = {"RAMPART_ADDR", "RAMPART_TOKEN", "RAMPART_DATA"};
const std::string kSecret(64, 'a');

// Clears the RAMPART_* variables for a test and restores them after it.
class Settings : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVars) {
      const char* v = std::getenv(name);
      saved_.push_back(v == nullptr ? std::nullopt : std::optional<std::string>(v));
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (std::size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i]) {
        ::setenv(kVars[i], saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(kVars[i]);
      }
    }
  }

  // A data dir holding admin.addr and admin.token as the server writes them.
  std::string data_dir_with_files() {
    dir_.write("admin.addr", "127.0.0.1:40001\n");
    dir_.write("admin.token", kSecret);
    return dir_.path().string();
  }

  testing::TempDir dir_;
  std::vector<std::optional<std::string>> saved_;
};

TEST_F(Settings, DefaultsWhenNothingIsSet) {
  ClientSettings s = resolve_client({.data_dir = dir_.path().string()});
  EXPECT_EQ(s.data_dir, dir_.path().string());
  EXPECT_EQ(s.address, "127.0.0.1:9901");
  EXPECT_EQ(s.address_source, "the default");
  EXPECT_EQ(s.token, "");
  EXPECT_EQ(s.token_source, "");
}

TEST_F(Settings, DataDirFilesAreRead) {
  std::string data = data_dir_with_files();
  ClientSettings s = resolve_client({.data_dir = data});
  EXPECT_EQ(s.address, "127.0.0.1:40001");  // the newline trimmed
  EXPECT_EQ(s.address_source, (fs::path(data) / "admin.addr").string());
  EXPECT_EQ(s.token, kSecret);
  EXPECT_EQ(s.token_source, (fs::path(data) / "admin.token").string());
}

TEST_F(Settings, EnvironmentBeatsFiles) {
  std::string data = data_dir_with_files();
  ::setenv("RAMPART_ADDR", "10.0.0.1:9901", 1);
  ::setenv("RAMPART_TOKEN", "from-env", 1);
  ClientSettings s = resolve_client({.data_dir = data});
  EXPECT_EQ(s.address, "10.0.0.1:9901");
  EXPECT_EQ(s.address_source, "$RAMPART_ADDR");
  EXPECT_EQ(s.token, "from-env");
  EXPECT_EQ(s.token_source, "$RAMPART_TOKEN");
}

TEST_F(Settings, FlagsBeatEnvironment) {
  std::string data = data_dir_with_files();
  ::setenv("RAMPART_ADDR", "10.0.0.1:9901", 1);
  ::setenv("RAMPART_TOKEN", "from-env", 1);
  ClientSettings s =
      resolve_client({.data_dir = data, .address = "[::1]:7000", .token = "from-flag"});
  EXPECT_EQ(s.address, "[::1]:7000");
  EXPECT_EQ(s.address_source, "--addr");
  EXPECT_EQ(s.token, "from-flag");
  EXPECT_EQ(s.token_source, "--token");
}

TEST_F(Settings, EmptyEnvironmentCountsAsUnset) {
  std::string data = data_dir_with_files();
  ::setenv("RAMPART_ADDR", "", 1);
  ::setenv("RAMPART_TOKEN", "", 1);
  ClientSettings s = resolve_client({.data_dir = data});
  EXPECT_EQ(s.address, "127.0.0.1:40001");
  EXPECT_EQ(s.token, kSecret);
}

TEST_F(Settings, ConfigAddressComesAfterEnvironmentBeforeFile) {
  std::string data = data_dir_with_files();
  ClientSettings s = resolve_client({.data_dir = data, .config_address = "127.0.0.1:9999"});
  EXPECT_EQ(s.address, "127.0.0.1:9999");
  ::setenv("RAMPART_ADDR", "10.0.0.1:9901", 1);
  EXPECT_EQ(resolve_client({.data_dir = data, .config_address = "127.0.0.1:9999"}).address,
            "10.0.0.1:9901");
}

TEST_F(Settings, EmptyFilesCountAsUnset) {
  dir_.write("admin.addr", "\n");
  dir_.write("admin.token", "");
  ClientSettings s = resolve_client({.data_dir = dir_.path().string()});
  EXPECT_EQ(s.address, "127.0.0.1:9901");
  EXPECT_EQ(s.token, "");
}

TEST_F(Settings, DataDir) {
  EXPECT_EQ(resolve_data_dir(""), "rampart-data");
  ::setenv("RAMPART_DATA", "/var/lib/rampart", 1);
  EXPECT_EQ(resolve_data_dir(""), "/var/lib/rampart");
  EXPECT_EQ(resolve_data_dir("here"), "here");
  EXPECT_EQ(resolve_client({}).data_dir, "/var/lib/rampart");
}

TEST_F(Settings, DefaultDataDirIsRelativeToTheWorkingDirectory) {
  fs::create_directory(dir_.path() / "rampart-data");
  dir_.write("rampart-data/admin.addr", "127.0.0.1:40002");
  fs::path cwd = fs::current_path();
  fs::current_path(dir_.path());
  ClientSettings s = resolve_client({});
  fs::current_path(cwd);
  EXPECT_EQ(s.data_dir, "rampart-data");
  EXPECT_EQ(s.address, "127.0.0.1:40002");
}

}  // namespace
}  // namespace rampart::cli
