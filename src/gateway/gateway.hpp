#pragma once
// The gateway: N workers sharing one listening address (SO_REUSEPORT), one published route
// snapshot, and one metrics registry.

#include "common/result.hpp"
#include "config/config.hpp"
#include "gateway/resolver.hpp"
#include "gateway/route_table.hpp"
#include "gateway/snapshot.hpp"
#include "gateway/tail.hpp"
#include "gateway/worker.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace rampart::gateway {

class Gateway {
 public:
  struct Options {
    std::size_t workers = 1;
    uint32_t max_connections = 10000;
    // How long publish() waits for the first answer about a host name it has not seen before.
    std::chrono::milliseconds first_lookup_wait{1000};
    UpstreamResolver::Lookup lookup;  // getaddrinfo when empty (a seam for tests)
  };

  Gateway(Options options, metrics::Registry& registry);
  ~Gateway();

  // Compiles `config` and publishes it to every worker at once. Upstream host names come from
  // the gateway's resolver: names it already knows cost no lookup; new ones are looked up,
  // waiting up to first_lookup_wait. A name without an address leaves its upstream out of its
  // version (requests that find no other upstream get 503 saying why) until it resolves; the
  // resolver then publishes again by itself, as it does when an address changes. Never fails
  // because of what `config` holds. Thread-safe; publications are serialised.
  void publish(const config::Config& config);

  // Binds every worker to `endpoint` (port 0: the first worker picks, the others follow).
  // Refuses an address another process listens on, SO_REUSEPORT or not ("Address already in
  // use"), so two gateways never share one port's connections.
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();

  // Stops accepting and waits up to `timeout` for in-flight requests to finish, then stops
  // the workers. Returns true when every worker finished within the timeout.
  bool drain(std::chrono::milliseconds timeout);

  std::shared_ptr<const RouteTable> routes() const { return routes_.current(); }

  // Whether `endpoint` has no request in flight on any worker and no version of the current
  // route snapshot lists it: an instance that left the route has drained. Asks each worker on
  // its own thread (nothing is added to the request path); a worker that does not answer
  // within `wait` counts as busy. Thread-safe; not from a worker's thread.
  bool drained(const boost::asio::ip::tcp::endpoint& endpoint,
               std::chrono::milliseconds wait = std::chrono::milliseconds(200));
  // The requests the workers have sent `endpoint` (retries included), asked as drained() asks;
  // nullopt when a worker did not answer within `wait`.
  std::optional<uint64_t> requests_to(
      const boost::asio::ip::tcp::endpoint& endpoint,
      std::chrono::milliseconds wait = std::chrono::milliseconds(200));
  uint64_t generation() const { return generation_; }
  std::size_t worker_count() const { return workers_.size(); }
  uint32_t active_connections() const { return connections_.load(std::memory_order_relaxed); }

  // Live request events (gateway/tail.hpp): subscribe, read since a cursor, unsubscribe.
  // Thread-safe.
  TailHub& tail() { return tail_; }

 private:
  // Each worker's answer of `read` about upstream `id`, summed on the caller's thread; nullopt
  // when one did not answer within `wait`.
  std::optional<uint64_t> sum_over_workers(uint32_t id, uint64_t (*read)(const UpstreamState&),
                                           std::chrono::milliseconds wait);
  // REQUIRES: publish_mutex_ held.
  void publish_locked(const config::Config& config, const HostAnswers& answers);
  void republish();  // the resolver's answers changed

  metrics::Registry& registry_;
  SnapshotPublisher<RouteTable> routes_;
  UpstreamIds upstream_ids_;
  std::atomic<uint32_t> connections_{0};
  std::chrono::milliseconds first_lookup_wait_;
  std::mutex publish_mutex_;
  config::Config published_;       // GUARDED_BY(publish_mutex_)
  HostAnswers published_answers_;  // GUARDED_BY(publish_mutex_): what published_ was built with
  std::atomic<uint64_t> generation_{0};
  TailHub tail_;  // before workers_: they write into its rings
  std::vector<std::unique_ptr<Worker>> workers_;
  UpstreamResolver resolver_;  // last: its callback uses the members above
};

}  // namespace rampart::gateway
