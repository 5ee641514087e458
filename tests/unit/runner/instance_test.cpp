#include "runner/instance.hpp"

#include "runner_test_support.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>

namespace rampart::runner {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Instance> start_ok(const testing::TempDir& dir, Command command) {
  auto instance = Instance::start(options_of(std::move(command), dir.file("instance.log")));
  EXPECT_TRUE(instance) << (instance ? "" : instance.error().message);
  return instance ? std::move(*instance) : nullptr;
}

// The state of `pid` from /proc: "" when it is gone, "Z" for a zombie (of someone else).
std::string process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_text, name, state;
  return stat >> pid_text >> name >> state ? state : "";
}

pid_t child_pid_in(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    if (const auto at = line.find("child "); at != std::string::npos) {
      return std::atoi(line.c_str() + at + 6);
    }
  }
  return -1;
}

TEST(Instance, PortInArgumentsAndEnvironmentAndOnlyTheGivenVariables) {
  testing::TempDir dir;
  ::setenv("RAMPART_RUNNER_TEST_PARENT", "leaked", 1);
  Command command = shell(
      "echo \"arg=$1 env=$PORT foo=$FOO parent=${RAMPART_RUNNER_TEST_PARENT:-none}\"; "
      "exec sleep 30");
  command.argv.insert(command.argv.end(), {"sh", "--port={port}"});
  command.env = {{"FOO", "bar"}};
  auto instance = start_ok(dir, command);
  ASSERT_TRUE(instance);
  const std::string port = std::to_string(instance->port());
  EXPECT_GT(instance->port(), 0);
  EXPECT_TRUE(wait_for_line([&] { return instance->log_tail(5); },
                            "arg=--port=" + port + " env=" + port + " foo=bar parent=none"));
  const auto status = instance->stop(2s);
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.code, SIGTERM);
  ::unsetenv("RAMPART_RUNNER_TEST_PARENT");
}

TEST(Instance, StopsWithinTheGraceWhenItHonoursSigterm) {
  testing::TempDir dir;
  auto instance = start_ok(dir, shell("exec sleep 30"));
  ASSERT_TRUE(instance);
  const auto before = std::chrono::steady_clock::now();
  const auto status = instance->stop(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  EXPECT_EQ(status.text(), "killed by signal 15 (Terminated)");
  EXPECT_EQ(instance->poll()->code, SIGTERM);  // the same status, once reaped
}

TEST(Instance, SigtermIgnoredIsKilledAfterTheGraceWithItsWholeGroup) {
  testing::TempDir dir;
  auto instance = start_ok(
      dir, shell("trap '' TERM; sleep 30 & echo \"child $!\"; while :; do sleep 0.05; done"));
  ASSERT_TRUE(instance);
  ASSERT_TRUE(wait_for_line([&] { return instance->log_tail(5); }, "child "));
  const pid_t child = child_pid_in(instance->log_tail(5));
  ASSERT_GT(child, 0);
  const auto before = std::chrono::steady_clock::now();
  const auto status = instance->stop(300ms);
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.code, SIGKILL);
  // The background sleep, also ignoring SIGTERM, went with the group (and was reaped by init
  // or is a zombie of nobody we own).
  const std::string state = process_state(child);
  EXPECT_TRUE(state.empty() || state == "Z") << "the instance's own child outlived the stop";
}

TEST(Instance, ExitingTakesWhatItStartedWithIt) {
  testing::TempDir dir;
  auto instance = start_ok(dir, shell("sleep 30 & echo \"child $!\"; exit 0"));
  ASSERT_TRUE(instance);
  std::optional<ExitStatus> status;
  for (int i = 0; i < 200 && !status; ++i) {
    status = instance->poll();
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(status);
  const pid_t child = child_pid_in(instance->log_tail(5));
  ASSERT_GT(child, 0);
  std::string state = process_state(child);
  for (int i = 0; i < 100 && !state.empty() && state != "Z"; ++i) {
    std::this_thread::sleep_for(10ms);
    state = process_state(child);
  }
  EXPECT_TRUE(state.empty() || state == "Z") << "the instance's background child still runs";
}

TEST(Instance, ExitStatusIsReportedAndNothingIsLeftUnreaped) {
  testing::TempDir dir;
  auto exits = start_ok(dir, shell("exit 3"));
  ASSERT_TRUE(exits);
  std::optional<ExitStatus> status;
  for (int i = 0; i < 200 && !status; ++i) {
    status = exits->poll();
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(status);
  EXPECT_EQ(status->text(), "exit code 3");
  EXPECT_NE(exits->log_tail(1).back().find("[rampart] instance exited: exit code 3"),
            std::string::npos);
  { auto dropped = start_ok(dir, shell("exec sleep 30")); }  // the destructor kills and reaps
  expect_no_children();
}

TEST(Instance, CommandThatDoesNotExistIsAClearError) {
  testing::TempDir dir;
  auto missing =
      Instance::start(options_of(command_of({"no-such-command-rampart"}), dir.file("a.log")));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("'no-such-command-rampart' not found in PATH"),
            std::string::npos)
      << missing.error().message;

  Command relative = command_of({"./server", "--port", "{port}"});
  relative.workdir = dir.path();
  auto not_there = Instance::start(options_of(relative, dir.file("b.log")));
  ASSERT_FALSE(not_there);
  EXPECT_NE(not_there.error().message.find("/server does not exist or is not executable"),
            std::string::npos)
      << not_there.error().message;

  Command bad_env = shell("true");
  bad_env.env = {{"A=B", "x"}};
  EXPECT_FALSE(Instance::start(options_of(bad_env, dir.file("c.log"))));
  expect_no_children();
}

TEST(Instance, MissingWorkdirIsReportedFromTheChild) {
  testing::TempDir dir;
  Command command = shell("true");
  command.workdir = dir.path() / "gone";
  auto instance = Instance::start(options_of(command, dir.file("a.log")));
  ASSERT_FALSE(instance);
  EXPECT_NE(instance.error().message.find("cannot start workdir"), std::string::npos)
      << instance.error().message;
  EXPECT_NE(instance.error().message.find("No such file or directory"), std::string::npos);
  expect_no_children();
}

// A helper process starts an instance and is SIGKILLed: the instance must die with it.
TEST(Instance, ParentDeathKillsTheInstance) {
  testing::TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    ::close(fds[0]);
    auto instance = Instance::start(options_of(shell("exec sleep 30"), dir.file("a.log")));
    const pid_t pid = instance ? (*instance)->pid() : -1;
    [[maybe_unused]] auto n = ::write(fds[1], &pid, sizeof pid);
    ::pause();
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t pid = -1;
  ASSERT_EQ(::read(fds[0], &pid, sizeof pid), static_cast<ssize_t>(sizeof pid));
  ::close(fds[0]);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, 0), 0) << "the instance runs while its parent lives";
  ::kill(helper, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(helper, &status, 0), helper);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    const std::string state = process_state(pid);
    gone = state.empty() || state == "Z";
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "instance " << pid << " outlived its parent";
  expect_no_children();
}

}  // namespace
}  // namespace rampart::runner
