#include "cli/pre_checks.hpp"

#include "common/duration.hpp"

#include <fmt/format.h>
#include <boost/json/object.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <optional>

namespace rampart::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kKillGrace{1000};

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_pre_sigint(int) { g_interrupted = 1; }
constexpr std::size_t kMaxPreResultsSent = 32;  // control::kMaxPreResults
constexpr std::size_t kMaxNameSent = 200;

// The child's side: its own process group, output into the pipe, then the shell.
[[noreturn]] void exec_child(const std::string& run, int out_fd) {
  setpgid(0, 0);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
  }
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  execl("/bin/sh", "sh", "-c", run.c_str(), static_cast<char*>(nullptr));
  constexpr std::string_view kNoShell = "rampart: cannot run /bin/sh\n";
  [[maybe_unused]] auto n = write(STDERR_FILENO, kNoShell.data(), kNoShell.size());
  _exit(127);
}

// Keeps the last kMaxPreOutput bytes.
void append_bounded(std::string& out, std::string_view more) {
  out.append(more);
  if (out.size() > kMaxPreOutput) {
    out.erase(0, out.size() - kMaxPreOutput);
  }
}

// Reads what is ready on `fd` within `wait`; false once the pipe is closed.
bool read_some(int fd, milliseconds wait, std::string& out) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  const int ready = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, wait.count())));
  if (ready <= 0) {
    return ready == 0 || errno == EINTR;
  }
  std::array<char, 4096> buf{};
  const ssize_t n = read(fd, buf.data(), buf.size());
  if (n > 0) {
    append_bounded(out, std::string_view(buf.data(), static_cast<std::size_t>(n)));
    return true;
  }
  return n < 0 && errno == EINTR;
}

// What is left in the pipe once the shell has ended, without waiting: a background process it
// started may keep the pipe open (and write on), so at most 4 * kMaxPreOutput bytes more.
void drain(int fd, std::string& out) {
  std::array<char, 4096> buf{};
  for (std::size_t read_bytes = 0; read_bytes < 4 * kMaxPreOutput;) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, 0) <= 0) {
      return;
    }
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n <= 0) {
      return;
    }
    append_bounded(out, std::string_view(buf.data(), static_cast<std::size_t>(n)));
    read_bytes += static_cast<std::size_t>(n);
  }
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

// The child's exit status once it has ended, without waiting.
std::optional<int> reaped(pid_t pid) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    return exit_code_of(status);
  }
  return r < 0 ? std::optional(1) : std::nullopt;
}

// SIGTERM to the whole group, SIGKILL after kKillGrace; answers the exit code.
int kill_group(pid_t pid) {
  kill(-pid, SIGTERM);
  const auto until = Clock::now() + kKillGrace;
  while (Clock::now() < until) {
    if (auto code = reaped(pid)) {
      kill(-pid, SIGKILL);  // what the shell left behind
      return *code;
    }
    usleep(10 * 1000);
  }
  kill(-pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return exit_code_of(status);
}

// How long a command ran, as a person reads it: "12ms", "1.2s", "2m5s".
std::string elapsed_text(std::int64_t ms) {
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  if (ms < 60 * 1000) {
    return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000);
  }
  return format_duration(milliseconds(ms / 1000 * 1000));
}

}  // namespace

PreOutcome run_pre_command(const PreCommand& command, milliseconds time_limit) {
  PreOutcome outcome{.name = command.name};
  const auto started = Clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
  };
  std::array<int, 2> fds{};
  if (pipe2(fds.data(), O_CLOEXEC) != 0) {
    outcome.exit_code = 1;
    outcome.output = "rampart: cannot make a pipe for the command's output";
    return outcome;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    exec_child(command.run, fds[1]);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    outcome.exit_code = 1;
    outcome.output = "rampart: cannot start /bin/sh";
    return outcome;
  }
  setpgid(pid, pid);  // also here: the child may not have run yet when we kill its group
  const auto deadline = started + time_limit;
  bool open_pipe = true;
  std::optional<int> code;
  while (!code) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || g_interrupted != 0) {
      (g_interrupted != 0 ? outcome.interrupted : outcome.timed_out) = true;
      code = kill_group(pid);
      break;
    }
    if (open_pipe) {
      open_pipe = read_some(fds[0], std::min(left, milliseconds(50)), outcome.output);
    } else {
      usleep(10 * 1000);
    }
    code = reaped(pid);
  }
  if (open_pipe) {
    drain(fds[0], outcome.output);
  }
  close(fds[0]);
  outcome.exit_code = *code;
  outcome.passed = !outcome.timed_out && !outcome.interrupted && *code == 0;
  outcome.ms = elapsed();
  return outcome;
}

std::vector<PreOutcome> run_pre_commands(const std::vector<PreCommand>& commands,
                                         milliseconds time_limit,
                                         const std::function<void(const PreCommand&)>& on_start) {
  std::vector<PreOutcome> out;
  g_interrupted = 0;
  auto* previous = std::signal(SIGINT, on_pre_sigint);
  for (const auto& c : commands) {
    if (on_start) {
      on_start(c);
    }
    out.push_back(run_pre_command(c, time_limit));
    if (out.back().interrupted) {
      break;
    }
  }
  std::signal(SIGINT, previous);
  return out;
}

std::vector<std::string> output_tail(std::string_view output, std::size_t lines) {
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) {
    output.remove_suffix(1);
  }
  std::vector<std::string> out;
  while (!output.empty() && out.size() < lines) {
    const auto nl = output.rfind('\n');
    const std::size_t from = nl == std::string_view::npos ? 0 : nl + 1;
    std::string line(output.substr(from));
    std::erase(line, '\r');
    out.insert(out.begin(), std::move(line));
    output = nl == std::string_view::npos ? std::string_view{} : output.substr(0, nl);
  }
  return out;
}

std::string pre_table(const std::vector<PreOutcome>& outcomes, milliseconds limit) {
  std::size_t name_width = 0;
  std::size_t result_width = 0;
  std::vector<std::string> results;
  for (const auto& o : outcomes) {
    std::string result = "passed";
    if (o.interrupted) {
      result = "interrupted";
    } else if (o.timed_out) {
      result = fmt::format("failed (killed after {})", format_duration(limit));
    } else if (!o.passed) {
      result = fmt::format("failed (exit {})", o.exit_code);
    }
    name_width = std::max(name_width, o.name.size());
    result_width = std::max(result_width, result.size());
    results.push_back(std::move(result));
  }
  std::string out =
      fmt::format("=== Pre-deploy checks (each limited to {}) ===\n\n", format_duration(limit));
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    out += fmt::format("{} {:<{}}  {:<{}}  {}\n", o.passed ? "✓" : "✗", o.name, name_width,
                       results[i], result_width, elapsed_text(o.ms));
    if (!o.passed) {
      for (const auto& line : output_tail(o.output, kPreTailLines)) {
        out += "    | " + line + "\n";
      }
    }
  }
  out += all_passed(outcomes)
             ? "\nAll checks passed.\n"
             : "\nDEPLOYMENT BLOCKED: fix the failed checks above (or deploy with --skip-checks, "
               "audited).\n";
  return out;
}

bool all_passed(const std::vector<PreOutcome>& outcomes) {
  return std::all_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.passed; });
}

bool any_interrupted(const std::vector<PreOutcome>& outcomes) {
  return std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.interrupted; });
}

boost::json::array pre_json(const std::vector<PreOutcome>& outcomes) {
  boost::json::array out;
  for (std::size_t i = 0; i < outcomes.size() && i < kMaxPreResultsSent; ++i) {
    const auto& o = outcomes[i];
    out.push_back(boost::json::object{
        {"name", o.name.substr(0, kMaxNameSent)}, {"passed", o.passed}, {"ms", o.ms}});
  }
  return out;
}

}  // namespace rampart::cli
