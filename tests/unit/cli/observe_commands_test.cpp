#include "cli/observe_commands.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <deque>
#include <sstream>

namespace rampart::cli {
namespace {

namespace json = boost::json;

// The admin API as a queue of answers; the requests it was sent are kept.
class ObserveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_.transport = [this](const ApiRequest& req) -> Result<HttpResult> {
      sent_.push_back(req);
      if (answers_.empty()) {
        return HttpResult{200, R"({"events": [], "cursor": "1.0", "dropped": 0, "ended": true})"};
      }
      auto a = answers_.front();
      answers_.pop_front();
      return a;
    };
  }
  WatchHooks hooks() {
    WatchHooks h;
    h.sleep = [this](std::chrono::milliseconds) { ++sleeps_; };
    h.interrupted = [this] { return sent_.size() >= stop_after_; };
    return h;
  }

  std::ostringstream out_, err_;
  Context ctx_{ClientSettings{}, false, out_, err_};
  std::deque<HttpResult> answers_;
  std::vector<ApiRequest> sent_;
  std::size_t stop_after_ = 1000;
  int sleeps_ = 0;
};

const char* kEvent =
    R"({"time": "2026-11-23T15:20:01.123Z", "version": "v2", "method": "GET", "path": "/cart",
        "status": 502, "latency_us": 1840, "upstream": null, "failure": "upstream_unavailable"})";

TEST(TailLine, AlignedFieldsAndDashesForNone) {
  const std::string line = tail_line(json::parse(kEvent));
  EXPECT_EQ(line.rfind("2026-11-23T15:20:01.123Z  v2 ", 0), 0u) << line;
  EXPECT_NE(line.find(" /cart "), std::string::npos) << line;
  EXPECT_NE(line.find(" 502 "), std::string::npos) << line;
  EXPECT_NE(line.find("1.84ms"), std::string::npos) << line;
  EXPECT_NE(line.find(" -  "), std::string::npos) << line;  // no upstream
  EXPECT_EQ(line.substr(line.size() - 20), "upstream_unavailable");
}

TEST(LogLine, TimeInstanceText) {
  EXPECT_EQ(log_line(json::parse(R"({"time": "T", "instance": "v2/0", "text": "hello"})")),
            "T v2/0 hello");
}

TEST_F(ObserveTest, TailFollowsTheCursorSaysDroppedAndEndsItsSubscription) {
  answers_.push_back({200, std::string(R"({"events": [)") + kEvent +
                               R"(], "cursor": "4.10", "dropped": 0, "waited": true})"});
  answers_.push_back({200, R"({"events": [], "cursor": "4.20", "dropped": 7, "waited": false})"});
  answers_.push_back({200, std::string(R"({"events": [)") + kEvent +
                               R"(], "cursor": "4.21", "dropped": 0, "waited": true})"});
  TailArgs args;
  args.service = "shop";
  args.status = "5xx";
  args.limit = 2;
  EXPECT_EQ(run_tail(ctx_, args, hooks()), kExitOk) << err_.str();
  ASSERT_EQ(sent_.size(), 4u);  // three polls, then the DELETE
  EXPECT_EQ(sent_[0].target.find("cursor="), std::string::npos);
  EXPECT_NE(sent_[0].target.find("status=5xx"), std::string::npos);
  EXPECT_NE(sent_[1].target.find("cursor=4.10"), std::string::npos) << sent_[1].target;
  EXPECT_NE(sent_[2].target.find("cursor=4.20"), std::string::npos);
  EXPECT_EQ(sent_[3].method, "DELETE");
  EXPECT_NE(sent_[3].target.find("cursor=4.21"), std::string::npos);
  EXPECT_EQ(sleeps_, 1);  // after the answer that did not wait
  const std::string out = out_.str();
  EXPECT_NE(out.find("dropped 7 events"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
}

TEST_F(ObserveTest, TailJsonPrintsOneObjectPerLine) {
  answers_.push_back({200, std::string(R"({"events": [)") + kEvent + "," + kEvent +
                               R"(], "cursor": "4.10", "dropped": 0, "waited": true})"});
  TailArgs args;
  args.service = "shop";
  args.json = true;
  args.limit = 2;
  EXPECT_EQ(run_tail(ctx_, args, hooks()), kExitOk);
  std::istringstream lines(out_.str());
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(json::parse(line).at("status").as_int64(), 502);
  }
  EXPECT_EQ(n, 2);
}

TEST_F(ObserveTest, TailRefusesABadStatusBeforeAskingTheServer) {
  TailArgs args;
  args.service = "shop";
  args.status = "5x";
  EXPECT_EQ(run_tail(ctx_, args, hooks()), kExitUsage);
  EXPECT_TRUE(sent_.empty());
  EXPECT_NE(err_.str().find("\"5x\""), std::string::npos);
}

TEST_F(ObserveTest, LogsFollowPassesTheCursorUntilInterrupted) {
  answers_.push_back(
      {200, R"({"lines": [{"time": "T1", "instance": "v1/0", "text": "a"}], "cursor": "c1"})"});
  answers_.push_back(
      {200, R"({"lines": [{"time": "T2", "instance": "v1/0", "text": "b"}], "cursor": "c2"})"});
  stop_after_ = 2;
  LogsArgs args;
  args.service = "shop";
  args.follow = true;
  args.grep = "a b";
  EXPECT_EQ(run_logs(ctx_, args, hooks()), kExitOk);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_NE(sent_[0].target.find("grep=a%20b"), std::string::npos) << sent_[0].target;
  EXPECT_NE(sent_[1].target.find("cursor=c1"), std::string::npos);
  EXPECT_EQ(out_.str(), "T1 v1/0 a\nT2 v1/0 b\n");
}

}  // namespace
}  // namespace rampart::cli
