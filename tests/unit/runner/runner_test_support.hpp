#pragma once
// Shared by the runner's tests: instances of /bin/sh scripts, waiting for their log lines, and
// the check that no child is left unreaped.

#include "runner/instance.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace rampart::runner {

inline Command command_of(std::vector<std::string> argv) {
  Command command;
  command.argv = std::move(argv);
  return command;
}

inline Command shell(const std::string& script) { return command_of({"/bin/sh", "-c", script}); }

inline InstanceOptions options_of(Command command, std::string log_path) {
  InstanceOptions options;
  options.command = std::move(command);
  options.log_path = std::move(log_path);
  return options;
}

// Waits up to `timeout` for a log line containing `text`; true when one appeared.
template <class Tail>
bool wait_for_line(Tail tail, const std::string& text,
                   std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& line : tail()) {
      if (line.find(text) != std::string::npos) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// No child of this process is left: not running, not a zombie.
inline void expect_no_children() {
  int status = 0;
  const pid_t pid = ::waitpid(-1, &status, WNOHANG);
  EXPECT_EQ(pid, -1) << "an unreaped or running child: " << pid;
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace rampart::runner
