#include "gateway/gateway.hpp"

#include "gateway/listeners.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

namespace rampart::gateway {

namespace asio = boost::asio;
using boost::asio::ip::tcp;

Gateway::Gateway(Options options, metrics::Registry& registry)
    : registry_(registry),
      first_lookup_wait_(options.first_lookup_wait),
      tail_(options.workers),
      resolver_(UpstreamResolver::Options{.lookup = std::move(options.lookup)},
                [this] { republish(); }) {
  WorkerShared shared{&routes_, &registry_, &connections_, options.max_connections, &tail_};
  workers_.reserve(options.workers);
  for (std::size_t i = 0; i < options.workers; ++i) {
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

void Gateway::publish(const config::Config& config) {
  std::lock_guard lock(publish_mutex_);
  resolver_.set_refresh(std::chrono::milliseconds(config.server.dns_refresh_ms));
  publish_locked(config, resolver_.resolve(upstream_host_names(config), first_lookup_wait_));
}

void Gateway::republish() {
  std::lock_guard lock(publish_mutex_);
  auto answers = resolver_.answers_for(upstream_host_names(published_));
  if (answers != published_answers_) {
    publish_locked(published_, answers);
  }
}

void Gateway::publish_locked(const config::Config& config, const HostAnswers& answers) {
  auto table = build_route_table(config, generation_ + 1, registry_, upstream_ids_, answers);
  metrics::Registry::UpstreamBoard board;
  for (const auto& s : table->services) {
    for (const auto& v : s.versions) {
      auto& ups = board[{s.name, v.name}];
      for (const auto& u : v.upstreams) {
        ups.push_back(metrics::UpstreamHealth{u.authority, {}});
      }
      for (const auto& u : v.unresolved) {
        ups.push_back(metrics::UpstreamHealth{u.authority, u.reason});
      }
    }
  }
  registry_.set_upstreams(std::move(board));
  if (&config != &published_) {
    published_ = config;
  }
  published_answers_ = answers;
  ++generation_;
  routes_.publish(std::move(table));
}

namespace {

Error address_in_use(const tcp::endpoint& endpoint) {
  return make_error(Errc::kIo, "cannot listen on " + endpoint.address().to_string() + ":" +
                                   std::to_string(endpoint.port()) + ": Address already in use");
}

// Whether any socket listens on `endpoint`: a bind without SO_REUSEPORT fails if one does,
// whether it set SO_REUSEPORT or not. (SO_REUSEADDR only lets it past TIME_WAIT leftovers.)
bool in_use(const tcp::endpoint& endpoint) {
  boost::asio::io_context ioc;
  tcp::acceptor probe(ioc);
  boost::system::error_code ec;
  probe.open(endpoint.protocol(), ec);
  if (!ec) {
    probe.set_option(boost::asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    probe.bind(endpoint, ec);
  }
  return ec == boost::asio::error::address_in_use;
}

}  // namespace

Result<tcp::endpoint> Gateway::listen(const tcp::endpoint& endpoint) {
  // Two checks: nobody listens there before the workers bind (so none of another gateway's
  // connections land in their backlogs), and nobody else after (two gateways starting at once).
  if (endpoint.port() != 0 && in_use(endpoint)) {
    return address_in_use(endpoint);
  }
  tcp::endpoint bound = endpoint;
  std::vector<ino_t> ours;
  for (auto& w : workers_) {
    auto r = w->listen(bound);
    if (!r) {
      return r.error();
    }
    bound = *r;
    ours.push_back(socket_inode(w->listener_handle()));
  }
  if (another_listener(bound, ours)) {
    for (auto& w : workers_) {
      w->close_listener();
    }
    return address_in_use(bound);
  }
  return bound;
}

void Gateway::start() {
  for (auto& w : workers_) {
    w->start();
  }
}

namespace {

bool listed(const RouteTable& table, const tcp::endpoint& endpoint) {
  for (const auto& service : table.services) {
    for (const auto& version : service.versions) {
      for (const auto& upstream : version.upstreams) {
        if (upstream.endpoint == endpoint) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

bool Gateway::drained(const tcp::endpoint& endpoint, std::chrono::milliseconds wait) {
  if (auto table = routes(); table && listed(*table, endpoint)) {
    return false;
  }
  const auto id = upstream_ids_.find(endpoint);
  if (!id) {
    return true;  // no request ever went there
  }
  const auto in_flight = sum_over_workers(
      *id, [](const UpstreamState& u) -> uint64_t { return u.outstanding; }, wait);
  return in_flight && *in_flight == 0;
}

std::optional<uint64_t> Gateway::requests_to(const tcp::endpoint& endpoint,
                                             std::chrono::milliseconds wait) {
  const auto id = upstream_ids_.find(endpoint);
  if (!id) {
    return 0;
  }
  return sum_over_workers(
      *id, [](const UpstreamState& u) -> uint64_t { return u.requests; }, wait);
}

std::optional<uint64_t> Gateway::sum_over_workers(uint32_t id,
                                                  uint64_t (*read)(const UpstreamState&),
                                                  std::chrono::milliseconds wait) {
  std::vector<std::future<uint64_t>> answers;
  answers.reserve(workers_.size());
  for (auto& worker : workers_) {
    auto promise = std::make_shared<std::promise<uint64_t>>();
    answers.push_back(promise->get_future());
    worker->run_on_thread(
        [w = worker.get(), promise, id, read] { promise->set_value(read(w->upstream(id))); });
  }
  const auto until = std::chrono::steady_clock::now() + wait;
  uint64_t sum = 0;
  for (auto& answer : answers) {
    if (answer.wait_until(until) != std::future_status::ready) {
      return std::nullopt;
    }
    sum += answer.get();
  }
  return sum;
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
