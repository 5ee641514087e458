// demo-app: the HTTP/1.1 service behind rampart in the demo, the integration tests and the
// benchmarks. Parses the command line, wires the server, runs it until SIGTERM or SIGINT.

#include "demo_server.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// The acceptor bound to host:port and listening; prints the reason and returns false if not.
bool open_acceptor(tcp::acceptor& acceptor, const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    fmt::print(stderr, "demo-app: --host {}: not an IP address\n", host);
    return false;
  }
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    fmt::print(stderr, "demo-app: cannot listen on {}:{}: {}\n", host, port, ec.message());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"demo-app: a small HTTP/1.1 service to put behind rampart"};
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  unsigned threads = 1;
  rampart::demo::DemoOptions options;
  app.add_option("--host", host, "Address to listen on (an IP address)")->capture_default_str();
  app.add_option("--port", port, "Port to listen on; 0 picks a free one")->capture_default_str();
  app.add_option("--name", options.name, "Name echoed in X-Demo-Name and JSON bodies")->required();
  app.add_option("--error-rate", options.error_rate,
                 "Share of non-health requests answered with 500 (0..1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--latency-ms", options.latency_ms, "Delay before every non-health answer")
      ->capture_default_str();
  app.add_option("--jitter-ms", options.jitter_ms, "Uniform ±jitter added to --latency-ms")
      ->capture_default_str();
  auto* seed = app.add_option("--seed", options.seed,
                              "Seed for error injection and jitter (default: random)");
  app.add_option("--threads", threads, "I/O threads")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (seed->count() == 0) {
    std::random_device device;
    options.seed = (static_cast<uint64_t>(device()) << 32) | device();
  }

  asio::io_context ioc(static_cast<int>(threads));
  tcp::acceptor acceptor(ioc);
  if (!open_acceptor(acceptor, host, port)) {
    return 1;
  }
  const tcp::endpoint local = acceptor.local_endpoint();
  rampart::demo::DemoServer server(std::move(acceptor), std::move(options));

  // The first SIGTERM or SIGINT stops gracefully (the requests being answered finish); a
  // second one stops at once.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) {
      return;
    }
    server.stop([&ioc] { ioc.stop(); });
    signals.async_wait([&ioc](const boost::system::error_code&, int) { ioc.stop(); });
  });
  server.start();

  if (local.address().is_v6()) {
    fmt::print("listening on [{}]:{}\n", local.address().to_string(), local.port());
  } else {
    fmt::print("listening on {}:{}\n", local.address().to_string(), local.port());
  }
  std::fflush(stdout);

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) {
    pool.emplace_back([&ioc] { ioc.run(); });
  }
  ioc.run();
  for (auto& t : pool) {
    t.join();
  }
  return 0;
}
