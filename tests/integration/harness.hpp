#pragma once
// A real rampart process in front of real demo-app upstreams, all on loopback ports chosen by
// the kernel (port 0), started and stopped by the test.

#include "support/http_client.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace rampart::testing {

inline std::string demo_app_bin() { return DEMO_APP_BIN; }
inline std::string rampart_bin() { return RAMPART_BIN; }

class Cluster {
 public:
  // Starts a demo-app named `name` with extra flags; returns its port.
  int start_app(const std::string& name, std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {demo_app_bin(), "--port", "0", "--name", name};
    argv.insert(argv.end(), flags.begin(), flags.end());
    Process p = Process::spawn(argv, dir_.file("app-" + name + ".log"));
    std::string line = p.read_line();
    int port = port_after(line, "listening on ");
    EXPECT_GT(port, 0) << "demo-app did not start: " << line << tail_file(p.log_path());
    apps_.push_back(std::move(p));
    return port;
  }

  // Writes `config` (the [server] table is added here) and starts rampart on it.
  void start_gateway(const std::string& services, const std::string& extra_server = "",
                     const std::string& limits = "") {
    services_ = services;
    extra_server_ = extra_server;
    limits_ = limits;
    write_config(services);
    launch({"--config", config_path()});
  }

  // Starts rampart again on the same data directory with only --data (the store and
  // DATA/server.toml hold everything), after the previous process has exited or been killed.
  void restart_gateway() { launch({}); }

  // Stops the gateway: SIGKILL (a crash) or SIGTERM (a drain); waits for it to exit.
  void stop_gateway(int sig = SIGTERM) {
    gateway_.signal(sig);
    gateway_.wait(std::chrono::seconds(20));
  }

  void launch(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {rampart_bin(), "server", "--data", data_dir()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    gateway_ = Process::spawn(argv, dir_.file("rampart.log"));
    std::string line = gateway_.read_line(std::chrono::seconds(20));
    port_ = port_after(line, "gateway on ");
    admin_port_ = port_after(line, "admin on ");
    ASSERT_GT(port_, 0) << "rampart did not start: " << line << "\n" << log();
    ASSERT_GT(admin_port_, 0) << line;
  }

  void write_config(const std::string& services) {
    std::string text =
        "[server]\nlisten = \"127.0.0.1:0\"\nadmin = \"127.0.0.1:0\"\nworkers = 2\n" +
        extra_server_ + "\n";
    if (!limits_.empty()) {
      text += "[limits]\n" + limits_ + "\n";
    }
    dir_.write("rampart.toml", text + services);
  }

  // Rewrites the config with new services and reloads through SIGHUP; waits until the admin
  // API reports the new generation.
  void reload(const std::string& services) {
    std::string before = admin().get("/health?detailed=true").body;
    write_config(services);
    gateway_.signal(SIGHUP);
    for (int i = 0; i < 400; ++i) {
      std::string now = admin().get("/health?detailed=true").body;
      if (now != before && now.find("\"routes_generation\"") != std::string::npos &&
          generation_of(now) > generation_of(before)) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "reload did not take effect\n" << log();
  }

  // Reloads with new [limits] lines and the same services.
  void reload_limits(const std::string& limits) {
    limits_ = limits;
    reload(services_);
  }

  static long generation_of(const std::string& health) {
    auto at = health.find("\"routes_generation\":");
    return at == std::string::npos ? -1 : std::atol(health.c_str() + at + 20);
  }

  HttpClient client(const std::string& source_ip = "") {
    return HttpClient("127.0.0.1", port_, source_ip);
  }
  // A plain TCP connection to the gateway, for requests written byte by byte.
  boost::asio::ip::tcp::socket raw_socket(boost::asio::io_context& ioc) const {
    boost::asio::ip::tcp::socket s(ioc);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
    return s;
  }
  HttpClient admin() { return HttpClient("127.0.0.1", admin_port_); }
  Process& gateway() { return gateway_; }
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }
  std::string config_path() const { return dir_.file("rampart.toml"); }
  std::string data_dir() const { return dir_.file("data"); }
  // The bootstrap admin token the server wrote at its first start.
  std::string admin_token() const { return tail_file(data_dir() + "/admin.token", 4096); }
  // An Authorization header with the admin token (or `token`).
  std::map<std::string, std::string> auth(const std::string& token = "") const {
    return {{"Authorization", "Bearer " + (token.empty() ? admin_token() : token)}};
  }
  std::string log() const { return tail_file(dir_.file("rampart.log")); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::vector<Process> apps_;
  Process gateway_;
  std::string services_, extra_server_, limits_;
  int port_ = -1;
  int admin_port_ = -1;
};

// A service block for the config: versions as (name, upstream ports), weights in percent.
struct VersionSpec {
  std::string name;
  std::vector<int> ports;
  double weight;
};

inline std::string service_config(const std::string& name, const std::string& routes,
                                  const std::string& sticky, const std::vector<VersionSpec>& vs,
                                  const std::string& extra = "") {
  std::string s = "[[service]]\nname = \"" + name + "\"\nroutes = [" + routes + "]\nsticky = \"" +
                  sticky + "\"\n" + extra + "\n";
  for (const auto& v : vs) {
    s += "[[service.version]]\nname = \"" + v.name + "\"\nupstreams = [";
    for (std::size_t i = 0; i < v.ports.size(); ++i) {
      s += (i ? ", " : "") + std::string("\"http://127.0.0.1:") + std::to_string(v.ports[i]) + "\"";
    }
    s += "]\n";
  }
  s += "[service.split]\n";
  for (const auto& v : vs) {
    char weight[32];
    std::snprintf(weight, sizeof weight, "%g", v.weight);
    s += v.name + " = " + weight + "\n";
  }
  return s;
}

}  // namespace rampart::testing
