#pragma once
// Test support: real child processes (rampart, demo-app) started by the test itself.

#include "support/temp_dir.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace rampart::testing {

class Process {
 public:
  Process() = default;
  // Starts `argv` with stdout on a pipe and stderr appended to `log_path`.
  static Process spawn(const std::vector<std::string>& argv, const std::string& log_path);
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // SIGKILLs a child still running

  // The next line of the child's stdout, or "" after `timeout` / EOF.
  std::string read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void signal(int sig) const;
  // Waits for the child to exit; returns its exit code (128+signal when killed), or -1 after
  // `timeout`.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  pid_t pid() const { return pid_; }
  bool running() const;
  // Resident set size from /proc, in KiB.
  long rss_kib() const;
  std::string log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string pending_;
  std::string log_path_;
};

// What a child that ran to its end did.
struct RunResult {
  int exit_code = -1;  // 128+signal when killed; -1 when it outlived the timeout (then killed)
  std::string out;     // everything it wrote to stdout
  std::string err;     // everything it wrote to stderr
};

// Runs `argv` (stdin /dev/null, the test's environment) to completion, capturing stdout and
// stderr; kills it after `timeout`.
RunResult run_to_completion(const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The last `max_bytes` of a file, for failure messages.
std::string tail_file(const std::string& path, std::size_t max_bytes = 4000);

// Parses "host:port" out of the first match of `marker` followed by an address in `line`.
int port_after(const std::string& line, const std::string& marker);

}  // namespace rampart::testing
