#pragma once
// The demo app's HTTP/1.1 server: one acceptor, a coroutine per connection, keep-alive.
// Thread safety: any number of threads may run the io_context; each connection is bound to
// its own strand, the acceptor to the server's.
//
// Stopping is graceful (SIGTERM, for rampart's draining): stop() closes the acceptor, every
// request being answered is answered (with `Connection: close`), and then `done` is called; a
// connection waiting for its next request is not waited for.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>

namespace rampart::demo {

struct DemoOptions {
  std::string name;         // echoed in X-Demo-Name and in JSON bodies
  double error_rate = 0.0;  // 0..1: the share of non-health requests answered with a 500
  uint32_t latency_ms = 0;  // added before every non-health answer
  uint32_t jitter_ms = 0;   // uniform ±jitter_ms on top of latency_ms (never below 0 in total)
  uint64_t seed = 0;        // drives error injection and jitter; connection k uses (seed, k)
};

// Shared by the server and its connections: whether it stops, and how many requests are being
// answered (from their header read to their answer written).
struct DrainState {
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> busy{0};
};

// The completion handler of every co_spawn: reports on stderr what escaped a coroutine.
void log_escaped(std::exception_ptr e);

class DemoServer {
 public:
  // REQUIRES: `acceptor` is open and listening.
  DemoServer(boost::asio::ip::tcp::acceptor acceptor, DemoOptions options);

  // Spawns the accept loop on the server's strand; it accepts until stop().
  // REQUIRES: called once; this object outlives every run() of the io_context.
  void start();

  // Stops accepting; calls `done` (on the server's strand) once no request is being answered.
  // May be called from any thread, once.
  void stop(std::function<void()> done);

 private:
  boost::asio::awaitable<void> accept_loop();
  void wait_idle(std::function<void()> done);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer idle_timer_;
  const DemoOptions options_;
  DrainState drain_;
  std::atomic<uint64_t> next_connection_{0};
};

}  // namespace rampart::demo
