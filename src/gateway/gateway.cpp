#include "gateway/gateway.hpp"

#include <thread>

namespace rampart::gateway {

Gateway::Gateway(std::size_t workers, uint32_t max_connections, metrics::Registry& registry)
    : registry_(registry) {
  WorkerShared shared{&routes_, &registry_, &connections_, max_connections};
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, shared));
  }
}

Gateway::~Gateway() {
  for (auto& w : workers_) {
    w->stop();
  }
  for (auto& w : workers_) {
    w->join();
  }
}

Status Gateway::publish(const config::Config& config) {
  auto table = build_route_table(config, generation_ + 1, registry_, upstream_ids_);
  if (!table) {
    return table.error();
  }
  ++generation_;
  routes_.publish(std::move(*table));
  return {};
}

Result<boost::asio::ip::tcp::endpoint> Gateway::listen(
    const boost::asio::ip::tcp::endpoint& endpoint) {
  boost::asio::ip::tcp::endpoint bound = endpoint;
  for (auto& w : workers_) {
    auto r = w->listen(bound);
    if (!r) {
      return r.error();
    }
    bound = *r;
  }
  return bound;
}

void Gateway::start() {
  for (auto& w : workers_) {
    w->start();
  }
}

bool Gateway::drain(std::chrono::milliseconds timeout) {
  for (auto& w : workers_) {
    w->drain();
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool all = false;
  while (std::chrono::steady_clock::now() < deadline) {
    all = true;
    for (auto& w : workers_) {
      all = all && w->finished();
    }
    if (all) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& w : workers_) {
    w->stop();
  }
  for (auto& w : workers_) {
    w->join();
  }
  return all;
}

}  // namespace rampart::gateway
