#include "runner/instance.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

namespace rampart::runner {
namespace {

namespace fs = std::filesystem;

// Limits on what a deploy may ask for: they end up in execve's argument block.
constexpr std::size_t kMaxArgs = 256;
constexpr std::size_t kMaxEnv = 256;
constexpr std::size_t kMaxValueBytes = 8192;

// What the child reports through the exec-error pipe when it cannot get to its command.
struct ChildFailure {
  int step;  // 0: chdir, 1: exec
  int error;
};

std::string errno_text(int e) { return std::strerror(e); }

std::string with_port(std::string arg, unsigned short port) {
  const std::string token = "{port}";
  const std::string value = std::to_string(port);
  for (auto at = arg.find(token); at != std::string::npos; at = arg.find(token, at)) {
    arg.replace(at, token.size(), value);
    at += value.size();
  }
  return arg;
}

Status check_command(const Command& command) {
  if (command.argv.empty() || command.argv.front().empty()) {
    return make_error(Errc::kInvalidArgument, "run: empty command; give the program to start");
  }
  if (command.argv.size() > kMaxArgs || command.env.size() > kMaxEnv) {
    return make_error(Errc::kInvalidArgument,
                      "run: at most 256 arguments and 256 environment variables");
  }
  for (const auto& arg : command.argv) {
    if (arg.size() > kMaxValueBytes || arg.find('\0') != std::string::npos) {
      return make_error(Errc::kInvalidArgument, "run: an argument is over 8192 bytes or has NUL");
    }
  }
  for (const auto& [name, value] : command.env) {
    if (name.empty() || name.find_first_of("=\0", 0, 2) != std::string::npos) {
      return make_error(Errc::kInvalidArgument,
                        "env: '" + name + "' is not a variable name (no '=', not empty)");
    }
    if (value.size() > kMaxValueBytes || value.find('\0') != std::string::npos) {
      return make_error(Errc::kInvalidArgument, "env." + name + ": over 8192 bytes or has NUL");
    }
  }
  return {};
}

// The child's environment: the inherited names that rampart has, the given ones, then PORT.
std::vector<std::string> child_environment(const Command& command, unsigned short port) {
  std::map<std::string, std::string> vars;
  for (const auto& name : command.inherit) {
    if (const char* value = std::getenv(name.c_str())) {
      vars[name] = value;
    }
  }
  for (const auto& [name, value] : command.env) {
    vars[name] = value;
  }
  vars["PORT"] = std::to_string(port);
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [name, value] : vars) {
    std::string entry = name;
    entry += '=';
    entry += value;
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

bool is_executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// The child between fork and exec: only async-signal-safe calls, no allocation.
[[noreturn]] void exec_child(pid_t parent, int out_fd, int error_fd, const char* workdir,
                             const char* path, char* const* argv, char* const* envp) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    ::_exit(127);  // rampart died before the death signal was armed
  }
  // Signal dispositions set to "ignore" and the blocked mask survive exec: start clean.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  ::dup2(null_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  // rampart's own sockets and files (the gateway's listeners) stay out of the instance.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ChildFailure failure{0, 0};
  if (workdir[0] != '\0' && ::chdir(workdir) != 0) {
    failure = {0, errno};
  } else {
    ::execve(path, argv, envp);
    failure = {1, errno};
  }
  [[maybe_unused]] auto n = ::write(error_fd, &failure, sizeof failure);
  ::_exit(127);
}

// Reads the exec-error pipe until the child exec'd (EOF) or reported a failure.
std::optional<ChildFailure> read_child_failure(int fd) {
  ChildFailure failure{};
  ssize_t n = 0;
  do {
    n = ::read(fd, &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    return failure;
  }
  return std::nullopt;
}

ExitStatus to_exit_status(int status) {
  if (WIFSIGNALED(status)) {
    return ExitStatus{true, WTERMSIG(status)};
  }
  return ExitStatus{false, WEXITSTATUS(status)};
}

bool has_exited(pid_t pid, bool block) {
  siginfo_t info{};
  const int options = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, options) != 0) {
    if (errno != EINTR) {
      return true;  // ECHILD: nothing left to wait for
    }
  }
  return info.si_pid != 0;
}

}  // namespace

std::string ExitStatus::text() const {
  if (signaled) {
    return "killed by signal " + std::to_string(code) + " (" + ::strsignal(code) + ")";
  }
  return "exit code " + std::to_string(code);
}

Result<unsigned short> pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return make_error(Errc::kIo, "port: socket: " + errno_text(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int e = errno;
  ::close(fd);
  if (!ok) {
    return make_error(Errc::kIo, "port: no free loopback port: " + errno_text(e));
  }
  return ntohs(addr.sin_port);
}

Result<fs::path> resolve_executable(const Command& command) {
  const std::string& name = command.argv.front();
  if (name.find('/') != std::string::npos) {
    const fs::path path = command.workdir.empty() ? fs::path(name) : command.workdir / name;
    if (!is_executable_file(path)) {
      return make_error(Errc::kInvalidArgument,
                        "run: " + path.string() + " does not exist or is not executable");
    }
    return path;
  }
  std::string search = "/usr/local/bin:/usr/bin:/bin";
  if (const auto it = command.env.find("PATH"); it != command.env.end()) {
    search = it->second;
  } else if (const char* path = std::getenv("PATH")) {
    search = path;
  }
  for (std::size_t start = 0; start <= search.size();) {
    const auto end = std::min(search.find(':', start), search.size());
    const fs::path dir = search.substr(start, end - start);
    if (!dir.empty() && is_executable_file(dir / name)) {
      return dir / name;
    }
    start = end + 1;
  }
  return make_error(Errc::kInvalidArgument,
                    "run: command '" + name + "' not found in PATH (" + search + ")");
}

Result<std::unique_ptr<Instance>> Instance::start(const InstanceOptions& options) {
  const Command& command = options.command;
  if (auto ok = check_command(command); !ok) {
    return ok.error();
  }
  auto path = resolve_executable(command);
  if (!path) {
    return path.error();
  }
  auto port = pick_free_port();
  if (!port) {
    return port.error();
  }
  auto log = LogFile::open(options.log_path, options.log_limits);
  if (!log) {
    return log.error();
  }
  std::vector<std::string> args;
  for (const auto& arg : command.argv) {
    args.push_back(with_port(arg, *port));
  }
  std::vector<std::string> env = child_environment(command, *port);
  const auto argv = pointers(args);
  const auto envp = pointers(env);
  const std::string exe = path->string();
  const std::string workdir = command.workdir.string();

  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return make_error(Errc::kIo, "run: pipe: " + errno_text(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return make_error(Errc::kIo, "run: pipe: " + errno_text(e));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(parent, out[1], err[1], workdir.c_str(), exe.c_str(), argv.data(), envp.data());
  }
  const int fork_errno = errno;
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    return make_error(Errc::kIo, "run: fork: " + errno_text(fork_errno));
  }
  ::setpgid(pid, pid);  // also from here, so that the group exists before any kill(-pid)
  const auto failure = read_child_failure(err[0]);
  ::close(err[0]);
  (*log)->read_from(out[0]);
  std::unique_ptr<Instance> instance(new Instance(pid, *port, std::move(*log)));
  if (failure) {
    instance->stop(std::chrono::milliseconds(0));
    const std::string what = failure->step == 0 ? "workdir " + workdir : exe;
    return make_error(Errc::kInvalidArgument,
                      "run: cannot start " + what + ": " + errno_text(failure->error));
  }
  return instance;
}

Instance::Instance(pid_t pid, unsigned short port, std::unique_ptr<LogFile> log)
    : pid_(pid), port_(port), started_at_(std::chrono::system_clock::now()), log_(std::move(log)) {}

Instance::~Instance() { stop(std::chrono::milliseconds(0)); }

ExitStatus Instance::reap() {
  ::kill(-pid_, SIGKILL);  // what the command started; the unreaped leader keeps the group id
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_ = to_exit_status(status);
  log_->detach_reader();
  log_->write_line("[rampart] instance exited: " + exit_->text());
  return *exit_;
}

std::optional<ExitStatus> Instance::poll() {
  if (exit_) {
    return exit_;
  }
  if (!has_exited(pid_, false)) {
    return std::nullopt;
  }
  return reap();
}

ExitStatus Instance::stop(std::chrono::milliseconds grace) {
  if (exit_) {
    return *exit_;
  }
  if (grace.count() > 0) {
    ::kill(-pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (has_exited(pid_, false)) {
        return reap();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ::kill(-pid_, SIGKILL);
  has_exited(pid_, true);
  return reap();
}

}  // namespace rampart::runner
