#pragma once
// The gateway: N workers sharing one listening address (SO_REUSEPORT), one published route
// snapshot, and one metrics registry.

#include "common/result.hpp"
#include "config/config.hpp"
#include "gateway/route_table.hpp"
#include "gateway/snapshot.hpp"
#include "gateway/worker.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace rampart::gateway {

class Gateway {
 public:
  Gateway(std::size_t workers, uint32_t max_connections, metrics::Registry& registry);
  ~Gateway();

  // Compiles `config` and publishes it to every worker at once. On error nothing changes.
  // Thread-safe with respect to the workers; call from one control thread.
  Status publish(const config::Config& config);

  // Binds every worker to `endpoint` (port 0: the first worker picks, the others follow).
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();

  // Stops accepting and waits up to `timeout` for in-flight requests to finish, then stops
  // the workers. Returns true when every worker finished within the timeout.
  bool drain(std::chrono::milliseconds timeout);

  std::shared_ptr<const RouteTable> routes() const { return routes_.current(); }
  uint64_t generation() const { return generation_; }
  std::size_t worker_count() const { return workers_.size(); }
  uint32_t active_connections() const { return connections_.load(std::memory_order_relaxed); }

 private:
  metrics::Registry& registry_;
  SnapshotPublisher<RouteTable> routes_;
  UpstreamIds upstream_ids_;
  std::atomic<uint32_t> connections_{0};
  uint64_t generation_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace rampart::gateway
