#pragma once
// A gateway worker: one thread, one io_context, its own acceptor (SO_REUSEPORT), its own
// upstream connection pools and metrics shards. A connection stays on the worker that accepted
// it for its whole life; nothing on the request path is shared with other workers except the
// published route snapshot.

#include "gateway/deadline.hpp"
#include "gateway/route_table.hpp"
#include "gateway/snapshot.hpp"
#include "gateway/tail.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/basic_stream_descriptor.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

namespace rampart::gateway {

// A keep-alive connection to an upstream, owned by one worker.
struct UpstreamConnection {
  UpstreamConnection(DeadlineWheel& wheel, const Executor& ex) : stream(wheel, ex) {}
  TimedSocket stream;
  boost::beast::flat_buffer buffer;
  uint32_t upstream_id = 0;
  bool reused = false;
};

// Per-worker state of one upstream endpoint.
struct UpstreamState {
  std::vector<std::unique_ptr<UpstreamConnection>> idle;  // LIFO
  uint32_t outstanding = 0;                               // requests in flight on this worker
  uint64_t requests = 0;  // requests sent to it by this worker (tries included), ever
  uint32_t consecutive_connect_failures = 0;
  std::chrono::steady_clock::time_point ejected_until{};
};

// What a session exposes to its worker so that a drain can close it when idle.
struct SessionEntry {
  TimedSocket* client = nullptr;
  bool idle = true;
};

class Worker;
// Accepts connections for `worker` until its acceptor closes.
Awaitable<void> accept_loop(Worker* worker);
// Fires due deadlines every DeadlineWheel::kTick until the worker has drained.
Awaitable<void> tick_deadlines(Worker* worker);
// Carries out drain() and stop() requests from other threads on the worker's thread.
Awaitable<void> watch_commands(Worker* worker);

struct WorkerShared {
  const SnapshotPublisher<RouteTable>* routes = nullptr;
  metrics::Registry* registry = nullptr;
  std::atomic<uint32_t>* connections = nullptr;  // across all workers
  uint32_t max_connections = 10000;
  TailHub* tail = nullptr;  // live request events (gateway/tail.hpp)
};

class Worker {
 public:
  static constexpr std::size_t kRelayBufferSize = 64 * 1024;
  static constexpr std::size_t kMaxIdlePerUpstream = 128;

  Worker(std::size_t index, WorkerShared shared);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens this worker's acceptor on `endpoint` with SO_REUSEPORT. Call before start().
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // The listening socket's descriptor, -1 before listen(); closes it on close_listener().
  int listener_handle() {
    return acceptor_ && acceptor_->is_open() ? acceptor_->native_handle() : -1;
  }
  void close_listener() {
    boost::system::error_code ignored;
    if (acceptor_) {
      acceptor_->close(ignored);
    }
  }
  // Runs the io_context on a new thread.
  void start();
  // Stops accepting, closes idle connections, lets in-flight requests finish. Thread-safe.
  void drain() { command(kDrain); }
  // Stops the io_context now (after a drain timeout). Thread-safe.
  void stop() { command(kStop); }
  // Runs `task` on this worker's thread, soon (a read of its per-upstream state, say). Thread-
  // safe: the task waits in a mailbox and the eventfd wakes the worker, since nothing but the
  // worker's own thread may touch its lock-free io_context. A worker that has stopped never
  // runs it.
  void run_on_thread(std::function<void()> task);
  void join();
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  // ---- Used by sessions on this worker's thread only. ----
  std::size_t index() const { return index_; }
  boost::asio::io_context& io_context() { return ioc_; }
  const std::shared_ptr<const RouteTable>& routes() { return routes_.get(); }
  metrics::GatewayShard& gateway_metrics() { return *gateway_shard_; }
  bool draining() const { return draining_; }
  DeadlineWheel& deadlines() { return deadlines_; }
  uint32_t random_bucket();
  uint32_t next_rotation() { return rotation_++; }
  const TailHub& tail() const { return *shared_.tail; }
  TailRing& tail_ring() { return shared_.tail->ring(index_); }

  // The state of upstream `id` (UpstreamTarget::id) on this worker, created on first use.
  // References stay valid for the worker's life.
  UpstreamState& upstream(uint32_t id) {
    if (id < upstreams_.size()) [[likely]] {
      return *upstreams_[id];
    }
    return add_upstreams(id);
  }
  std::unique_ptr<char[]> take_relay_buffer();
  void return_relay_buffer(std::unique_ptr<char[]> buffer);

  void add_session(SessionEntry* entry) { sessions_.insert(entry); }
  void remove_session(SessionEntry* entry) { sessions_.erase(entry); }
  void release_connection_slot();

 private:
  friend Awaitable<void> accept_loop(Worker* worker);
  friend Awaitable<void> tick_deadlines(Worker* worker);
  friend Awaitable<void> watch_commands(Worker* worker);
  static constexpr uint32_t kDrain = 1;
  static constexpr uint32_t kStop = 2;
  static constexpr uint32_t kTasks = 4;
  // Sets the command's bit and wakes the worker's thread through the eventfd.
  void command(uint32_t bit);
  // Grows upstreams_ to hold `id`; returns its state.
  UpstreamState& add_upstreams(uint32_t id);
  void do_drain();
  void run_tasks();

  // Order matters at destruction: ioc_ is declared last so that it goes first, destroying
  // the coroutine frames of unfinished sessions while everything they touch (deadlines,
  // upstream states, relay buffers, the session set) still exists. Sockets that belong to no
  // frame (the acceptor, pooled connections) are closed in ~Worker before that.
  std::size_t index_;
  WorkerShared shared_;
  DeadlineWheel deadlines_;
  SnapshotReader<RouteTable> routes_;
  metrics::GatewayShard* gateway_shard_;
  // Indexed by upstream id; each state on the heap, so references stay valid as it grows (one
  // index and one load per look-up: a deque's indexing showed in profiles).
  std::vector<std::unique_ptr<UpstreamState>> upstreams_;
  std::vector<std::unique_ptr<char[]>> relay_buffers_;
  std::unordered_set<SessionEntry*> sessions_;
  uint64_t rng_state_;
  uint32_t rotation_ = 0;
  bool draining_ = false;
  std::atomic<bool> finished_{false};
  // Commands from other threads: bits set here, then a write to command_fd_ (an eventfd,
  // open for the worker's whole life) wakes watch_commands() on the worker's thread.
  std::atomic<uint32_t> commands_{0};
  int command_fd_ = -1;
  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;  // GUARDED_BY(tasks_mutex_); run_on_thread()'s
  std::thread thread_;
  // No other thread touches the io_context while it runs: sockets, timers and handlers are
  // the worker thread's own, and drain(), stop() and run_on_thread() go through the eventfd. So
  // Asio runs without locks: the reactor's per-descriptor mutex and the scheduler's mutex were ~3%
  // and ~2% of a proxied request's instructions (callgrind).
  boost::asio::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  std::optional<Acceptor> acceptor_;
  std::optional<boost::asio::posix::basic_stream_descriptor<Executor>> command_reader_;
};

}  // namespace rampart::gateway
