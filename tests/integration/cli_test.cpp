// The CLI end to end: the real `rampart` binary as a child process, against a real
// `rampart server --data DIR` in front of two real demo-apps. Every verb runs with --data DIR
// and so finds the admin address (DIR/admin.addr) and the bootstrap token (DIR/admin.token)
// the way an operator's shell would.

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace rampart::testing {
namespace {

namespace json = boost::json;

constexpr const char* kEnv[] = {"RAMPART_ADDR", "RAMPART_TOKEN", "RAMPART_DATA"};

// A config with one service "shop" on "/" (sticky none) and versions v1 and v2.
std::string shop_config(int v1_port, int v2_port, int v1_percent, int v2_percent) {
  return "[server]\nlisten = \"127.0.0.1:0\"\nadmin = \"127.0.0.1:0\"\nworkers = 2\n\n"
         "[[service]]\nname = \"shop\"\nroutes = [\"/\"]\nsticky = \"none\"\n\n"
         "[[service.version]]\nname = \"v1\"\nupstreams = [\"http://127.0.0.1:" +
         std::to_string(v1_port) +
         "\"]\n\n"
         "[[service.version]]\nname = \"v2\"\nupstreams = [\"http://127.0.0.1:" +
         std::to_string(v2_port) + "\"]\n\n[service.split]\nv1 = " + std::to_string(v1_percent) +
         "\nv2 = " + std::to_string(v2_percent) + "\n";
}

// A loopback port nothing listens on (bound, then closed).
int closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(0)});
  return acceptor.local_endpoint().port();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The verbs must find everything through --data, whatever the developer's shell exports.
    for (const char* name : kEnv) {
      const char* v = std::getenv(name);
      saved_env_.push_back(v == nullptr ? std::nullopt : std::optional<std::string>(v));
      ::unsetenv(name);
    }
    v1_port_ = start_app("v1");
    v2_port_ = start_app("v2");
    dir_.write("rampart.toml", shop_config(v1_port_, v2_port_, 90, 10));
    server_ = Process::spawn(
        {RAMPART_BIN, "server", "--data", data_dir(), "--config", dir_.file("rampart.toml")},
        dir_.file("rampart.log"));
    std::string line = server_.read_line(std::chrono::seconds(20));
    gateway_port_ = port_after(line, "gateway on ");
    ASSERT_GT(gateway_port_, 0) << "rampart did not start: " << line << "\n" << log();
    ASSERT_GT(port_after(line, "admin on "), 0) << line;
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

  int start_app(const std::string& name) {
    Process p = Process::spawn({DEMO_APP_BIN, "--port", "0", "--name", name},
                               dir_.file("app-" + name + ".log"));
    std::string line = p.read_line();
    int port = port_after(line, "listening on ");
    EXPECT_GT(port, 0) << "demo-app did not start: " << line << tail_file(p.log_path());
    apps_.push_back(std::move(p));
    return port;
  }

  std::string data_dir() const { return dir_.file("data"); }
  // What the server wrote to DATA/admin.addr, without its newline.
  std::string admin_address() const {
    std::string addr = tail_file(data_dir() + "/admin.addr");
    while (!addr.empty() && (addr.back() == '\n' || addr.back() == '\r')) {
      addr.pop_back();
    }
    return addr;
  }
  std::string log() const { return tail_file(dir_.file("rampart.log")); }

  // `rampart ARGS... --data DIR`.
  RunResult rampart(std::vector<std::string> args) {
    args.insert(args.begin(), RAMPART_BIN);
    args.push_back("--data");
    args.push_back(data_dir());
    return run_to_completion(args);
  }
  // `rampart ARGS...` as given.
  static RunResult rampart_bare(std::vector<std::string> args) {
    args.insert(args.begin(), RAMPART_BIN);
    return run_to_completion(args);
  }

  // Runs a verb that must succeed; answers its stdout.
  std::string ok(const std::vector<std::string>& args) {
    RunResult r = rampart(args);
    EXPECT_EQ(r.exit_code, 0) << args.front() << ": " << r.err << "\n" << log();
    EXPECT_EQ(r.err, "");
    return r.out;
  }
  json::value ok_json(std::vector<std::string> args) {
    args.push_back("--json");
    std::string out = ok(args);
    boost::system::error_code ec;
    json::value v = json::parse(out, ec);
    EXPECT_FALSE(ec) << "not JSON: " << out;
    return v;
  }

  // The version that answers a request through the gateway.
  std::string served_by() {
    HttpClient client("127.0.0.1", gateway_port_);
    Reply r = client.get("/");
    EXPECT_EQ(r.status, 200u) << r.error << r.body;
    return r.header("X-Demo-Name");
  }

  TempDir dir_;
  std::vector<std::optional<std::string>> saved_env_;
  std::vector<Process> apps_;
  Process server_;
  int v1_port_ = -1;
  int v2_port_ = -1;
  int gateway_port_ = -1;
};

// A failed verb: exit `code` and exactly one line on stderr, "rampart: ...".
void expect_one_error_line(const RunResult& r, int code) {
  EXPECT_EQ(r.exit_code, code) << r.out << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.rfind("rampart: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.back(), '\n');
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(CliTest, SplitThenStatusShowsIt) {
  EXPECT_EQ(ok({"split", "shop", "v1=70", "v2@30", "--message", "canary"}),
            "shop: deployment 2 (split) v1 70%, v2 30%\n");

  std::string list = ok({"status"});
  EXPECT_EQ(list.rfind("NAME  ROUTES  DEPLOYMENT  SPLIT           AGE\n", 0), 0u) << list;
  EXPECT_TRUE(contains(list, "shop  /       2 (split)   v1 70%, v2 30%  ")) << list;

  std::string one = ok({"status", "shop"});
  EXPECT_TRUE(contains(one, "service:      shop\n")) << one;
  EXPECT_TRUE(contains(one, "deployment:   2 (split) by bootstrap, ")) << one;
  EXPECT_TRUE(contains(one, "message:      canary\n")) << one;
  EXPECT_TRUE(contains(one, "VERSION  WEIGHT  UPSTREAMS")) << one;
  EXPECT_TRUE(contains(one, "v1       70%     http://127.0.0.1:" + std::to_string(v1_port_)))
      << one;
  EXPECT_TRUE(contains(one, "v2       30%     http://127.0.0.1:" + std::to_string(v2_port_)))
      << one;
  EXPECT_TRUE(contains(one, "analytics: 2 deployments")) << one;

  json::value status = ok_json({"status", "shop"});
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status.at("latest").at("id").as_int64(), 2);
  EXPECT_TRUE(ok_json({"status"}).at("services").is_array());  // the API's object
}

TEST_F(CliTest, SplitJsonIsTheDeploymentObject) {
  json::value d = ok_json({"split", "shop", "v1=87.5", "v2=12.5"});
  ASSERT_TRUE(d.is_object());
  ASSERT_TRUE(d.at("id").is_int64());
  EXPECT_EQ(d.at("id").as_int64(), 2);
  EXPECT_EQ(d.at("cause").as_string(), "split");
  EXPECT_EQ(d.at("split").at("v1").to_number<double>(), 87.5);
  EXPECT_EQ(d.at("split").at("v2").to_number<double>(), 12.5);
  EXPECT_TRUE(d.at("created_at").is_string());
  EXPECT_EQ(d.at("author").as_string(), "bootstrap");
}

TEST_F(CliTest, DeploymentsListNewestFirst) {
  ok({"split", "shop", "v1=50", "v2=50"});
  ok({"split", "shop", "v1=10", "v2=90"});
  json::value list = ok_json({"deployments", "list", "shop"}).at("deployments");
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.as_array().size(), 3u);
  EXPECT_EQ(list.as_array()[0].at("id").as_int64(), 3);
  EXPECT_EQ(list.as_array()[1].at("id").as_int64(), 2);
  EXPECT_EQ(list.as_array()[2].at("id").as_int64(), 1);
  EXPECT_EQ(list.as_array()[2].at("cause").as_string(), "apply");

  json::value limited = ok_json({"deployments", "list", "shop", "--limit", "1"}).at("deployments");
  ASSERT_EQ(limited.as_array().size(), 1u);
  EXPECT_EQ(limited.as_array()[0].at("id").as_int64(), 3);

  std::string table = ok({"deployments", "list", "shop"});
  EXPECT_EQ(table.rfind("ID  CREATED", 0), 0u) << table;
  auto second_line = table.substr(table.find('\n') + 1);
  EXPECT_EQ(second_line.rfind("3   ", 0), 0u) << table;
  EXPECT_TRUE(contains(table, "v1 10%, v2 90%")) << table;
}

TEST_F(CliTest, RollbackToPreviousAndToAnId) {
  ok({"split", "shop", "v1=50", "v2=50"});  // 2
  ok({"split", "shop", "v1=0", "v2=100"});  // 3
  EXPECT_EQ(ok({"rollback", "shop"}),
            "shop: deployment 4 (rollback) v1 50%, v2 50%; rolled back from 3 to 2\n");
  json::value d = ok_json({"rollback", "shop", "1", "--message", "back to the seed"});
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(d.at("id").as_int64(), 5);
  EXPECT_EQ(d.at("cause").as_string(), "rollback");
  EXPECT_EQ(d.at("rolled_back_to").as_int64(), 1);
  EXPECT_EQ(d.at("message").as_string(), "back to the seed");
  EXPECT_EQ(d.at("split").at("v1").to_number<double>(), 90);

  expect_one_error_line(rampart({"rollback", "shop", "99"}), 1);
  expect_one_error_line(rampart({"rollback", "shop", "1", "--checkpoint", "1"}), 2);
}

TEST_F(CliTest, CheckpointThenRollbackToIt) {
  EXPECT_EQ(ok({"checkpoint", "shop", "--note", "before the freeze"}),
            "shop: checkpoint 1 of deployment 1\n");
  ok({"split", "shop", "v1=0", "v2=100"});
  json::value d = ok_json({"rollback", "shop", "--checkpoint", "1"});
  EXPECT_EQ(d.at("cause").as_string(), "rollback");
  EXPECT_EQ(d.at("rolled_back_to").as_int64(), 1);
  EXPECT_EQ(d.at("split").at("v2").to_number<double>(), 10);

  expect_one_error_line(rampart({"rollback", "shop", "--checkpoint", "7"}), 1);
  expect_one_error_line(rampart({"checkpoint", "shop"}), 2);  // --note is required
}

TEST_F(CliTest, AuditListsActions) {
  ok({"split", "shop", "v1=50", "v2=50"});
  ok({"checkpoint", "shop", "--note", "n"});
  ok({"rollback", "shop"});
  ok({"token", "create", "ci", "--role", "deployer"});

  std::string table = ok({"audit"});
  EXPECT_EQ(table.rfind("SEQ  AT", 0), 0u) << table;
  for (const char* action : {"apply", "split", "checkpoint", "rollback", "token.create"}) {
    EXPECT_TRUE(contains(table, std::string("  ") + action + "  ")) << action << "\n" << table;
  }

  json::value events = ok_json({"audit"}).at("events");
  ASSERT_TRUE(events.is_array());
  const auto& all = events.as_array();
  ASSERT_GE(all.size(), 6u);
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].at("seq").as_int64(), all[i].at("seq").as_int64());  // oldest first
  }
  EXPECT_EQ(all.back().at("action").as_string(), "token.create");

  std::int64_t last = all.back().at("seq").as_int64();
  EXPECT_EQ(ok_json({"audit", "--after", std::to_string(last - 1)}).at("events").as_array().size(),
            1u);
  EXPECT_EQ(ok_json({"audit", "--limit", "2"}).at("events").as_array().size(), 2u);
  EXPECT_EQ(ok_json({"audit", "--since", "1h"}).at("events").as_array().size(), all.size());
  EXPECT_EQ(ok_json({"audit", "--since", "2999-01-01T00:00:00Z"}).at("events").as_array().size(),
            0u);
  EXPECT_EQ(ok_json({"audit", "--since", "0"}).at("events").as_array().size(), all.size());
  expect_one_error_line(rampart({"audit", "--since", "yesterday"}), 2);
}

TEST_F(CliTest, ReadOnlyTokenCannotSplit) {
  json::value created = ok_json({"token", "create", "viewer", "--role", "read-only"});
  ASSERT_TRUE(created.is_object());
  std::string secret(created.at("token").as_string());
  EXPECT_EQ(secret.size(), 64u);

  RunResult r = rampart({"split", "shop", "v1=100", "--token", secret});
  expect_one_error_line(r, 1);
  EXPECT_TRUE(contains(r.err, "forbidden")) << r.err;

  RunResult read = rampart({"status", "shop", "--token", secret});
  EXPECT_EQ(read.exit_code, 0) << read.err;

  std::string human = ok({"token", "create", "ci", "--role", "deployer"});
  EXPECT_EQ(human.rfind("token \"ci\" (deployer): ", 0), 0u) << human;
  std::string tokens = ok({"token", "list"});
  EXPECT_TRUE(contains(tokens, "viewer     read-only")) << tokens;
  EXPECT_FALSE(contains(tokens, secret));

  expect_one_error_line(rampart({"token", "create", "x", "--role", "root"}), 2);
  RunResult again = rampart({"token", "create", "ci", "--role", "deployer"});
  expect_one_error_line(again, 1);  // 409: the name exists
}

TEST_F(CliTest, TokenFromEnvironmentAndItsErrors) {
  ::setenv("RAMPART_TOKEN", "0000", 1);
  RunResult bad = rampart({"status"});
  expect_one_error_line(bad, 1);
  EXPECT_TRUE(contains(bad.err, "$RAMPART_TOKEN")) << bad.err;
  EXPECT_TRUE(contains(bad.err, "--token")) << bad.err;
  ::unsetenv("RAMPART_TOKEN");

  // Everything through the environment: RAMPART_DATA finds the address and the token.
  ::setenv("RAMPART_DATA", data_dir().c_str(), 1);
  RunResult env = rampart_bare({"status"});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  ::unsetenv("RAMPART_DATA");

  // The right address but no token anywhere.
  TempDir empty;
  std::string addr = admin_address();
  RunResult none = rampart_bare({"status", "--data", empty.path().string(), "--addr", addr});
  expect_one_error_line(none, 1);
  EXPECT_TRUE(contains(none.err, "needs a token")) << none.err;
}

TEST_F(CliTest, BadSplitArgumentsExitTwo) {
  RunResult r = rampart({"split", "shop", "v1=abc"});
  expect_one_error_line(r, 2);
  EXPECT_EQ(r.err.rfind("rampart: split: \"v1=abc\" is not VERSION=PERCENT", 0), 0u) << r.err;
  expect_one_error_line(rampart({"split", "shop", "v1=12.345", "v2=87.655"}), 2);
  expect_one_error_line(rampart({"split", "shop", "v1"}), 2);
  expect_one_error_line(rampart({"split", "shop", "v1=50", "v1=50"}), 2);
  expect_one_error_line(rampart({"split", "shop"}), 2);
  expect_one_error_line(rampart({"split", "shop", "v1=100", "--bogus"}), 2);
  // Nothing was written.
  EXPECT_EQ(ok_json({"deployments", "list", "shop"}).at("deployments").as_array().size(), 1u);
}

TEST_F(CliTest, SplitThatDoesNotSumTo100ExitsOne) {
  RunResult r = rampart({"split", "shop", "v1=80", "v2=10"});
  expect_one_error_line(r, 1);
  EXPECT_TRUE(contains(r.err, "90")) << r.err;
  EXPECT_TRUE(contains(r.err, "split")) << r.err;
}

TEST_F(CliTest, UnknownServiceIsNotFound) {
  const std::vector<std::vector<std::string>> verbs = {
      {"split", "nope", "v1=100"}, {"status", "nope"}, {"deployments", "list", "nope"}};
  for (const auto& args : verbs) {
    RunResult r = rampart(args);
    expect_one_error_line(r, 1);
    EXPECT_TRUE(contains(r.err, "\"nope\"")) << r.err;
    EXPECT_TRUE(contains(r.err, "not found") || contains(r.err, "does not exist") ||
                contains(r.err, "unknown"))
        << r.err;
  }
}

TEST_F(CliTest, NoServerRunning) {
  TempDir other;
  int port = closed_port();
  other.write("admin.addr", "127.0.0.1:" + std::to_string(port) + "\n");
  RunResult r = rampart_bare({"status", "--data", other.path().string()});
  expect_one_error_line(r, 1);
  EXPECT_EQ(
      r.err.rfind("rampart: cannot reach the admin API at 127.0.0.1:" + std::to_string(port) + ": ",
                  0),
      0u)
      << r.err;
  EXPECT_TRUE(contains(r.err, "is rampart server running?")) << r.err;

  // --addr beats the data dir's file.
  RunResult flag = rampart({"status", "--addr", "127.0.0.1:" + std::to_string(port)});
  expect_one_error_line(flag, 1);
  EXPECT_TRUE(contains(flag.err, "cannot reach")) << flag.err;
}

TEST_F(CliTest, ApplyChangedFileThenNoChange) {
  std::string file = dir_.file("next.toml");
  dir_.write("next.toml", shop_config(v1_port_, v2_port_, 50, 50));
  EXPECT_EQ(ok({"apply", "-f", file, "--message", "half"}),
            "shop: deployment 2 (apply) v1 50%, v2 50%\n");
  EXPECT_EQ(ok({"apply", "-f", file}), "no change: the store already holds " + file + "\n");
  json::value again = ok_json({"apply", "-f", file});
  EXPECT_FALSE(again.at("changed").as_bool());

  json::value latest = ok_json({"deployments", "list", "shop", "--limit", "1"}).at("deployments");
  EXPECT_EQ(latest.as_array()[0].at("message").as_string(), "half");
}

TEST_F(CliTest, InvalidConfigFileExitsOneWithItsLine) {
  std::string file = dir_.file("bad.toml");
  dir_.write("bad.toml", "[server]\nlistn = \"127.0.0.1:1\"\n");
  RunResult r = rampart({"apply", "-f", file});
  expect_one_error_line(r, 1);
  EXPECT_EQ(r.err.rfind("rampart: " + file + ":2: ", 0), 0u) << r.err;
}

TEST_F(CliTest, SplitIsServedOnceAcknowledged) {
  ok({"split", "shop", "v1=0", "v2=100"});
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(served_by(), "v2") << "request " << i;
  }
  ok({"split", "shop", "v1=100", "v2=0"});
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(served_by(), "v1") << "request " << i;
  }
  ok({"rollback", "shop"});
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(served_by(), "v2") << "request " << i;
  }
}

TEST_F(CliTest, ReloadNeedsTheToken) {
  RunResult r = rampart({"reload"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("reloaded", 0), 0u) << r.out;
  std::string addr = admin_address();
  TempDir empty;
  RunResult none = rampart_bare({"reload", "--admin", addr, "--data", empty.path().string()});
  expect_one_error_line(none, 1);
}

TEST_F(CliTest, EveryVerbHasHelp) {
  const std::vector<std::vector<std::string>> verbs = {
      {"apply"},         {"status"},          {"split"},  {"deployments", "list"},
      {"rollback"},      {"checkpoint"},      {"audit"},  {"token", "create"},
      {"token", "list"}, {"token", "revoke"}, {"reload"}, {"server"}};
  for (auto verb : verbs) {
    verb.push_back("--help");
    RunResult r = rampart_bare(verb);
    EXPECT_EQ(r.exit_code, 0) << verb.front() << r.err;
    EXPECT_TRUE(contains(r.out, "Usage: rampart ")) << r.out;
    if (verb.front() != "server") {
      EXPECT_TRUE(contains(r.out, "--json")) << verb.front();
    }
  }
}

TEST_F(CliTest, AddressesAsPeopleWriteThem) {
  const std::string addr = admin_address();
  for (const std::string& written :
       {"http://" + addr, "http://" + addr + "/", addr + "/", "  " + addr + " "}) {
    ::setenv("RAMPART_ADDR", written.c_str(), 1);
    RunResult r = rampart({"status"});
    EXPECT_EQ(r.exit_code, 0) << written << ": " << r.err;
  }
  struct Refused {
    std::string written;
    std::string says;
  };
  for (const auto& c : std::vector<Refused>{
           {"https://" + addr, "https is not supported"},
           {"http://" + addr + "/api", "a path (\"/api\")"},
           {"127.0.0.1:99999", "the port \"99999\" is not a number from 1 to 65535"},
       }) {
    ::setenv("RAMPART_ADDR", c.written.c_str(), 1);
    RunResult r = rampart({"status"});
    expect_one_error_line(r, 1);
    EXPECT_EQ(r.err.rfind(
                  "rampart: $RAMPART_ADDR: \"" + c.written + "\" is not an admin API address: ", 0),
              0u)
        << r.err;
    EXPECT_TRUE(contains(r.err, c.says)) << r.err;
  }
  ::unsetenv("RAMPART_ADDR");
  RunResult flag = rampart({"status", "--addr", "https://" + addr});
  expect_one_error_line(flag, 1);
  EXPECT_EQ(flag.err.rfind("rampart: --addr: ", 0), 0u) << flag.err;
}

TEST_F(CliTest, AnotherServerAtTheAddressIsNotRampart) {
  // The demo app answers every path with JSON of its own.
  const std::string app = "127.0.0.1:" + std::to_string(v1_port_);
  for (const std::vector<std::string>& verb : {std::vector<std::string>{"status"},
                                               {"status", "shop"},
                                               {"split", "shop", "v1=100"},
                                               {"deployments", "list", "shop"},
                                               {"audit"},
                                               {"token", "list"},
                                               {"reload"}}) {
    std::vector<std::string> args = verb;
    args.insert(args.end(), {"--addr", app});
    RunResult r = rampart(args);
    expect_one_error_line(r, 1);
    EXPECT_EQ(r.err.rfind("rampart: " + app + " does not answer as a rampart admin API", 0), 0u)
        << verb.front() << ": " << r.err;
    EXPECT_EQ(r.out, "") << verb.front();
  }
}

TEST_F(CliTest, RangesAndNamesAreCheckedInTheUsersWords) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  for (const auto& c : std::vector<Case>{
           {{"deployments", "list", "shop", "--limit", "0"},
            "rampart: deployments list: --limit: 0 is out of range; give a whole number from 1 "
            "to 10000 (see rampart deployments list --help)\n"},
           {{"rollback", "shop", "0"},
            "rampart: rollback: ID: 0 is out of range; give a whole number from 1 to 9999999999 "
            "(see rampart rollback --help)\n"},
           {{"split", "shop", "v1=100", "--expect-revision", "99999999999999999999"},
            "rampart: split: --expect-revision: 99999999999999999999 is out of range; give a "
            "whole number from 0 up (see rampart split --help)\n"},
           {{"audit", "--limit", "ten"},
            "rampart: audit: --limit: \"ten\" is not a whole number; give a whole number from 1 "
            "to 10000 (see rampart audit --help)\n"},
           {{"split", "", "v1=100"}, "rampart: split: the service name is empty; name a service\n"},
           {{"status", ""}, "rampart: status: the service name is empty; name a service\n"},
           {{"checkpoint", "shop", "--note", ""},
            "rampart: checkpoint: --note is empty; say what this point is, e.g. --note \"before "
            "the freeze\"\n"},
       }) {
    RunResult r = rampart(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.front() << ": " << r.err;
    EXPECT_EQ(r.err, c.err);
  }
  // A name the API refuses is echoed as typed, not percent-encoded.
  RunResult odd = rampart({"status", "ünï"});
  expect_one_error_line(odd, 1);
  EXPECT_TRUE(contains(odd.err, "\"ünï\"")) << odd.err;
  EXPECT_FALSE(contains(odd.err, "%C3")) << odd.err;
  // Nothing was written.
  EXPECT_EQ(ok_json({"deployments", "list", "shop"}).at("deployments").as_array().size(), 1u);
}

TEST_F(CliTest, PathsTheUserGaveMustExist) {
  RunResult data = rampart_bare({"status", "--data", "/nonexistent/rampart"});
  expect_one_error_line(data, 1);
  EXPECT_EQ(data.err.rfind("rampart: --data \"/nonexistent/rampart\" is not a directory", 0), 0u)
      << data.err;
  RunResult config = rampart({"reload", "-c", dir_.file("missing.toml")});
  expect_one_error_line(config, 1);
  EXPECT_TRUE(contains(config.err, "missing.toml")) << config.err;
}

TEST_F(CliTest, ServerOptionsAreCheckedAsTheConfigFileIs) {
  TempDir other;
  for (const auto& [flag, value, err] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--workers", "0",
            "rampart: server: --workers: 0 is out of range; give a whole number from 1 to 256 "
            "(see rampart server --help)\n"},
           {"--workers", "100000",
            "rampart: server: --workers: 100000 is out of range; give a whole number from 1 to "
            "256 (see rampart server --help)\n"},
           {"--listen", "nonsense",
            "rampart: server: --listen: \"nonsense\" is not a valid address: the port is missing; "
            "write host:port, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\" (see rampart server "
            "--help)\n"},
       }) {
    RunResult r = rampart_bare({"server", "--data", other.path().string(), flag, value});
    EXPECT_EQ(r.exit_code, 2) << flag << " " << value << ": " << r.err;
    EXPECT_EQ(r.err, err);
  }
}

TEST_F(CliTest, ASplitThatChangesNothingSaysSo) {
  EXPECT_EQ(ok({"split", "shop", "v1=90", "v2=10"}),
            "shop: no change: deployment 1 serves v1 90%, v2 10% already (--force makes a new "
            "deployment)\n");
  json::value unchanged = ok_json({"split", "shop", "v1=90", "v2=10"});
  EXPECT_FALSE(unchanged.at("changed").as_bool());
  EXPECT_EQ(unchanged.at("id").as_int64(), 1);
  EXPECT_EQ(ok({"split", "shop", "v1=90", "v2=10", "--force"}),
            "shop: deployment 2 (split) v1 90%, v2 10%\n");
  EXPECT_EQ(ok_json({"deployments", "list", "shop"}).at("deployments").as_array().size(), 2u);
}

TEST_F(CliTest, JsonBeforeTheVerbAndOnFailure) {
  RunResult r = run_to_completion({RAMPART_BIN, "--json", "status", "--data", data_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out).at("services").is_array()) << r.out;

  TempDir empty;
  RunResult failed = rampart_bare(
      {"reload", "--json", "--addr", admin_address(), "--data", empty.path().string()});
  expect_one_error_line(failed, 1);
  json::value v = json::parse(failed.out);
  EXPECT_EQ(v.at("error").as_string(), "failed") << failed.out;
}

TEST_F(CliTest, ARevokedTokenIsRefusedAtOnce) {
  json::value created =
      ok_json({"token", "create", "ci", "--role", "deployer", "--expires", "30d"});
  const std::string secret(created.at("token").as_string());
  EXPECT_TRUE(created.at("expires_at").is_string()) << json::serialize(created);
  EXPECT_EQ(rampart({"status", "--token", secret}).exit_code, 0);

  EXPECT_TRUE(contains(ok({"token", "revoke", "ci"}), "token \"ci\" revoked at "));
  RunResult refused = rampart({"status", "--token", secret});
  expect_one_error_line(refused, 1);
  EXPECT_TRUE(contains(refused.err, "token \"ci\" was revoked")) << refused.err;

  std::string list = ok({"token", "list"});
  EXPECT_TRUE(contains(list, "revoked ")) << list;
  std::string audit = ok({"audit"});
  EXPECT_TRUE(contains(audit, "token.revoke")) << audit;
  expect_one_error_line(rampart({"token", "revoke", "nobody"}), 1);
  expect_one_error_line(
      rampart({"token", "create", "x", "--role", "read-only", "--expires", "soon"}), 2);
}

TEST_F(CliTest, ApplyPrintsEveryProblemTheServerFinds) {
  // Valid for the local check of the file, refused by the server: here both checks are the
  // same parser, so a file with two problems shows both, one line each.
  std::string file = dir_.file("two.toml");
  dir_.write("two.toml", "[server]\nlistn = \"127.0.0.1:1\"\nworkrs = 2\n");
  RunResult r = rampart({"apply", "-f", file});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_TRUE(contains(r.err, "rampart: " + file + ":2: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "rampart: " + file + ":3: ")) << r.err;
}

}  // namespace
}  // namespace rampart::testing
