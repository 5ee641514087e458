// The pre command runner: real /bin/sh children, their exit codes, their output's tail, the
// time limit that kills the whole process group, and seed 002's table.

#include "cli/pre_checks.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace rampart::cli {
namespace {

using std::chrono::milliseconds;

TEST(PreCommand, PassesOnExitZeroInTheWorkingDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / ("pre_cwd_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "marker") << "here";
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  auto o = run_pre_command({"marker", "test -f marker && echo found"}, milliseconds(5000));
  std::filesystem::current_path(previous);
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(o.passed) << o.output;
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.output, "found\n");
  EXPECT_EQ(o.name, "marker");
}

TEST(PreCommand, FailsWithItsExitCodeAndBothOutputs) {
  auto o = run_pre_command({"tests", "echo one; echo two >&2; exit 3"}, milliseconds(5000));
  EXPECT_FALSE(o.passed);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.output, "one\ntwo\n");
}

TEST(PreCommand, KeepsOnlyTheLastBytesOfALongOutput) {
  auto o = run_pre_command({"noisy", "yes line | head -n 100000; echo last"}, milliseconds(10000));
  EXPECT_TRUE(o.passed);
  EXPECT_EQ(o.output.size(), kMaxPreOutput);
  EXPECT_TRUE(o.output.ends_with("line\nlast\n"));
}

TEST(PreCommand, TheTimeLimitKillsTheWholeProcessGroup) {
  const std::string pid_file =
      (std::filesystem::temp_directory_path() / ("pre_pid_" + std::to_string(getpid()))).string();
  const auto started = std::chrono::steady_clock::now();
  auto o = run_pre_command({"slow", "sleep 30 & echo $! > " + pid_file + "; echo waiting; wait"},
                           milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(o.passed);
  EXPECT_TRUE(o.timed_out);
  EXPECT_EQ(o.output, "waiting\n");
  EXPECT_LT(took, std::chrono::seconds(5));
  pid_t background = 0;
  std::ifstream(pid_file) >> background;
  std::filesystem::remove(pid_file);
  ASSERT_GT(background, 0);
  // The shell's background child was in the group: gone too (reaped by init soon after).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = kill(background, 0) != 0;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(gone) << "pid " << background << " outlived the time limit";
}

TEST(PreCommand, CtrlCKillsTheRunningCommandAndRunsNoMore) {
  std::thread ctrl_c([] {
    std::this_thread::sleep_for(milliseconds(300));
    kill(getpid(), SIGINT);  // caught while the commands run: the test process lives on
  });
  const auto started = std::chrono::steady_clock::now();
  auto outcomes = run_pre_commands({{"slow", "sleep 20"}, {"never", "true"}}, milliseconds(60000));
  ctrl_c.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].interrupted);
  EXPECT_FALSE(outcomes[0].passed);
  EXPECT_TRUE(any_interrupted(outcomes));
  EXPECT_NE(pre_table(outcomes, milliseconds(60000)).find("✗ slow  interrupted"),
            std::string::npos);
}

TEST(PreCommand, OutputTailIsTheLastLines) {
  EXPECT_EQ(output_tail("a\nb\nc\nd\n\n", 2), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(output_tail("only", 5), (std::vector<std::string>{"only"}));
  EXPECT_EQ(output_tail("x\r\ny\r\n", 5), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(output_tail("", 5).empty());
}

TEST(PreCommand, RunsEveryCommandEvenAfterAFailure) {
  std::vector<std::string> started;
  auto outcomes = run_pre_commands({{"a", "exit 1"}, {"b", "true"}}, milliseconds(5000),
                                   [&](const PreCommand& c) { started.push_back(c.name); });
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_FALSE(outcomes[0].passed);
  EXPECT_TRUE(outcomes[1].passed);
  EXPECT_EQ(started, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(all_passed(outcomes));
}

TEST(PreTable, PassedAndFailedInSeed002sManner) {
  std::vector<PreOutcome> outcomes{
      {.name = "tests", .passed = true, .ms = 1200},
      {.name = "branch", .exit_code = 1, .ms = 12, .output = "1\n2\n3\n4\n5\nnot on main\n"},
      {.name = "lint", .timed_out = true, .exit_code = 143, .ms = 600000}};
  EXPECT_EQ(pre_table(outcomes, milliseconds(600000)),
            "=== Pre-deploy checks (each limited to 10m) ===\n"
            "\n"
            "✓ tests   passed                     1.2s\n"
            "✗ branch  failed (exit 1)            12ms\n"
            "    | 2\n"
            "    | 3\n"
            "    | 4\n"
            "    | 5\n"
            "    | not on main\n"
            "✗ lint    failed (killed after 10m)  10m\n"
            "\n"
            "DEPLOYMENT BLOCKED: fix the failed checks above (or deploy with --skip-checks, "
            "audited).\n");
  EXPECT_EQ(pre_table({outcomes[0]}, milliseconds(30000)),
            "=== Pre-deploy checks (each limited to 30s) ===\n\n✓ tests  passed  1.2s\n\n"
            "All checks passed.\n");
}

TEST(PreTable, TheRequestCarriesNameResultAndTimeBounded) {
  std::vector<PreOutcome> many(40, PreOutcome{.name = std::string(300, 'n'), .ms = 5});
  many[0].passed = true;
  auto a = pre_json(many);
  ASSERT_EQ(a.size(), 32u);
  EXPECT_EQ(boost::json::serialize(a[0]),
            R"({"name":")" + std::string(200, 'n') + R"(","passed":true,"ms":5})");
}

}  // namespace
}  // namespace rampart::cli
