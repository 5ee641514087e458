#pragma once
// One running instance of a version's command: a child process in its own process group, on a
// loopback port picked for it, with its stdout and stderr in a rotated LogFile.
//
// The port. pick_free_port() binds 127.0.0.1:0, reads the port the kernel chose and closes the
// socket; the instance binds it a moment later. Between the two another process may take it
// (a small race, as with every "find a free port" scheme that does not pass the socket itself).
// The instance then fails to bind and exits at once; the supervisor treats that as any early
// exit and starts it again, and every start picks a fresh port, so a lost race costs one
// restart (during a deploy's start, one failed start: see Supervisor).
//
// Dying with rampart. The child sets prctl(PR_SET_PDEATHSIG, SIGKILL) before exec, so when
// rampart dies (even by kill -9) the kernel kills every instance; rampart restarts them from
// the store's desired state when it starts again. We chose this over re-adopting orphans by pid
// and start time: an orphan's pipes (its logs) would be gone and its exit could not be waited
// for, and a stale pid may name someone else's process. Caveat: the signal fires when the
// *thread* that forked exits, so an Instance must be started on a thread that outlives it (the
// supervisor's own thread does). stop() additionally signals the whole group, which reaches
// what the command itself started.
//
// Thread safety: one thread owns an Instance; log_tail() may be called from any thread.

#include "common/result.hpp"
#include "runner/log_file.hpp"

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rampart::runner {

struct Command {
  std::vector<std::string> argv;           // "{port}" anywhere in an argument becomes the port
  std::filesystem::path workdir;           // empty: the current directory
  std::map<std::string, std::string> env;  // given variables; PORT is added
  // Variables taken from rampart's own environment (nothing else of it is passed on).
  std::vector<std::string> inherit = {"PATH", "HOME", "LANG"};
};

// How a child ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;              // exit code, or the signal number when signaled
  std::string text() const;  // "exit code 3", "killed by signal 9 (Killed)"
};

struct InstanceOptions {
  Command command;
  std::filesystem::path log_path;
  LogLimits log_limits;
};

// A free port on 127.0.0.1 at the time of the call (see the race above). kIo if none.
Result<unsigned short> pick_free_port();

// `command.argv[0]` as it will be executed: a path with a '/' is taken relative to the workdir,
// a bare name is looked up in the child's PATH. kInvalidArgument naming the command when it is
// not there or not executable.
Result<std::filesystem::path> resolve_executable(const Command& command);

class Instance {
 public:
  // Picks a port, starts the command, and returns once the child has exec'd. kInvalidArgument
  // for a bad command (empty argv, missing executable, bad variable name), kIo when the log
  // cannot be opened or fork/exec fail (the message says which).
  static Result<std::unique_ptr<Instance>> start(const InstanceOptions& options);
  ~Instance();  // a child still running is killed (SIGKILL to its group) and reaped

  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  pid_t pid() const { return pid_; }
  unsigned short port() const { return port_; }
  std::chrono::system_clock::time_point started_at() const { return started_at_; }

  // Without blocking: the exit status once the child has exited (it is then reaped, and what
  // is left of its group is killed), nullopt while it runs.
  std::optional<ExitStatus> poll();
  // SIGTERM to the group, SIGKILL to it after `grace`, reaps the child; returns how it ended.
  ExitStatus stop(std::chrono::milliseconds grace);

  std::vector<std::string> log_tail(std::size_t n) const { return log_->tail(n); }

 private:
  Instance(pid_t pid, unsigned short port, std::unique_ptr<LogFile> log);
  // REQUIRES: the child has exited (waitid with WNOWAIT said so); kills the rest of the group,
  // reaps the child, stops the log reader.
  ExitStatus reap();

  pid_t pid_;
  unsigned short port_;
  std::chrono::system_clock::time_point started_at_;
  std::unique_ptr<LogFile> log_;
  std::optional<ExitStatus> exit_;
};

}  // namespace rampart::runner
