// hold-connections: opens many keep-alive connections to one HTTP/1.1 server, sends one small
// request on each and reads the answer, holds them all idle, then checks that every one is
// still open and still answers a second request. Single-threaded Asio (epoll).
//
// It prints these lines on stdout, each flushed as soon as it is true, so that a script can
// measure the server while the connections are held:
//   opened N/N connections in T s (sources 127.0.0.1..127.0.0.K)
//   holding N connections for S s
//   after S s idle: X/N open, Y/N answered a second request
// Exit status 0 only if every connection opened, answered 2xx, stayed open and answered again.
//
// Loopback targets only get their connections spread over several source addresses
// (127.0.0.1..127.0.0.K), so that a large count does not run out of ephemeral ports.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr uint32_t kConnectionsPerSource = 20000;  // well below the ephemeral range's 28232

struct Options {
  std::string target;  // IPv4 host:port
  uint32_t count = 10000;
  uint32_t hold_seconds = 10;
  std::string path = "/";
  uint32_t sources = 0;  // 0: 1 + (count - 1) / kConnectionsPerSource for loopback targets
  uint32_t parallel = 256;
  uint32_t timeout_ms = 10000;
};

// How one exchange (or connect) ended.
enum class Outcome { kAnswered, kConnectFailed, kIoFailed, kNot2xx, kServerCloses };

const char* describe(Outcome o) {
  switch (o) {
    case Outcome::kAnswered:
      return "answered";
    case Outcome::kConnectFailed:
      return "connect failed";
    case Outcome::kIoFailed:
      return "no answer (error or timeout)";
    case Outcome::kNot2xx:
      return "answered, not 2xx";
    case Outcome::kServerCloses:
      return "answered with Connection: close";
  }
  return "?";
}

void log_escaped(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "hold-connections: a coroutine ended by exception: %s\n", ex.what());
  }
}

// Tallies of one phase: how many connections ended which way, and the first failure's words.
struct Tally {
  uint32_t by_outcome[5] = {};
  std::string first_failure;

  void add(Outcome o, const std::string& detail) {
    ++by_outcome[static_cast<int>(o)];
    if (o != Outcome::kAnswered && first_failure.empty()) {
      first_failure = fmt::format("{}: {}", describe(o), detail);
    }
  }
  uint32_t answered() const { return by_outcome[static_cast<int>(Outcome::kAnswered)]; }
  std::string failures() const {
    std::string s;
    for (int i = 1; i < 5; ++i) {
      if (by_outcome[i] != 0) {
        s += fmt::format("{}{} {}", s.empty() ? "" : ", ", by_outcome[i],
                         describe(static_cast<Outcome>(i)));
      }
    }
    return s;
  }
};

class ConnectionHolder {
 public:
  ConnectionHolder(Options options, tcp::endpoint target, std::vector<asio::ip::address_v4> sources)
      : options_(std::move(options)),
        target_(target),
        sources_(std::move(sources)),
        request_(fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: hold-connections\r\n\r\n",
                             options_.path, options_.target)),
        streams_(options_.count) {}

  // Runs the phases in order; returns the exit status.
  int run() {
    const auto start = Clock::now();
    run_workers(&ConnectionHolder::open_worker);
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    const uint32_t opened = first_.answered();
    std::string source_text = "no source binding";
    if (sources_.size() == 1) {
      source_text = fmt::format("source {}", sources_.front().to_string());
    } else if (sources_.size() > 1) {
      source_text =
          fmt::format("sources {}..{}", sources_.front().to_string(), sources_.back().to_string());
    }
    fmt::print("opened {}/{} connections in {:.2f} s ({})\n", opened, options_.count, took,
               source_text);
    if (opened != options_.count) {
      fmt::print("failed to open: {} (first: {})\n", first_.failures(), first_.first_failure);
    }
    std::fflush(stdout);

    fmt::print("holding {} connections for {} s\n", opened, options_.hold_seconds);
    std::fflush(stdout);
    asio::co_spawn(ioc_, hold(), log_escaped);
    ioc_.run();
    ioc_.restart();

    uint32_t still_open = 0;
    for (auto& s : streams_) {
      if (s && is_open(*s)) {
        ++still_open;
      } else {
        s.reset();
      }
    }
    next_ = 0;
    run_workers(&ConnectionHolder::request_worker);
    fmt::print("after {} s idle: {}/{} open, {}/{} answered a second request\n",
               options_.hold_seconds, still_open, options_.count, second_.answered(),
               options_.count);
    if (second_.answered() != still_open) {
      fmt::print("second request failed: {} (first: {})\n", second_.failures(),
                 second_.first_failure);
    }
    std::fflush(stdout);
    const bool all_good = opened == options_.count && still_open == options_.count &&
                          second_.answered() == options_.count;
    return all_good ? 0 : 1;
  }

 private:
  using Worker = asio::awaitable<void> (ConnectionHolder::*)();

  // Runs `parallel` copies of `worker` to completion.
  void run_workers(Worker worker) {
    for (uint32_t i = 0; i < options_.parallel; ++i) {
      asio::co_spawn(ioc_, (this->*worker)(), log_escaped);
    }
    ioc_.run();
    ioc_.restart();
  }

  asio::awaitable<void> open_worker() {
    while (next_ < options_.count) {
      const uint32_t i = next_++;
      auto stream = std::make_unique<beast::tcp_stream>(ioc_);
      Outcome o = co_await connect(stream.get(), i);
      if (o == Outcome::kAnswered) {
        o = co_await exchange(stream.get());
      }
      first_.add(o, fmt::format("connection {}", i));
      if (o == Outcome::kAnswered) {
        streams_[i] = std::move(stream);
      }
    }
  }

  asio::awaitable<void> request_worker() {
    while (next_ < options_.count) {
      const uint32_t i = next_++;
      if (!streams_[i]) {
        continue;
      }
      second_.add(co_await exchange(streams_[i].get()), fmt::format("connection {}", i));
    }
  }

  asio::awaitable<void> hold() {
    asio::steady_timer timer(ioc_, std::chrono::seconds(options_.hold_seconds));
    co_await timer.async_wait(kUseTuple);
  }

  // Opens the socket from its source address and connects. kAnswered means connected.
  asio::awaitable<Outcome> connect(beast::tcp_stream* stream, uint32_t index) {
    boost::system::error_code ec;
    if (!sources_.empty()) {
      auto& socket = stream->socket();
      socket.open(tcp::v4(), ec);
      if (!ec) {
        // Let connect() choose the port per destination, not bind() per source address.
        const int on = 1;
        ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
        socket.bind(tcp::endpoint(sources_[index % sources_.size()], 0), ec);
      }
      if (ec) {
        note_error(ec);
        co_return Outcome::kConnectFailed;
      }
    }
    stream->expires_after(std::chrono::milliseconds(options_.timeout_ms));
    auto [cec] = co_await stream->async_connect(target_, kUseTuple);
    if (cec) {
      note_error(cec);
      co_return Outcome::kConnectFailed;
    }
    co_return Outcome::kAnswered;
  }

  // One request and its answer on an open connection.
  asio::awaitable<Outcome> exchange(beast::tcp_stream* stream) {
    stream->expires_after(std::chrono::milliseconds(options_.timeout_ms));
    auto [wec, wn] = co_await asio::async_write(*stream, asio::buffer(request_), kUseTuple);
    if (wec) {
      note_error(wec);
      co_return Outcome::kIoFailed;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    auto [rec, rn] = co_await http::async_read(*stream, buffer, parser, kUseTuple);
    stream->expires_never();
    if (rec) {
      note_error(rec);
      co_return Outcome::kIoFailed;
    }
    const auto& res = parser.get();
    if (res.result_int() < 200 || res.result_int() > 299) {
      co_return Outcome::kNot2xx;
    }
    co_return res.keep_alive() ? Outcome::kAnswered : Outcome::kServerCloses;
  }

  // Open: nothing to read and no end of stream, checked without blocking.
  static bool is_open(beast::tcp_stream& stream) {
    char c = 0;
    const ssize_t n = ::recv(stream.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void note_error(const boost::system::error_code& ec) {
    if (first_error_.empty()) {
      first_error_ = ec.message();
      fmt::print(stderr, "hold-connections: first socket error: {}\n", first_error_);
    }
  }

  asio::io_context ioc_{1};
  const Options options_;
  const tcp::endpoint target_;
  const std::vector<asio::ip::address_v4> sources_;
  const std::string request_;
  std::vector<std::unique_ptr<beast::tcp_stream>> streams_;  // [i]: connection i, if open
  uint32_t next_ = 0;  // the next connection index a worker takes
  Tally first_;
  Tally second_;
  std::string first_error_;
};

// "127.0.0.1:8080" → endpoint; false if it is not an IPv4 address and a port.
bool parse_target(const std::string& text, tcp::endpoint& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return false;
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address_v4(text.substr(0, colon), ec);
  unsigned port = 0;
  const char* end = text.data() + text.size();
  auto [at, perr] = std::from_chars(text.data() + colon + 1, end, port);
  if (ec || perr != std::errc() || at != end || port == 0 || port > 65535) {
    return false;
  }
  out = tcp::endpoint(address, static_cast<unsigned short>(port));
  return true;
}

// Raises the soft descriptor limit to what `count` connections need; false if it cannot.
bool raise_fd_limit(uint32_t count) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return false;
  }
  const rlim_t needed = static_cast<rlim_t>(count) + 64;
  if (limit.rlim_cur >= needed) {
    return true;
  }
  if (limit.rlim_max < needed) {
    fmt::print(stderr,
               "hold-connections: {} connections need {} descriptors; the hard limit is {} "
               "(raise it with ulimit -Hn, or lower --count)\n",
               count, needed, limit.rlim_max);
    return false;
  }
  limit.rlim_cur = needed;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hold-connections: hold many idle keep-alive connections open to an HTTP server"};
  Options options;
  app.add_option("--target", options.target, "Server address, IPv4 host:port")->required();
  app.add_option("--count", options.count, "Connections to open")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  app.add_option("--hold-seconds", options.hold_seconds, "How long to hold them idle")
      ->capture_default_str();
  app.add_option("--path", options.path, "Path of the request sent on each")->capture_default_str();
  app.add_option("--sources", options.sources,
                 "Loopback source addresses 127.0.0.1..127.0.0.K to spread over (0: as needed)")
      ->check(CLI::Range(0u, 254u))
      ->capture_default_str();
  app.add_option("--parallel", options.parallel, "Connects and requests in flight at once")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  app.add_option("--timeout-ms", options.timeout_ms, "Limit for each connect and exchange")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  tcp::endpoint target;
  if (!parse_target(options.target, target)) {
    fmt::print(stderr, "hold-connections: --target {}: expected an IPv4 address and a port\n",
               options.target);
    return 2;
  }
  std::vector<asio::ip::address_v4> sources;
  if (target.address().is_loopback()) {
    uint32_t k = options.sources;
    if (k == 0) {
      k = 1 + (options.count - 1) / kConnectionsPerSource;
    }
    for (uint32_t i = 1; i <= k; ++i) {
      sources.push_back(asio::ip::make_address_v4((127u << 24) | i));
    }
  } else if (options.sources > 1) {
    fmt::print(stderr, "hold-connections: --sources applies to loopback targets only\n");
    return 2;
  }
  if (!raise_fd_limit(options.count)) {
    return 2;
  }
  ConnectionHolder holder(options, target, std::move(sources));
  return holder.run();
}
