#pragma once
// What the runner's integration tests share: a service whose versions rampart runs itself
// (demo-app instances started by the server, `run = [...]`), the instances as the admin API
// lists them, the CLI as a child process, and the processes of the test's demo-apps as /proc
// shows them.

#include "rollout_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rampart::testing {

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Polls `done` every 20 ms until it is true or `limit` passes; whether it became true.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// Whether `pid` is a live process (not a zombie) running demo-app: a pid reused by something
// else does not count.
inline bool demo_app_alive(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::ifstream stat(proc + "/stat");
  std::string line;
  if (pid <= 0 || !std::getline(stat, line)) {
    return false;
  }
  const auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size() ||
      line[close_paren + 2] == 'Z') {
    return false;
  }
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink(proc + "/exe", ec);
  return !ec && exe.filename() == "demo-app";
}

// The pids of the live demo-apps whose working directory is `dir`: those the test's rampart
// started (each version of the fixture runs in the test's directory), whoever their parent is.
inline std::set<pid_t> demo_apps_in(const std::filesystem::path& dir) {
  std::set<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code link_ec;
    const auto cwd = std::filesystem::read_symlink(entry.path() / "cwd", link_ec);
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    if (!link_ec && cwd == dir && demo_app_alive(pid)) {
      out.insert(pid);
    }
  }
  return out;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"RAMPART_ADDR", "RAMPART_TOKEN", "RAMPART_DATA"}) {
      ::unsetenv(name);
    }
  }

  // A [[service.version]] that rampart runs: demo-app named `name`, in the test's directory.
  std::string run_version(const std::string& name, unsigned instances,
                          const std::string& extra = "") const {
    return "[[service.version]]\nname = \"" + name + "\"\nrun = [\"" + demo_app_bin() +
           "\", \"--port\", \"{port}\", \"--name\", \"" + name +
           "\"]\ninstances = " + std::to_string(instances) + "\nworkdir = \"" +
           cluster.dir().path().string() + "\"\ngrace = \"3s\"\n" + extra + "\n";
  }

  // shop on "/" with `versions` (run_version blocks, a [service.split] if several) and a fast
  // rollout policy: steps of 50% (1 s) and 100%, half-second windows of 5 requests, and
  // `rollout_extra` lines in [service.rollout] (say, rollback_window).
  void start(const std::string& versions, const std::string& rollout_extra = "") {
    cluster.start_gateway(std::string("[[service]]\nname = \"shop\"\nroutes = [\"/\"]\n") +
                          "sticky = \"none\"\n\n[service.rollout]\n" +
                          "steps = [ { weight = 50, pause = \"1s\" }, { weight = 100 } ]\n" +
                          rollout_extra + "\n[service.rollout.analysis]\ninterval = \"500ms\"\n" +
                          "min_requests = 5\n\n" + versions);
  }

  RunResult rampart(std::vector<std::string> args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    args.insert(args.begin(), rampart_bin());
    // Before a deploy's "--": what follows it is the command.
    const auto end = std::find(args.begin(), args.end(), "--");
    args.insert(args.insert(end, cluster.data_dir()), "--data");
    return run_to_completion(args, timeout);
  }

  // `rampart deploy shop --version V --watch [flags] -- demo-app --port {port} --name V [app]`.
  RunResult deploy(const std::string& version, std::vector<std::string> flags,
                   const std::vector<std::string>& app_flags = {}) {
    std::vector<std::string> args = {"deploy",
                                     "shop",
                                     "--version",
                                     version,
                                     "--watch",
                                     "--workdir",
                                     cluster.dir().path().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    for (const std::string& a : {std::string("--"), demo_app_bin(), std::string("--port"),
                                 std::string("{port}"), std::string("--name"), version}) {
      args.push_back(a);
    }
    args.insert(args.end(), app_flags.begin(), app_flags.end());
    return rampart(args);
  }

  // `rampart secret put shop NAME` with `value` on its stdin.
  RunResult put_secret(const std::string& name, const std::string& value) {
    cluster.dir().write("secret.txt", value);
    return run_to_completion(
        {"/bin/sh", "-c", "exec \"$0\" secret put shop \"$1\" --data \"$2\" < \"$3\"",
         rampart_bin(), name, cluster.data_dir(), cluster.dir().file("secret.txt")});
  }

  // GET /api/v1/services/shop/instances: {"service", "versions": [{"version", "phase",
  // "error", "restarts", "churning", "instances": [{"id", "pid", "port", "ready", ...}]}]}.
  boost::json::value instances() {
    Reply r = cluster.admin().request("GET", "/api/v1/services/shop/instances", cluster.auth(), "");
    EXPECT_EQ(r.status, 200u) << r.body;
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    return ec ? boost::json::value(nullptr) : v;
  }

  // The version's entry in instances(); null when the fleet does not run it.
  boost::json::value fleet_version(const std::string& version) {
    const auto all = instances();
    if (!all.is_object()) {
      return nullptr;
    }
    for (const auto& v : all.at("versions").as_array()) {
      if (v.at("version").as_string() == version) {
        return v;
      }
    }
    return nullptr;
  }

  // The pids of the version's instances that are ready (none when it does not run).
  std::vector<pid_t> ready_pids(const std::string& version) {
    std::vector<pid_t> out;
    const auto v = fleet_version(version);
    if (v.is_object()) {
      for (const auto& i : v.at("instances").as_array()) {
        if (i.at("ready").as_bool()) {
          out.push_back(static_cast<pid_t>(i.at("pid").to_number<std::int64_t>()));
        }
      }
    }
    return out;
  }
  std::vector<int> ready_ports(const std::string& version) {
    std::vector<int> out;
    const auto v = fleet_version(version);
    if (v.is_object()) {
      for (const auto& i : v.at("instances").as_array()) {
        if (i.at("ready").as_bool()) {
          out.push_back(static_cast<int>(i.at("port").to_number<std::int64_t>()));
        }
      }
    }
    return out;
  }

  // Waits until the fleet runs `n` ready instances of `version`.
  bool wait_ready(const std::string& version, std::size_t n,
                  std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    return eventually([&] { return ready_pids(version).size() == n; }, limit);
  }

  // A request through the gateway pinned to `version`.
  Reply pinned(const std::string& version, const std::string& path = "/") {
    return cluster.client().get(path, {{"X-Rampart-Version", version}});
  }

  Cluster cluster;
  RolloutClient shop{cluster, "shop"};
};

}  // namespace rampart::testing
