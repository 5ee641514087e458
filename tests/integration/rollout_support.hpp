#pragma once
// What the rollout integration tests share: traffic through the gateway counted by the version
// that answered, and the rollout endpoints of a Cluster's admin API.

#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rampart::testing {

// Requests as fast as `connections` connections allow, counted by the version that answered.
class Traffic {
 public:
  explicit Traffic(Cluster& cluster, int connections = 2, std::string path = "/")
      : cluster_(cluster), path_(std::move(path)) {
    for (int i = 0; i < connections; ++i) {
      threads_.emplace_back([this] { run(); });
    }
  }
  ~Traffic() { stop(); }
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;

  void stop() {
    stopping_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }
  // Answers by version; "" for transport failures and the gateway's own answers.
  std::map<std::string, std::pair<int, int>> counts() {  // version -> (ok, failed)
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  void run() {
    auto client = cluster_.client();
    while (!stopping_) {
      Reply r = client.get(path_);
      std::lock_guard lock(mutex_);
      auto& c = counts_[r.header("X-Rampart-Version")];
      (r.status >= 200 && r.status < 500 ? c.first : c.second)++;
      if (r.status == 0 || r.closed) {
        client.close();  // the next request connects again
      }
    }
  }

  Cluster& cluster_;
  const std::string path_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::map<std::string, std::pair<int, int>> counts_;
  std::vector<std::thread> threads_;
};

// "2026-12-02T02:49:02.045Z" as unix ms.
inline std::int64_t unix_ms(const boost::json::value& rfc3339) {
  const std::string text(rfc3339.as_string());
  std::tm tm{};
  strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  const auto dot = text.find('.');
  const int ms = dot == std::string::npos ? 0 : std::atoi(text.c_str() + dot + 1);
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

// The rollout endpoints of one service of `cluster`, as the bootstrap token.
class RolloutClient {
 public:
  RolloutClient(Cluster& cluster, std::string service)
      : cluster_(cluster), service_(std::move(service)) {}

  Reply call(const std::string& method, const std::string& target, const std::string& body = "") {
    auto headers = cluster_.auth();
    headers["Content-Type"] = "application/json";
    return cluster_.admin().request(method, target, headers, body);
  }

  // POST /services/{s}/rollouts with `extra` members after the version ("": none); expects 201.
  boost::json::value deploy(const std::string& version, const std::string& extra = "") {
    Reply r = call("POST", base() + "/rollouts",
                   R"({"version": ")" + version + "\"" + (extra.empty() ? "" : ", " + extra) + "}");
    EXPECT_EQ(r.status, 201u) << r.body;
    return r.status == 201 ? boost::json::parse(r.body) : boost::json::value();
  }

  // POST /services/{s}/rollout/{command}; the answer's body when 200.
  boost::json::value command(const std::string& name) {
    Reply r = call("POST", base() + "/rollout/" + name);
    EXPECT_EQ(r.status, 200u) << name << ": " << r.body;
    return r.status == 200 ? boost::json::parse(r.body) : boost::json::value();
  }

  boost::json::value latest() {
    Reply r = call("GET", base() + "/rollouts/latest");
    return r.status == 200 ? boost::json::parse(r.body) : boost::json::value();
  }

  std::string phase() {
    auto r = latest();
    return r.is_object() ? std::string(r.at("phase").as_string()) : "";
  }

  // Polls the latest rollout until its phase is one of `phases` (or `limit` passes); the phase.
  std::string wait_for(const std::vector<std::string>& phases,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::string now;
    while (std::chrono::steady_clock::now() < until) {
      now = phase();
      for (const auto& p : phases) {
        if (now == p) {
          return now;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "timeout (" + now + ")";
  }
  std::string wait_final() { return wait_for({"promoted", "rolled_back"}); }

  // The latest rollout's events, oldest first.
  boost::json::array events() {
    const auto id = latest().at("id").as_int64();
    Reply e = call("GET", base() + "/rollouts/" + std::to_string(id) + "/events");
    EXPECT_EQ(e.status, 200u) << e.body;
    return boost::json::parse(e.body).at("events").as_array();
  }
  std::vector<std::string> event_names() {
    std::vector<std::string> names;
    for (const auto& e : events()) {
      names.emplace_back(e.at("event").as_string());
    }
    return names;
  }

  // The served split's share of `version`, in percent.
  double share(const std::string& version) {
    Reply r = call("GET", base());
    const boost::json::value service = boost::json::parse(r.body);
    const auto& split = service.at("latest").at("split").as_object();
    return split.contains(version) ? split.at(version).to_number<double>() : 0;
  }

  // The service's deployments, newest first.
  boost::json::array deployments() {
    Reply r = call("GET", base() + "/deployments");
    EXPECT_EQ(r.status, 200u) << r.body;
    return boost::json::parse(r.body).at("deployments").as_array();
  }

 private:
  std::string base() const { return "/api/v1/services/" + service_; }

  Cluster& cluster_;
  const std::string service_;
};

}  // namespace rampart::testing
