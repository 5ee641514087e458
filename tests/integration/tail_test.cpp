// `rampart tail` and `rampart logs` end to end: the real rampart binary as server and as CLI,
// real demo-apps as the versions' upstreams. Tail: under load on a split of two versions, the
// CLI (--format json, --limit) shows requests of both, --status 5xx only the failing ones, and
// a tail of a service without traffic ends cleanly. Logs: files the test writes where the
// runner writes them ({data}/logs/{service}/{version}/instance-{i}.log), read through the CLI.

#include "rollout_support.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace rampart::testing {
namespace {

namespace json = boost::json;

// A loopback port nothing listens on (bound, then closed).
int closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(0)});
  return acceptor.local_endpoint().port();
}

class TailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int v1 = cluster.start_app("v1");
    const int v2 = cluster.start_app("v2", {"--error-rate", "0.3", "--seed", "7"});
    const int idle = closed_port();  // quiet's requests get the gateway's 502
    cluster.start_gateway(
        service_config("shop", "\"/\"", "none", {{"v1", {v1}, 50}, {"v2", {v2}, 50}}) +
        service_config("quiet", "\"/quiet/\"", "none", {{"q1", {idle}, 100}}));
  }

  RunResult rampart(std::vector<std::string> args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    args.insert(args.begin(), RAMPART_BIN);
    args.push_back("--data");
    args.push_back(cluster.data_dir());
    return run_to_completion(args, timeout);
  }

  static std::vector<json::value> json_lines(const std::string& out) {
    std::vector<json::value> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      boost::system::error_code ec;
      lines.push_back(json::parse(line, ec));
      EXPECT_FALSE(ec) << "not JSON: " << line;
    }
    return lines;
  }

  Cluster cluster;
};

TEST_F(TailTest, ShowsRequestsOfBothVersionsUnderLoad) {
  Traffic traffic(cluster);
  RunResult r = rampart({"tail", "shop", "--format", "json", "--limit", "60", "--timeout", "20s"});
  ASSERT_EQ(r.exit_code, 0) << r.err << cluster.log();
  auto events = json_lines(r.out);
  ASSERT_EQ(events.size(), 60u) << r.out << r.err;
  std::set<std::string> versions;
  for (const auto& e : events) {
    versions.insert(std::string(e.at("version").as_string()));
    EXPECT_EQ(e.at("method").as_string(), "GET");
    EXPECT_EQ(e.at("path").as_string(), "/");
    EXPECT_TRUE(e.at("upstream").is_string()) << e;
    EXPECT_GT(e.at("latency_us").to_number<int64_t>(), 0);
  }
  EXPECT_EQ(versions, (std::set<std::string>{"v1", "v2"}));
}

TEST_F(TailTest, StatusFilterShowsOnlyTheFailingRequests) {
  Traffic traffic(cluster);
  RunResult r = rampart(
      {"tail", "shop", "--status", "5xx", "--format", "json", "--limit", "10", "--timeout", "20s"});
  ASSERT_EQ(r.exit_code, 0) << r.err << cluster.log();
  auto events = json_lines(r.out);
  ASSERT_EQ(events.size(), 10u) << r.out;
  for (const auto& e : events) {
    EXPECT_EQ(e.at("status").to_number<int64_t>(), 500) << e;
    EXPECT_EQ(e.at("version").as_string(), "v2") << e;  // only v2 injects errors
  }

  RunResult v1 = rampart(
      {"tail", "shop", "--version", "v1", "--format", "json", "--limit", "5", "--timeout", "20s"});
  ASSERT_EQ(v1.exit_code, 0) << v1.err;
  for (const auto& e : json_lines(v1.out)) {
    EXPECT_EQ(e.at("version").as_string(), "v1");
  }
}

TEST_F(TailTest, PrettyLinesNameTheFailureOfTheGatewaysOwnAnswers) {
  std::thread request([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    cluster.client().get("/quiet/x?secret=1");
  });
  RunResult r = rampart({"tail", "quiet", "--limit", "1", "--timeout", "20s"});
  request.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" q1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/quiet/x"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;  // the query is left out
  EXPECT_NE(r.out.find("502"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("upstream_unavailable"), std::string::npos) << r.out;
}

TEST_F(TailTest, AServiceWithoutTrafficEndsCleanly) {
  RunResult zero = rampart({"tail", "quiet", "--limit", "0"});
  EXPECT_EQ(zero.exit_code, 0) << zero.err;
  EXPECT_EQ(zero.out, "");
  const auto started = std::chrono::steady_clock::now();
  RunResult timed = rampart({"tail", "quiet", "--timeout", "1s"});
  EXPECT_EQ(timed.exit_code, 0) << timed.err;
  EXPECT_EQ(timed.out, "");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));

  RunResult unknown = rampart({"tail", "nosuch", "--limit", "0"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown.err;
  RunResult bad = rampart({"tail", "shop", "--status", "5x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

TEST_F(TailTest, LogsReadsTheInstanceFilesMergedByTime) {
  const std::filesystem::path root = std::filesystem::path(cluster.data_dir()) / "logs" / "shop";
  std::filesystem::create_directories(root / "v1");
  std::filesystem::create_directories(root / "v2");
  std::ofstream(root / "v1" / "instance-0.log.1") << "2026-11-23T15:20:00.000Z v1 booting\n";
  std::ofstream(root / "v1" / "instance-0.log") << "2026-11-23T15:20:02.000Z v1 GET / 200\n";
  std::ofstream(root / "v2" / "instance-1.log") << "2026-11-23T15:20:01.000Z v2 GET / 500\n";

  RunResult all = rampart({"logs", "shop"});
  ASSERT_EQ(all.exit_code, 0) << all.err << cluster.log();
  EXPECT_EQ(all.out,
            "2026-11-23T15:20:00.000Z v1/0 v1 booting\n"
            "2026-11-23T15:20:01.000Z v2/1 v2 GET / 500\n"
            "2026-11-23T15:20:02.000Z v1/0 v1 GET / 200\n");

  RunResult grep = rampart({"logs", "shop", "--grep", " 5\\d\\d$"});
  ASSERT_EQ(grep.exit_code, 0) << grep.err;
  EXPECT_EQ(grep.out, "2026-11-23T15:20:01.000Z v2/1 v2 GET / 500\n");

  RunResult v1 = rampart({"logs", "shop", "--version", "v1", "--since", "2026-11-23T15:20:01Z"});
  ASSERT_EQ(v1.exit_code, 0) << v1.err;
  EXPECT_EQ(v1.out, "2026-11-23T15:20:02.000Z v1/0 v1 GET / 200\n");

  RunResult bad = rampart({"logs", "shop", "--grep", "(unclosed"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("(unclosed"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

TEST_F(TailTest, LogsFollowPrintsWhatIsWrittenAfterItStarted) {
  const std::filesystem::path dir =
      std::filesystem::path(cluster.data_dir()) / "logs" / "shop" / "v1";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "instance-0.log") << "2026-11-23T15:20:00.000Z before\n";
  Process follow =
      Process::spawn({RAMPART_BIN, "logs", "shop", "--follow", "--data", cluster.data_dir()},
                     cluster.dir().file("follow.out"));
  EXPECT_EQ(follow.read_line(std::chrono::seconds(10)), "2026-11-23T15:20:00.000Z v1/0 before");
  std::ofstream(dir / "instance-0.log", std::ios::app) << "2026-11-23T15:20:05.000Z after\n";
  EXPECT_EQ(follow.read_line(std::chrono::seconds(10)), "2026-11-23T15:20:05.000Z v1/0 after");
  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait(std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace rampart::testing
