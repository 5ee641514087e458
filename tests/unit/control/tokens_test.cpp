// API tokens: creation, authentication by secret, roles, the bootstrap admin token file.

#include "control/deployment_service.hpp"

#include "control_test_support.hpp"
#include "model/keys.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace rampart::control {
namespace {

using model::Role;
using testing::FakeClock;
using testing::TempDir;
namespace keys = model::keys;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned file_mode(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

bool is_hex_secret(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class TokensTest : public ::testing::Test {
 protected:
  store::MemoryStore store_;
  FakeClock clock_;
  DeploymentService service_{store_, clock_.as_clock()};
};

TEST_F(TokensTest, CreateAndAuthenticateEachRole) {
  struct Case {
    std::string name;
    Role role;
  };
  const std::vector<Case> cases = {
      {"root", Role::kAdmin}, {"ci", Role::kDeployer}, {"dashboard", Role::kReadOnly}};
  std::vector<std::string> secrets;
  for (const auto& c : cases) {
    auto created = service_.create_token(c.name, c.role, "alice");
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_TRUE(is_hex_secret(created->secret)) << created->secret;
    // The answer is the record as stored.
    EXPECT_EQ(created->token.name, c.name);
    EXPECT_EQ(created->token.role, c.role);
    EXPECT_EQ(created->token.created_at, clock_.now());
    EXPECT_EQ(created->token.sha256, model::hash_token_secret(created->secret));
    secrets.push_back(created->secret);
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto token = service_.authenticate(secrets[i]);
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(token->name, cases[i].name);
    EXPECT_EQ(token->role, cases[i].role);
    EXPECT_EQ(token->created_at, clock_.now());
    EXPECT_EQ(token->sha256, model::hash_token_secret(secrets[i]));
  }
  EXPECT_NE(secrets[0], secrets[1]);
  auto all = service_.tokens();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "ci");  // by name
}

TEST_F(TokensTest, UnknownSecretsAreNotFound) {
  auto created = service_.create_token("ci", Role::kDeployer, "alice");
  ASSERT_TRUE(created);
  const std::string& secret = created->secret;
  std::string altered = secret;
  altered[0] = altered[0] == 'a' ? 'b' : 'a';
  for (const std::string& s :
       {std::string(), altered, secret + "0", secret.substr(1), model::hash_token_secret(secret)}) {
    auto token = service_.authenticate(s);
    ASSERT_FALSE(token) << s;
    EXPECT_EQ(token.error().code, Errc::kNotFound);
    EXPECT_EQ(token.error().message, "unknown token");
  }
}

TEST_F(TokensTest, OnlyTheHashIsStored) {
  auto created = service_.create_token("ci", Role::kDeployer, "alice");
  ASSERT_TRUE(created);
  auto everything = store_.range("", {.prefix = true});
  ASSERT_TRUE(everything);
  for (const auto& kv : everything->kvs) {
    EXPECT_EQ(kv.value.find(created->secret), std::string::npos) << kv.key;
  }
}

TEST_F(TokensTest, NamesAreUniqueAndValid) {
  ASSERT_TRUE(service_.create_token("ci", Role::kDeployer, "alice"));
  const std::int64_t before = store_.revision();
  auto twice = service_.create_token("ci", Role::kAdmin, "alice");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::kConflict);
  EXPECT_EQ(twice.error().message, "name: a token named \"ci\" exists already");
  auto bad = service_.create_token("c i", Role::kAdmin, "alice");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(bad.error().message.starts_with("name: \"c i\" is not a valid token name"));
  EXPECT_EQ(store_.revision(), before);
}

TEST_F(TokensTest, BootstrapWritesAnAdminSecretWithMode0600) {
  TempDir dir;
  const auto path = dir.path() / "admin.token";
  const mode_t old_umask = ::umask(0);  // the file must be 0600 whatever the umask
  auto secret = service_.ensure_bootstrap_token(path.string());
  ::umask(old_umask);
  ASSERT_TRUE(secret) << secret.error().message;
  ASSERT_TRUE(*secret);
  EXPECT_TRUE(is_hex_secret(**secret));
  EXPECT_EQ(read_file(path), **secret);
  EXPECT_EQ(file_mode(path), 0600u);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  auto token = service_.authenticate(**secret);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->name, "bootstrap");
  EXPECT_EQ(token->role, Role::kAdmin);
  auto log = service_.audit();
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].actor, "rampart");
  EXPECT_EQ((*log)[0].target, "token:bootstrap");

  // A second start finds the admin token: nothing is written, the file is left alone.
  const std::int64_t revision = store_.revision();
  auto again = service_.ensure_bootstrap_token(path.string());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(*again);
  EXPECT_EQ(read_file(path), **secret);
  EXPECT_EQ(store_.revision(), revision);
}

TEST_F(TokensTest, BootstrapReplacesAnOldFileAndItsMode) {
  TempDir dir;
  const auto path = dir.path() / "admin.token";
  {
    std::ofstream old(path);
    old << "stale secret from an earlier store";
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  auto secret = service_.ensure_bootstrap_token(path.string());
  ASSERT_TRUE(secret && *secret);
  EXPECT_EQ(read_file(path), **secret);
  EXPECT_EQ(file_mode(path), 0600u);
}

TEST_F(TokensTest, NoBootstrapWhenAnAdminTokenExists) {
  ASSERT_TRUE(service_.create_token("root", Role::kAdmin, "alice"));
  TempDir dir;
  const auto path = dir.path() / "admin.token";
  auto secret = service_.ensure_bootstrap_token(path.string());
  ASSERT_TRUE(secret) << secret.error().message;
  EXPECT_FALSE(*secret);
  EXPECT_FALSE(std::filesystem::exists(path));
  auto all = service_.tokens();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(TokensTest, BootstrapWhenOnlyNonAdminTokensExist) {
  ASSERT_TRUE(service_.create_token("ci", Role::kDeployer, "alice"));
  TempDir dir;
  auto secret = service_.ensure_bootstrap_token((dir.path() / "admin.token").string());
  ASSERT_TRUE(secret && *secret);
  auto token = service_.authenticate(**secret);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->role, Role::kAdmin);
}

TEST_F(TokensTest, AnUnwritableFileCreatesNoToken) {
  TempDir dir;
  const auto path = dir.path() / "missing-dir" / "admin.token";
  auto secret = service_.ensure_bootstrap_token(path.string());
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().code, Errc::kIo);
  EXPECT_NE(secret.error().message.find(path.string()), std::string::npos)
      << secret.error().message;
  auto all = service_.tokens();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty()) << "a token whose secret was not saved";
  EXPECT_EQ(store_.revision(), 0);
}

TEST(BootstrapFailures, AStoreErrorKeepsTheFileAndTheNextStartReplacesIt) {
  testing::HookStore store;
  FakeClock clock;
  DeploymentService service(store, clock.as_clock());
  TempDir dir;
  const auto path = dir.path() / "admin.token";
  store.fail_writes = true;
  auto failed = service.ensure_bootstrap_token(path.string());
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::kUnavailable);
  const std::string unused = read_file(path);
  EXPECT_TRUE(is_hex_secret(unused));
  auto none = service.tokens();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  store.fail_writes = false;
  auto secret = service.ensure_bootstrap_token(path.string());
  ASSERT_TRUE(secret && *secret) << (secret ? "" : secret.error().message);
  EXPECT_NE(**secret, unused);
  EXPECT_EQ(read_file(path), **secret);
  EXPECT_FALSE(service.authenticate(unused));
  EXPECT_TRUE(service.authenticate(**secret));
}

TEST_F(TokensTest, TokensLiveUnderTheirKey) {
  ASSERT_TRUE(service_.create_token("ci", Role::kDeployer, "alice"));
  auto kv = store_.get(keys::token("ci"));
  ASSERT_TRUE(kv && *kv);
  EXPECT_NE((*kv)->value.find(R"("role":"deployer")"), std::string::npos);
}

TEST_F(TokensTest, ARevokedTokenIsRefusedAtOnceAndTheRevocationIsAudited) {
  ASSERT_TRUE(service_.create_token("root", Role::kAdmin, "rampart"));
  auto ci = service_.create_token("ci", Role::kDeployer, "root");
  ASSERT_TRUE(ci);
  ASSERT_TRUE(service_.authenticate(ci->secret));
  clock_.advance(5);

  auto revoked = service_.revoke_token("ci", "root");
  ASSERT_TRUE(revoked) << revoked.error().message;
  EXPECT_EQ(revoked->revoked_at, clock_.now());
  auto refused = service_.authenticate(ci->secret);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kNotFound);
  EXPECT_EQ(refused.error().message, "token \"ci\" was revoked; ask an admin for a new one");

  auto log = service_.audit();
  ASSERT_TRUE(log);
  const auto& event = log->back();
  EXPECT_EQ(event.action, "token.revoke");
  EXPECT_EQ(event.actor, "root");
  EXPECT_EQ(event.target, "token:ci");
  EXPECT_FALSE(event.before.as_object().contains("revoked_at"));
  EXPECT_EQ(event.after.as_object().at("revoked_at").as_int64(), clock_.now());
  EXPECT_FALSE(event.after.as_object().contains("sha256"));

  // Kept: listed as revoked, its name still taken, a second revocation a conflict.
  auto all = service_.tokens();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->front().name, "ci");  // by name
  EXPECT_EQ(all->front().revoked_at, clock_.now());
  auto again = service_.revoke_token("ci", "root");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kConflict);
  auto same_name = service_.create_token("ci", Role::kDeployer, "root");
  ASSERT_FALSE(same_name);
  EXPECT_EQ(same_name.error().code, Errc::kConflict);
}

TEST_F(TokensTest, RevokeRefusesAnUnknownTokenAndTheLastAdmin) {
  ASSERT_TRUE(service_.create_token("root", Role::kAdmin, "rampart"));
  auto unknown = service_.revoke_token("nobody", "root");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  auto last = service_.revoke_token("root", "root");
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code, Errc::kConflict);
  EXPECT_NE(last.error().message.find("last admin token"), std::string::npos);
  ASSERT_TRUE(service_.create_token("second", Role::kAdmin, "root"));
  EXPECT_TRUE(service_.revoke_token("root", "second"));
}

TEST_F(TokensTest, AnExpiredTokenIsRefused) {
  const std::int64_t expires = clock_.now() + 1000;
  auto ci = service_.create_token("ci", Role::kDeployer, "alice", expires);
  ASSERT_TRUE(ci) << ci.error().message;
  EXPECT_EQ(ci->token.expires_at, expires);
  clock_.advance(999);
  ASSERT_TRUE(service_.authenticate(ci->secret));
  clock_.advance(1);
  auto refused = service_.authenticate(ci->secret);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kNotFound);
  EXPECT_EQ(refused.error().message, "token \"ci\" has expired; ask an admin for a new one");

  auto past = service_.create_token("old", Role::kDeployer, "alice", clock_.now());
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(past.error().message.starts_with("expires_at: ")) << past.error().message;
}

}  // namespace
}  // namespace rampart::control
