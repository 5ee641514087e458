// The master key: its file (created 0600, refused when wider or of the wrong size) and
// RAMPART_MASTER_KEY (64 hex digits; a malformed value named, never shown).

#include "secrets/master_key.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fmt/format.h>
#include <filesystem>

#include <fstream>
#include <sstream>

namespace rampart::secrets {
namespace {

using testing::TempDir;

const std::string kHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

unsigned file_mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(MasterKeyTest, FirstLoadCreatesAFileOnlyItsOwnerCanRead) {
  TempDir dir;
  // Even a umask that takes nothing away leaves the file 0600.
  const mode_t old_umask = ::umask(0);
  auto created = load_master_key(dir.path().string(), nullptr);
  ::umask(old_umask);
  ASSERT_TRUE(created) << created.error().message;
  const std::string path = dir.file("master.key");
  EXPECT_EQ(file_mode(path), 0600u);
  const std::string text = read_file(path);
  EXPECT_EQ(text, created->hex() + "\n");
  EXPECT_EQ(text.size(), 65u);
  // Only the key file: the temporary file it was written through is gone.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);

  auto again = load_master_key(dir.path().string(), nullptr);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->bytes(), created->bytes());
  EXPECT_EQ(read_file(path), text);
}

TEST(MasterKeyTest, TwoNewKeysDiffer) {
  TempDir a;
  TempDir b;
  auto ka = load_master_key(a.path().string(), nullptr);
  auto kb = load_master_key(b.path().string(), nullptr);
  ASSERT_TRUE(ka && kb);
  EXPECT_NE(ka->bytes(), kb->bytes());
}

TEST(MasterKeyTest, CreatingNeverReplacesAKey) {
  TempDir dir;
  const std::string path = dir.file("master.key");
  write_file(path, kHex + "\n", 0600);
  auto created = create_master_key_file(path);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, Errc::kConflict);
  EXPECT_EQ(read_file(path), kHex + "\n");
  auto loaded = load_master_key(dir.path().string(), nullptr);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->hex(), kHex);
}

TEST(MasterKeyTest, FileWithAModeWiderThan0600IsRefused) {
  for (mode_t mode : {0644, 0640, 0604, 0700, 0660}) {
    TempDir dir;
    const std::string path = dir.file("master.key");
    write_file(path, kHex + "\n", mode);
    auto key = load_master_key(dir.path().string(), nullptr);
    ASSERT_FALSE(key) << std::oct << mode;
    EXPECT_EQ(key.error().code, Errc::kInvalidArgument);
    const std::string& m = key.error().message;
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(fmt::format("has mode {:04o}, wider than 0600", mode)), std::string::npos)
        << m;
    EXPECT_NE(m.find("chmod 600"), std::string::npos) << m;
    EXPECT_EQ(m.find(kHex), std::string::npos) << m;
    // Refused, not repaired.
    EXPECT_EQ(file_mode(path), static_cast<unsigned>(mode));
  }
}

TEST(MasterKeyTest, NarrowerModesAndAFileWithoutNewlineAreAccepted) {
  for (auto [content, mode] :
       {std::pair{kHex + "\n", mode_t{0400}}, std::pair{kHex, mode_t{0600}}}) {
    TempDir dir;
    write_file(dir.file("master.key"), content, mode);
    auto key = load_master_key(dir.path().string(), nullptr);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->hex(), kHex);
  }
}

TEST(MasterKeyTest, FileOfTheWrongSizeOrContentIsRefused) {
  struct Case {
    std::string name;
    std::string content;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"truncated", kHex.substr(0, 30), "is 30 bytes; it must hold 64 hex digits and a newline"},
      {"empty", "", "is 0 bytes"},
      {"too long", kHex + "\n\n", "is 66 bytes"},
      {"not hex", std::string(64, 'g'), "not a hex digit"},
      {"no newline at 65", kHex + "0", "has 65 characters"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const std::string path = dir.file("master.key");
    write_file(path, c.content, 0600);
    auto key = load_master_key(dir.path().string(), nullptr);
    ASSERT_FALSE(key) << c.name;
    EXPECT_EQ(key.error().code, Errc::kInvalidArgument) << c.name;
    EXPECT_NE(key.error().message.find(c.expected), std::string::npos)
        << c.name << ": " << key.error().message;
    EXPECT_NE(key.error().message.find(path), std::string::npos) << c.name;
    EXPECT_EQ(read_file(path), c.content) << c.name;  // left as it was
  }
}

TEST(MasterKeyTest, ASymlinkOrDirectoryIsNotAKeyFile) {
  TempDir dir;
  write_file(dir.file("real.key"), kHex + "\n", 0600);
  std::filesystem::create_symlink(dir.file("real.key"), dir.file("master.key"));
  auto key = load_master_key(dir.path().string(), nullptr);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::kIo) << key.error().message;

  TempDir other;
  std::filesystem::create_directory(other.file("master.key"));
  auto dir_key = load_master_key(other.path().string(), nullptr);
  ASSERT_FALSE(dir_key);
  EXPECT_NE(dir_key.error().message.find("not a regular file"), std::string::npos)
      << dir_key.error().message;
}

TEST(MasterKeyTest, MissingDataDirectoryIsAnIoError) {
  TempDir dir;
  auto key = load_master_key(dir.file("missing"), nullptr);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::kIo) << key.error().message;
}

TEST(MasterKeyTest, TheVariableWinsAndCreatesNoFile) {
  TempDir dir;
  std::string upper = kHex;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const std::string& text : {kHex, upper}) {
    auto key = load_master_key(dir.path().string(), text.c_str());
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->hex(), kHex);
    EXPECT_EQ(key->bytes()[1], 0x11);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("master.key")));
}

TEST(MasterKeyTest, AMalformedVariableIsNamedNeverShown) {
  struct Case {
    std::string value;
    std::string expected;
  };
  const std::string secretish = "s3cr3t-passphrase-not-hex";
  const std::vector<Case> cases = {
      {"", "is empty"},
      {kHex.substr(0, 63), "has 63 characters"},
      {kHex + "0", "has 65 characters"},
      {kHex + "\n", "has 65 characters"},
      {secretish, "has 25 characters"},
      {"zz" + kHex.substr(2), "not a hex digit"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    auto key = load_master_key(dir.path().string(), c.value.c_str());
    ASSERT_FALSE(key) << c.value;
    const std::string& m = key.error().message;
    EXPECT_EQ(key.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(m.starts_with("RAMPART_MASTER_KEY: ")) << m;
    EXPECT_NE(m.find(c.expected), std::string::npos) << m;
    EXPECT_NE(m.find("64 hex digits"), std::string::npos) << m;
    if (!c.value.empty()) {
      EXPECT_EQ(m.find(c.value.substr(2, 20)), std::string::npos) << m;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("master.key")));
}

}  // namespace
}  // namespace rampart::secrets
