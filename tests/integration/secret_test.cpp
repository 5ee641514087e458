// Secrets end to end: the real `rampart server --data DIR` and the `rampart secret` verbs as
// child processes. The value goes in on stdin and is found nowhere after: not in an answer, the
// audit log, the server's log or the store file; the master key file is 0600; the secrets still
// open after a kill -9 and a restart; and another master key is refused or reported at start.

#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace rampart::testing {
namespace {

namespace json = boost::json;

constexpr const char* kEnv[] = {"RAMPART_ADDR", "RAMPART_TOKEN", "RAMPART_DATA",
                                "RAMPART_MASTER_KEY"};
constexpr const char* kValue = "sk_live_4a7b9c2d1e0f";
// Another valid key (64 hex digits) than the one the server makes at its first start.
constexpr const char* kOtherKey =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class SecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kEnv) {
      const char* v = std::getenv(name);
      saved_env_.push_back(v == nullptr ? std::nullopt : std::optional<std::string>(v));
      ::unsetenv(name);
    }
    start();
  }
  void TearDown() override {
    for (std::size_t i = 0; i < saved_env_.size(); ++i) {
      if (saved_env_[i]) {
        ::setenv(kEnv[i], saved_env_[i]->c_str(), 1);
      } else {
        ::unsetenv(kEnv[i]);
      }
    }
  }

  std::vector<std::string> server_argv() const {
    return {RAMPART_BIN, "server",      "--data",  data_dir(),
            "--listen",  "127.0.0.1:0", "--admin", "127.0.0.1:0"};
  }
  void start() {
    server_ = Process::spawn(server_argv(), dir_.file("rampart.log"));
    std::string line = server_.read_line(std::chrono::seconds(20));
    ASSERT_GT(port_after(line, "admin on "), 0) << "rampart did not start: " << line << "\n"
                                                << log();
  }
  void kill_server() {
    server_.signal(SIGKILL);
    server_.wait(std::chrono::seconds(10));
  }

  std::string data_dir() const { return dir_.file("data"); }
  std::string log() const { return whole_file(dir_.file("rampart.log")); }

  RunResult rampart(std::vector<std::string> args) {
    args.insert(args.begin(), RAMPART_BIN);
    args.push_back("--data");
    args.push_back(data_dir());
    return run_to_completion(args);
  }
  // `rampart secret put SERVICE NAME` with `value` on its stdin (from a file: never an argument).
  RunResult put(const std::string& name, const std::string& value) {
    dir_.write("value.txt", value);
    return run_to_completion({"/bin/sh", "-c",
                              "exec \"$0\" secret put shop \"$1\" --data \"$2\" < \"$3\"",
                              RAMPART_BIN, name, data_dir(), dir_.file("value.txt")});
  }
  // The versions `secret list shop --json` shows, by name.
  std::map<std::string, std::int64_t> versions() {
    RunResult r = rampart({"secret", "list", "shop", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::int64_t> out;
    boost::system::error_code ec;
    json::value v = json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out;
    if (ec) {
      return out;
    }
    for (const auto& s : v.at("secrets").as_array()) {
      out[std::string(s.at("name").as_string())] = s.at("version").as_int64();
    }
    return out;
  }

  TempDir dir_;
  Process server_;
  std::vector<std::optional<std::string>> saved_env_;
};

TEST_F(SecretTest, PutListDeleteAndTheValueIsNowhereElse) {
  RunResult first = put("API_KEY", std::string(kValue) + "\n");
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "shop: secret API_KEY version 1 stored\n");
  EXPECT_EQ((versions()), (std::map<std::string, std::int64_t>{{"API_KEY", 1}}));
  RunResult second = put("API_KEY", std::string(kValue) + "-rotated");
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ((versions()), (std::map<std::string, std::int64_t>{{"API_KEY", 2}}));

  RunResult table = rampart({"secret", "list", "shop"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(table.out.starts_with("NAME     VERSION  UPDATED\nAPI_KEY  2        ")) << table.out;

  RunResult gone = rampart({"secret", "delete", "shop", "API_KEY"});
  EXPECT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_EQ(gone.out, "shop: secret API_KEY deleted (it was at version 2)\n");
  EXPECT_TRUE(versions().empty());
  RunResult again = rampart({"secret", "delete", "shop", "API_KEY"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "rampart: not found: no secret named \"API_KEY\" in service \"shop\"\n");

  // The audit log says that it changed, never what it held.
  RunResult audit = rampart({"audit"});
  RunResult audit_json = rampart({"audit", "--json"});
  EXPECT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_NE(audit.out.find("secret.put"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("secret.delete"), std::string::npos) << audit.out;
  for (const std::string& text :
       {audit.out, audit_json.out, first.out, second.out, table.out, log(),
        whole_file(data_dir() + "/rampart.db") + whole_file(data_dir() + "/rampart.db-wal")}) {
    EXPECT_EQ(text.find(kValue), std::string::npos);
  }

  // The key the server made at its first start: only its owner may read it.
  struct stat st {};
  ASSERT_EQ(::stat((data_dir() + "/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
}

TEST_F(SecretTest, BadInputIsOneLine) {
  RunResult empty = put("API_KEY", "");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_TRUE(empty.err.starts_with("rampart: secret put: the value is empty")) << empty.err;
  RunResult bad_name = put("api-key", kValue);
  EXPECT_EQ(bad_name.exit_code, 1);
  EXPECT_TRUE(bad_name.err.starts_with("rampart: name: \"api-key\" holds a character"))
      << bad_name.err;
  EXPECT_EQ(bad_name.err.find(kValue), std::string::npos);
  RunResult too_big = put("API_KEY", std::string(64 * 1024 + 1, 'x'));
  EXPECT_EQ(too_big.exit_code, 2);
  EXPECT_TRUE(too_big.err.starts_with("rampart: secret put: the value on stdin is longer"))
      << too_big.err;
}

TEST_F(SecretTest, AKillAndARestartStillOpenTheSecrets) {
  ASSERT_EQ(put("API_KEY", kValue).exit_code, 0);
  kill_server();
  start();
  EXPECT_EQ((versions()), (std::map<std::string, std::int64_t>{{"API_KEY", 1}}));
  ASSERT_EQ(put("API_KEY", "next").exit_code, 0);
  EXPECT_EQ((versions()), (std::map<std::string, std::int64_t>{{"API_KEY", 2}}));
  // At start the server opened the stored secret with the key file's key.
  EXPECT_EQ(log().find("do not open"), std::string::npos) << log();
}

TEST_F(SecretTest, AnotherMasterKeyAtRestart) {
  ASSERT_EQ(put("API_KEY", kValue).exit_code, 0);
  kill_server();

  // A key that is not a key: the server refuses to start, in one line that does not show it.
  ::setenv("RAMPART_MASTER_KEY", "not-a-key", 1);
  RunResult refused = run_to_completion(server_argv());
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err,
            "rampart: cannot load the master key: RAMPART_MASTER_KEY: has 9 characters; it must "
            "be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`\n");

  // A valid key, but not the one the secrets were sealed with: the server starts and says so at
  // once; listing needs no key, and a put seals the next version under the new key.
  ::setenv("RAMPART_MASTER_KEY", kOtherKey, 1);
  start();
  EXPECT_NE(log().find("the stored secrets do not open: secret \"API_KEY\" of service \"shop\" "
                       "(version 1): the secret cannot be decrypted: the master key is not the "
                       "one it was sealed with"),
            std::string::npos)
      << log();
  EXPECT_EQ((versions()), (std::map<std::string, std::int64_t>{{"API_KEY", 1}}));
  ASSERT_EQ(put("API_KEY", "resealed").exit_code, 0);
  kill_server();
  ::unsetenv("RAMPART_MASTER_KEY");

  // A key file that others may read is refused, not used.
  const std::string key_file = data_dir() + "/master.key";
  ASSERT_EQ(::chmod(key_file.c_str(), 0644), 0);
  RunResult wide = run_to_completion(server_argv());
  EXPECT_EQ(wide.exit_code, 1);
  EXPECT_NE(wide.err.find("master key file \"" + key_file + "\": has mode 0644"), std::string::npos)
      << wide.err;
}

}  // namespace
}  // namespace rampart::testing
