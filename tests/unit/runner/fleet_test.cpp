#include "runner/fleet.hpp"

#include "control/http_probe.hpp"
#include "runner_test_support.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace rampart::runner {
namespace {

using namespace std::chrono_literals;

// A fleet whose "routes" are what it last reported: `changed` reads every address, and
// `drained` says yes once an address is no longer in that view (no gateway here).
class FleetTest : public ::testing::Test {
 protected:
  FleetTest()
      : fleet_({.changed = [this] { note(); },
                .drained =
                    [this](const std::vector<std::string>& addresses) {
                      std::lock_guard lock(mutex_);
                      return std::none_of(addresses.begin(), addresses.end(),
                                          [&](const auto& a) { return routed_.contains(a); });
                    }}) {}

  FleetVersion version(std::string name, unsigned instances, std::vector<std::string> argv = {}) {
    if (argv.empty()) {
      argv = {DEMO_APP_BIN, "--port", "{port}", "--name", name};
    }
    FleetVersion v;
    v.service = "shop";
    v.version = name;
    v.instances = instances;
    v.grace = 2s;
    v.fingerprint = name + std::to_string(instances) + argv.front();
    v.options = [this, name, argv](unsigned) -> Result<SupervisorOptions> {
      SupervisorOptions o;
      o.name = "shop/" + name;
      o.command = command_of(argv);
      o.grace = 2s;
      o.start_timeout = 3s;
      o.log_dir = dir_.path() / name;
      return o;
    };
    return v;
  }

  void note() {
    std::set<std::string> now;
    for (const auto& name : {"v1", "v2"}) {
      for (const auto& a : fleet_.addresses("shop", name)) {
        now.insert(a);
      }
    }
    std::lock_guard lock(mutex_);
    routed_ = std::move(now);
    fewest_ = std::min(fewest_, routed_.size());
  }

  Status wait_running(const std::string& name) {
    const std::atomic<bool> never{false};
    return fleet_.wait_running("shop", name, std::chrono::steady_clock::now() + 10s, never);
  }

  testing::TempDir dir_;
  std::mutex mutex_;
  std::set<std::string> routed_;
  std::size_t fewest_ = 1000;
  Fleet fleet_;
};

TEST_F(FleetTest, StartsWhatIsWantedRoutesItAndStopsWhatIsNot) {
  fleet_.start();
  fleet_.reconcile({version("v1", 2)});
  ASSERT_TRUE(wait_running("v1"));
  auto addresses = fleet_.addresses("shop", "v1");
  ASSERT_EQ(addresses.size(), 2u);
  for (const auto& a : addresses) {
    const auto port = static_cast<unsigned short>(std::stoi(a.substr(a.rfind(':') + 1)));
    EXPECT_EQ(control::http_get("127.0.0.1", port, "/health", {}, 1s).status, 200u) << a;
  }
  auto status = fleet_.status("shop", "v1");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->phase, FleetPhase::kRunning);
  ASSERT_EQ(status->instances.size(), 2u);
  EXPECT_EQ(status->instances[0].id, 0u);
  EXPECT_EQ(status->instances[1].id, 1u);
  std::vector<pid_t> pids;
  for (const auto& i : status->instances) {
    pids.push_back(i.state.pid);
  }

  fleet_.reconcile({});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (fleet_.status("shop", "v1") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_FALSE(fleet_.status("shop", "v1"));
  EXPECT_TRUE(fleet_.addresses("shop", "v1").empty());
  for (pid_t pid : pids) {
    EXPECT_NE(::kill(pid, 0), 0) << "instance " << pid << " outlived its version";
  }
}

TEST_F(FleetTest, ARollingRestartReplacesEveryInstanceAndNeverLeavesNone) {
  fleet_.start();
  fleet_.reconcile({version("v1", 2)});
  ASSERT_TRUE(wait_running("v1"));
  note();
  {
    std::lock_guard lock(mutex_);
    fewest_ = routed_.size();
  }
  const auto before = fleet_.addresses("shop", "v1");
  ASSERT_TRUE(fleet_.restart("shop"));
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = fleet_.status("shop", "v1");
    if (s && s->phase == FleetPhase::kRunning && s->instances.size() == 2 &&
        s->instances[0].id >= 2) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  auto s = fleet_.status("shop", "v1");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->instances.size(), 2u);
  EXPECT_EQ(s->instances[0].id, 2u);  // the replacements are numbered on
  EXPECT_EQ(s->instances[1].id, 3u);
  const auto after = fleet_.addresses("shop", "v1");
  ASSERT_EQ(after.size(), 2u);
  for (const auto& a : after) {
    EXPECT_EQ(std::find(before.begin(), before.end(), a), before.end()) << a << " was not replaced";
  }
  std::lock_guard lock(mutex_);
  EXPECT_GE(fewest_, 1u) << "the version had no routed instance during the restart";
}

TEST_F(FleetTest, AStartThatFailsIsReportedWithTheLogAndTriedAgain) {
  fleet_.start();
  fleet_.reconcile({version("v2", 1, {"/bin/sh", "-c", "echo boom >&2; exit 3"})});
  auto s = wait_running("v2");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("boom"), std::string::npos) << s.error().message;
  auto status = fleet_.status("shop", "v2");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->phase, FleetPhase::kFailed);
  EXPECT_NE(status->error.find("boom"), std::string::npos);
  EXPECT_TRUE(fleet_.addresses("shop", "v2").empty());
  // The restart of a service that has a failed version is refused, not half done.
  EXPECT_EQ(fleet_.restart("shop").error().code, Errc::kConflict);
  EXPECT_EQ(fleet_.restart("other").error().code, Errc::kNotFound);
}

TEST_F(FleetTest, ARestartOfOneVersionLeavesTheOthersAlone) {
  fleet_.start();
  fleet_.reconcile({version("v1", 1), version("v2", 1, {"/bin/sh", "-c", "exit 3"})});
  ASSERT_TRUE(wait_running("v1"));
  ASSERT_FALSE(wait_running("v2"));
  // v2 failed, so the whole service cannot restart; v1 alone can.
  EXPECT_EQ(fleet_.restart("shop").error().code, Errc::kConflict);
  EXPECT_EQ(fleet_.restart("shop", "v3").error().code, Errc::kNotFound);
  ASSERT_TRUE(fleet_.restart("shop", "v1"));
  EXPECT_EQ(fleet_.status("shop", "v1")->phase, FleetPhase::kRestarting);
  EXPECT_NE(fleet_.status("shop", "v2")->phase, FleetPhase::kRestarting);  // failed, or a retry
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline &&
         !(fleet_.status("shop", "v1")->phase == FleetPhase::kRunning &&
           fleet_.status("shop", "v1")->instances.at(0).id == 1)) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(fleet_.status("shop", "v1")->instances.at(0).id, 1u);  // replaced
}

TEST_F(FleetTest, ASpecChangeReplacesTheInstances) {
  fleet_.start();
  fleet_.reconcile({version("v1", 1)});
  ASSERT_TRUE(wait_running("v1"));
  const auto before = fleet_.addresses("shop", "v1");
  fleet_.reconcile({version("v1", 2)});  // another fingerprint: 2 instances
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (fleet_.addresses("shop", "v1").size() != 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  auto after = fleet_.addresses("shop", "v1");
  ASSERT_EQ(after.size(), 2u);
  for (const auto& a : after) {
    EXPECT_EQ(std::find(before.begin(), before.end(), a), before.end());
  }
}

}  // namespace
}  // namespace rampart::runner
