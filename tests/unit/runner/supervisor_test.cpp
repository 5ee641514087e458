#include "runner/supervisor.hpp"

#include "control/http_probe.hpp"
#include "runner_test_support.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <signal.h>

namespace rampart::runner {
namespace {

using namespace std::chrono_literals;

SupervisorOptions demo_options(const testing::TempDir& dir, unsigned instances) {
  SupervisorOptions options;
  options.name = "shop/v1";
  options.command = command_of({DEMO_APP_BIN, "--port", "{port}", "--name", "v1"});
  options.instances = instances;
  options.grace = 5s;
  options.start_timeout = 5s;
  options.log_dir = dir.path() / "logs";
  return options;
}

// Waits up to `timeout` for the snapshot to satisfy `done`.
template <class Done>
VersionSnapshot wait_for(const Supervisor& supervisor, Done done,
                         std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto snap = supervisor.snapshot();
  while (!done(snap) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    snap = supervisor.snapshot();
  }
  return snap;
}

TEST(Supervisor, StartsHealthyInstancesAndStopsThemWithinTheGrace) {
  testing::TempDir dir;
  Supervisor supervisor(demo_options(dir, 2));
  const auto started = supervisor.start();
  ASSERT_TRUE(started) << started.error().message;
  const auto snap = supervisor.snapshot();
  ASSERT_EQ(snap.instances.size(), 2u);
  EXPECT_NE(snap.instances[0].port, snap.instances[1].port);
  for (const auto& instance : snap.instances) {
    EXPECT_TRUE(instance.ready);
    EXPECT_GT(instance.pid, 0);
    EXPECT_EQ(control::http_get("127.0.0.1", instance.port, "/health", {}, 1s).status, 200u);
  }
  EXPECT_EQ(snap.restarts, 0u);
  const auto again = supervisor.start();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kConflict);
  const auto before = std::chrono::steady_clock::now();
  supervisor.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  for (const auto& instance : supervisor.snapshot().instances) {
    EXPECT_EQ(instance.pid, 0);
    ASSERT_TRUE(instance.last_exit);
    EXPECT_EQ(instance.last_exit->text(), "exit code 0");  // demo-app exits 0 on SIGTERM
  }
  expect_no_children();
}

TEST(Supervisor, CrashedInstanceIsRestartedCountedAndReadyAgain) {
  testing::TempDir dir;
  Supervisor supervisor(demo_options(dir, 1));
  ASSERT_TRUE(supervisor.start());
  const auto first = supervisor.snapshot().instances[0];
  ASSERT_EQ(::kill(first.pid, SIGKILL), 0);
  const auto snap = wait_for(supervisor, [&](const VersionSnapshot& s) {
    return s.instances[0].ready && s.instances[0].pid != first.pid && s.instances[0].pid != 0;
  });
  const auto& again = snap.instances[0];
  EXPECT_TRUE(again.ready);
  EXPECT_EQ(again.restarts, 1u);
  EXPECT_EQ(snap.restarts, 1u);
  ASSERT_TRUE(again.last_exit);
  EXPECT_EQ(again.last_exit->text(), "killed by signal 9 (Killed)");
  EXPECT_EQ(again.backoff, 100ms);
  EXPECT_EQ(control::http_get("127.0.0.1", again.port, "/health", {}, 1s).status, 200u);
  EXPECT_FALSE(snap.churning);
  supervisor.stop();
  expect_no_children();
}

// Healthy once, then every restart exits at once: the backoff doubles, the churn warning is set.
TEST(Supervisor, RepeatedCrashesBackOffExponentiallyAndWarnOfChurn) {
  testing::TempDir dir;
  auto options = demo_options(dir, 1);
  options.command = shell(std::string("if [ -e \"$MARKER\" ]; then echo crashing; exit 3; fi; ") +
                          "touch \"$MARKER\"; exec " DEMO_APP_BIN " --port \"$PORT\" --name v1");
  options.command.env = {{"MARKER", dir.file("started-once")}};
  options.churn = ChurnLimit{2, 10s};
  Supervisor supervisor(options);
  const auto started = supervisor.start();
  ASSERT_TRUE(started) << started.error().message;
  ASSERT_EQ(::kill(supervisor.snapshot().instances[0].pid, SIGKILL), 0);
  // Delays 100, 200, 400, 800 ms: the fourth failed restart is due about 1.5 s after the kill.
  const auto snap = wait_for(
      supervisor, [](const VersionSnapshot& s) { return s.restarts >= 4; }, 5s);
  EXPECT_GE(snap.restarts, 4u);
  const auto& instance = snap.instances[0];
  EXPECT_FALSE(instance.ready);
  EXPECT_GE(instance.backoff, 800ms);
  ASSERT_TRUE(instance.last_exit);
  EXPECT_EQ(instance.last_exit->text(), "exit code 3");
  EXPECT_TRUE(snap.churning);
  supervisor.stop();
  expect_no_children();
}

TEST(Supervisor, BackoffGoesBackToTheStartOnceAnInstanceHasBeenReadyAWhile) {
  testing::TempDir dir;
  auto options = demo_options(dir, 1);
  options.probe_interval = 50ms;
  options.backoff.reset_after = 200ms;
  Supervisor supervisor(options);
  ASSERT_TRUE(supervisor.start());
  pid_t pid = supervisor.snapshot().instances[0].pid;
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto snap = wait_for(supervisor, [&](const VersionSnapshot& s) {
    return s.instances[0].ready && s.instances[0].pid != pid;
  });
  ASSERT_TRUE(snap.instances[0].ready);
  EXPECT_EQ(snap.instances[0].backoff, 100ms);
  std::this_thread::sleep_for(400ms);  // ready for longer than reset_after
  pid = snap.instances[0].pid;
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  snap = wait_for(supervisor, [&](const VersionSnapshot& s) { return s.restarts == 2; });
  EXPECT_EQ(snap.instances[0].backoff, 100ms) << "not reset: it would be 200 ms";
  supervisor.stop();
  expect_no_children();
}

// A stopped (SIGSTOP) instance answers nothing: it stops being ready after its failed checks,
// and is replaced when it has not recovered within the start timeout.
TEST(Supervisor, InstanceFailingItsChecksIsNotReadyThenReplaced) {
  testing::TempDir dir;
  auto options = demo_options(dir, 1);
  options.probe_interval = 50ms;
  options.probe_timeout = 100ms;
  options.unhealthy_after = 2;
  options.start_timeout = 500ms;
  options.grace = 200ms;
  Supervisor supervisor(options);
  ASSERT_TRUE(supervisor.start());
  const pid_t pid = supervisor.snapshot().instances[0].pid;
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  auto snap = wait_for(supervisor, [](const VersionSnapshot& s) { return !s.instances[0].ready; });
  EXPECT_FALSE(snap.instances[0].ready);
  EXPECT_EQ(snap.instances[0].pid, pid);  // not ready, not yet replaced
  snap = wait_for(supervisor, [&](const VersionSnapshot& s) {
    return s.instances[0].ready && s.instances[0].pid != pid;
  });
  ASSERT_TRUE(snap.instances[0].ready);
  EXPECT_EQ(snap.restarts, 1u);
  ASSERT_TRUE(snap.instances[0].last_exit);
  EXPECT_EQ(snap.instances[0].last_exit->text(), "killed by signal 9 (Killed)");
  supervisor.stop();
  expect_no_children();
}

TEST(Supervisor, OptionsThatMakeNoSenseAreRefusedBeforeAnythingStarts) {
  testing::TempDir dir;
  struct Case {
    const char* name;
    void (*change)(SupervisorOptions&);
    const char* error;
  };
  const Case cases[] = {
      {"no instances", [](SupervisorOptions& o) { o.instances = 0; },
       "shop/v1: instances: 0 is not 1 to 64"},
      {"too many", [](SupervisorOptions& o) { o.instances = 65; }, "instances: 65 is not 1 to 64"},
      {"health not a path", [](SupervisorOptions& o) { o.health_path = "health"; },
       "health: 'health' is not a path"},
      {"no log dir", [](SupervisorOptions& o) { o.log_dir.clear(); }, "log_dir: empty"},
  };
  for (const auto& c : cases) {
    auto options = demo_options(dir, 1);
    c.change(options);
    Supervisor supervisor(options);
    const auto started = supervisor.start();
    ASSERT_FALSE(started) << c.name;
    EXPECT_EQ(started.error().code, Errc::kInvalidArgument) << c.name;
    EXPECT_NE(started.error().message.find(c.error), std::string::npos)
        << c.name << ": " << started.error().message;
  }
  expect_no_children();
}

TEST(Supervisor, CommandThatDoesNotExistFailsTheStart) {
  testing::TempDir dir;
  auto options = demo_options(dir, 2);
  options.command.argv[0] = "./no-such-server";
  Supervisor supervisor(options);
  const auto started = supervisor.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, Errc::kInvalidArgument);
  EXPECT_NE(
      started.error().message.find("shop/v1 instance 0: run: ./no-such-server does not exist"),
      std::string::npos)
      << started.error().message;
  expect_no_children();
}

TEST(Supervisor, CommandThatExitsAtOnceFailsWithItsLastLogLines) {
  testing::TempDir dir;
  auto options = demo_options(dir, 1);
  options.command = shell("echo 'config: DATABASE_URL is not set'; exit 7");
  Supervisor supervisor(options);
  const auto started = supervisor.start();
  ASSERT_FALSE(started);
  const auto& message = started.error().message;
  EXPECT_EQ(started.error().code, Errc::kUnavailable);
  EXPECT_NE(message.find("exited before it was healthy (exit code 7)"), std::string::npos)
      << message;
  // Tried twice (a lost port race gets a second chance), both runs' lines in the tail.
  const auto first = message.find("config: DATABASE_URL is not set");
  ASSERT_NE(first, std::string::npos) << message;
  EXPECT_NE(message.find("config: DATABASE_URL is not set", first + 1), std::string::npos)
      << message;
  expect_no_children();
}

TEST(Supervisor, CommandThatNeverBecomesHealthyFailsAfterTheStartTimeout) {
  testing::TempDir dir;
  auto options = demo_options(dir, 1);
  options.command = shell("echo 'warming the cache'; exec sleep 30");
  options.start_timeout = 500ms;
  options.grace = 1s;
  Supervisor supervisor(options);
  const auto before = std::chrono::steady_clock::now();
  const auto started = supervisor.start();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
  ASSERT_FALSE(started);
  const auto& message = started.error().message;
  EXPECT_NE(message.find("never became healthy: not healthy within 500 ms (last check: "
                         "Connection refused)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("warming the cache"), std::string::npos) << message;
  expect_no_children();
}

}  // namespace
}  // namespace rampart::runner
