#pragma once
// The demo app's HTTP/1.1 server: one acceptor, a coroutine per connection, keep-alive.
// Thread safety: any number of threads may run the io_context; each connection is bound to
// its own strand.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>

namespace rampart::demo {

struct DemoOptions {
  std::string name;         // echoed in X-Demo-Name and in JSON bodies
  double error_rate = 0.0;  // 0..1: the share of non-health requests answered with a 500
  uint32_t latency_ms = 0;  // added before every non-health answer
  uint32_t jitter_ms = 0;   // uniform ±jitter_ms on top of latency_ms (never below 0 in total)
  uint64_t seed = 0;        // drives error injection and jitter; connection k uses (seed, k)
};

// The completion handler of every co_spawn: reports on stderr what escaped a coroutine.
void log_escaped(std::exception_ptr e);

class DemoServer {
 public:
  // REQUIRES: `acceptor` is open and listening.
  DemoServer(boost::asio::ip::tcp::acceptor acceptor, DemoOptions options);

  // Accepts until the io_context stops or the acceptor is closed. Spawn it once.
  // REQUIRES: this object outlives every run() of the io_context.
  boost::asio::awaitable<void> accept_loop();

 private:
  boost::asio::ip::tcp::acceptor acceptor_;
  const DemoOptions options_;
  std::atomic<uint64_t> next_connection_{0};
};

}  // namespace rampart::demo
