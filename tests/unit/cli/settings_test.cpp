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
  ClientSettings s = *resolve_client({.data_dir = dir_.path().string()});
  EXPECT_EQ(s.data_dir, dir_.path().string());
  EXPECT_EQ(s.address, "127.0.0.1:9901");
  EXPECT_EQ(s.address_source, "the default");
  EXPECT_EQ(s.token, "");
  EXPECT_EQ(s.token_source, "");
}

TEST_F(Settings, DataDirFilesAreRead) {
  std::string data = data_dir_with_files();
  ClientSettings s = *resolve_client({.data_dir = data});
  EXPECT_EQ(s.address, "127.0.0.1:40001");  // the newline trimmed
  EXPECT_EQ(s.address_source, (fs::path(data) / "admin.addr").string());
  EXPECT_EQ(s.token, kSecret);
  EXPECT_EQ(s.token_source, (fs::path(data) / "admin.token").string());
}

TEST_F(Settings, EnvironmentBeatsFiles) {
  std::string data = data_dir_with_files();
  ::setenv("RAMPART_ADDR", "10.0.0.1:9901", 1);
  ::setenv("RAMPART_TOKEN", "from-env", 1);
  ClientSettings s = *resolve_client({.data_dir = data});
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
      *resolve_client({.data_dir = data, .address = "[::1]:7000", .token = "from-flag"});
  EXPECT_EQ(s.address, "[::1]:7000");
  EXPECT_EQ(s.address_source, "--addr");
  EXPECT_EQ(s.token, "from-flag");
  EXPECT_EQ(s.token_source, "--token");
}

TEST_F(Settings, EmptyEnvironmentCountsAsUnset) {
  std::string data = data_dir_with_files();
  ::setenv("RAMPART_ADDR", "", 1);
  ::setenv("RAMPART_TOKEN", "", 1);
  ClientSettings s = *resolve_client({.data_dir = data});
  EXPECT_EQ(s.address, "127.0.0.1:40001");
  EXPECT_EQ(s.token, kSecret);
}

TEST_F(Settings, ConfigAddressComesAfterEnvironmentBeforeFile) {
  std::string data = data_dir_with_files();
  dir_.write("r.toml", "[server]\nadmin = \"127.0.0.1:9999\"\n");
  const std::string config = (dir_.path() / "r.toml").string();
  ClientSettings s = *resolve_client({.data_dir = data, .config_path = config});
  EXPECT_EQ(s.address, "127.0.0.1:9999");
  ::setenv("RAMPART_ADDR", "10.0.0.1:9901", 1);
  EXPECT_EQ(resolve_client({.data_dir = data, .config_path = config})->address, "10.0.0.1:9901");
}

TEST_F(Settings, PathsTheUserNamedMustExist) {
  auto data = resolve_client({.data_dir = "/nonexistent/rampart"});
  ASSERT_FALSE(data);
  EXPECT_EQ(data.error().message,
            "--data \"/nonexistent/rampart\" is not a directory; name the server's data "
            "directory (the one `rampart server --data` uses)");
  ::setenv("RAMPART_DATA", "/nonexistent/rampart", 1);
  auto env = resolve_client({});
  ASSERT_FALSE(env);
  EXPECT_TRUE(env.error().message.starts_with("$RAMPART_DATA \"/nonexistent/rampart\""))
      << env.error().message;
  ::unsetenv("RAMPART_DATA");
  auto config = resolve_client({.data_dir = dir_.path().string(), .config_path = "missing.toml"});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("missing.toml"), std::string::npos)
      << config.error().message;
}

TEST_F(Settings, AnAddressThatIsRefusedNamesWhereItCameFrom) {
  ::setenv("RAMPART_ADDR", "https://127.0.0.1:9901", 1);
  auto s = resolve_client({.data_dir = dir_.path().string()});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "$RAMPART_ADDR: \"https://127.0.0.1:9901\" is not an admin API address: https is not "
            "supported (the admin API has no TLS yet); use http://; write host:port or "
            "http://host:port, e.g. 127.0.0.1:9901");
  auto flag = resolve_client({.data_dir = dir_.path().string(), .address = " http://[::1]:7/ "});
  ASSERT_TRUE(flag) << flag.error().message;
  EXPECT_EQ(flag->address, "[::1]:7");
}

struct AddressCase {
  const char* name;
  const char* text;
  const char* address;  // nullptr: refused
  const char* why;      // refused: what the message says
};

TEST(ParseAdminAddress, Cases) {
  const AddressCase cases[] = {
      {"host and port", "127.0.0.1:9901", "127.0.0.1:9901", ""},
      {"a name", "localhost:9901", "localhost:9901", ""},
      {"bracketed IPv6", "[::1]:9901", "[::1]:9901", ""},
      {"http URL", "http://127.0.0.1:9901", "127.0.0.1:9901", ""},
      {"scheme in capitals", "HTTP://127.0.0.1:9901", "127.0.0.1:9901", ""},
      {"trailing slash", "http://127.0.0.1:9901/", "127.0.0.1:9901", ""},
      {"trailing slash without scheme", "127.0.0.1:9901/", "127.0.0.1:9901", ""},
      {"surrounding spaces", "  127.0.0.1:9901\t", "127.0.0.1:9901", ""},
      {"empty", "  ", nullptr, "it is empty"},
      {"https", "https://127.0.0.1:9901", nullptr, "https is not supported"},
      {"other scheme", "ftp://127.0.0.1:21", nullptr, "the scheme \"ftp\" is not supported"},
      {"a path", "http://127.0.0.1:9901/api/v1", nullptr, "a path (\"/api/v1\")"},
      {"a query", "127.0.0.1:9901?x=1", nullptr, "a path (\"?x=1\")"},
      {"no port", "127.0.0.1", nullptr, "the port is missing"},
      {"no port, URL", "http://localhost/", nullptr, "the port is missing"},
      {"IPv6 without port", "[::1]", nullptr, "the port is missing"},
      {"port too large", "127.0.0.1:99999", nullptr, "the port \"99999\" is not a number from 1"},
      {"port 0", "127.0.0.1:0", nullptr, "the port \"0\" is not a number from 1 to 65535"},
      {"port not a number", "127.0.0.1:http", nullptr, "the port \"http\" is not a number"},
      {"empty port", "127.0.0.1:", nullptr, "the port \"\" is not a number"},
      {"no host", ":9901", nullptr, "the host is missing"},
      {"bad host", "ex ample:9901", nullptr, "the host may only contain"},
      {"IPv6 unbracketed", "::1:9901", nullptr, "an IPv6 address must be in brackets"},
      {"user info", "http://me@127.0.0.1:9901", nullptr, "user info"},
  };
  for (const auto& c : cases) {
    auto got = parse_admin_address(c.text);
    if (c.address != nullptr) {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(*got, c.address) << c.name;
      continue;
    }
    ASSERT_FALSE(got) << c.name << ": accepted as " << *got;
    const std::string& m = got.error().message;
    EXPECT_TRUE(m.starts_with("\"" + std::string(c.text) + "\" is not an admin API address: "))
        << c.name << ": " << m;
    EXPECT_NE(m.find(c.why), std::string::npos) << c.name << ": " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << c.name;
  }
}

TEST_F(Settings, EmptyFilesCountAsUnset) {
  dir_.write("admin.addr", "\n");
  dir_.write("admin.token", "");
  ClientSettings s = *resolve_client({.data_dir = dir_.path().string()});
  EXPECT_EQ(s.address, "127.0.0.1:9901");
  EXPECT_EQ(s.token, "");
}

TEST_F(Settings, DataDir) {
  EXPECT_EQ(resolve_data_dir(""), "rampart-data");
  ::setenv("RAMPART_DATA", "/var/lib/rampart", 1);
  EXPECT_EQ(resolve_data_dir(""), "/var/lib/rampart");
  EXPECT_EQ(resolve_data_dir("here"), "here");
  ::setenv("RAMPART_DATA", dir_.path().c_str(), 1);  // a directory that exists
  auto s = resolve_client({});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->data_dir, dir_.path().string());
}

TEST_F(Settings, DefaultDataDirIsRelativeToTheWorkingDirectory) {
  fs::create_directory(dir_.path() / "rampart-data");
  dir_.write("rampart-data/admin.addr", "127.0.0.1:40002");
  fs::path cwd = fs::current_path();
  fs::current_path(dir_.path());
  ClientSettings s = *resolve_client({});
  fs::current_path(cwd);
  EXPECT_EQ(s.data_dir, "rampart-data");
  EXPECT_EQ(s.address, "127.0.0.1:40002");
}

}  // namespace
}  // namespace rampart::cli
