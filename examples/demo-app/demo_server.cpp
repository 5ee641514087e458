#include "demo_server.hpp"

#include "endpoint.hpp"

#include <fmt/format.h>
#include <xxhash.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace rampart::demo {

void log_escaped(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "demo-app: a coroutine ended by exception: %s\n", ex.what());
  } catch (...) {
    std::fprintf(stderr, "demo-app: a coroutine ended by an unknown exception\n");
  }
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kStreamChunk = 16 * 1024;  // per write of /bytes, per chunk of /chunked
constexpr std::size_t kReadChunk = 64 * 1024;    // request body bytes per read
constexpr uint64_t kEchoLimit = 16 * 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr uint64_t kLingerBytes = 64 * 1024 * 1024;
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

// kStreamChunk + 26 bytes of the pattern from offset 0: the bytes from any offset `i` on
// start at data() + i % 26.
const std::array<char, kStreamChunk + 26>& pattern_buffer() {
  static const auto buffer = [] {
    std::array<char, kStreamChunk + 26> b{};
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i] = pattern_byte(i);
    }
    return b;
  }();
  return buffer;
}

// A malformed request, as opposed to a peer that went away.
bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// The bijective finalizer of SplitMix64.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// SplitMix64: 8 bytes of state per connection (a Mersenne Twister would take 2.5 KiB), plenty
// for error injection and jitter. Connection `id` starts at an unrelated point of the cycle.
class SplitMix64 {
 public:
  using result_type = uint64_t;
  SplitMix64(uint64_t seed, uint64_t id) : state_(mix64(seed) ^ mix64(~id)) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return mix64(state_ += 0x9e3779b97f4a7c15ULL); }

 private:
  uint64_t state_;
};

// /exit/CODE: the process ends kExitDelayMs after its answer was written, abruptly (no
// destructors, no draining), as a crash would; other connections are cut.
void exit_soon(int code) {
  std::thread([code] {
    std::this_thread::sleep_for(std::chrono::milliseconds(kExitDelayMs));
    std::fflush(nullptr);
    std::_Exit(code);
  }).detach();
}

struct XxhStateDeleter {
  void operator()(XXH64_state_t* state) const { XXH64_freeState(state); }
};

// One client connection: read → handle → write → keep-alive? Lives in the frame of
// serve_connection(); every member runs on the connection's strand.
class Connection {
 public:
  Connection(tcp::socket socket, const DemoOptions* options, DrainState* drain, uint64_t id)
      : stream_(std::move(socket)), options_(options), drain_(drain), rng_(options->seed, id) {}

  asio::awaitable<void> run();

 private:
  using Parser = http::request_parser<http::buffer_body>;
  enum class BodySink { kDiscard, kCount, kEcho };
  enum class BodyRead { kComplete, kTooLarge, kBadRequest, kPeerGone };

  // Answers the request whose header parser_ holds. False: close the connection.
  asio::awaitable<bool> handle();
  asio::awaitable<BodyRead> read_body(BodySink sink);
  asio::awaitable<void> sleep_ms(uint64_t ms);
  // A whole response from one string. 204 and 304 get no body; HEAD gets the headers only.
  asio::awaitable<bool> write_small(unsigned status, std::string body, std::string content_type);
  asio::awaitable<bool> write_pattern(uint64_t size, bool chunked);
  // Half-closes, then reads what the client still sends for a little while, so that the
  // answer is not lost to a reset caused by unread request bytes.
  asio::awaitable<void> linger_close();

  uint64_t draw_latency_ms();
  bool draw_injected_error();
  template <class Body>
  void set_common_fields(http::response<Body>& res, unsigned status) const;

  beast::tcp_stream stream_;
  const DemoOptions* options_;
  DrainState* drain_;
  SplitMix64 rng_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::vector<char> scratch_;  // kReadChunk bytes once a body was read; empty before
  std::unique_ptr<XXH64_state_t, XxhStateDeleter> xxh_;
  std::string echo_;
  uint64_t body_bytes_ = 0;
  std::string body_error_;
  // Of the request being answered.
  bool head_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

asio::awaitable<void> Connection::run() {
  bool closed_by_peer = false;
  for (;;) {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(boost::none);
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, *parser_, kUseTuple);
    if (ec) {
      closed_by_peer = !is_parse_error(ec);
      if (!closed_by_peer) {
        head_ = false;
        keep_alive_ = false;
        version_ = 11;
        co_await write_small(400, error_body("bad_request", ec.message(), options_->name),
                             std::string(kJson));
      }
      break;
    }
    drain_->busy.fetch_add(1);
    const bool again = co_await handle();
    drain_->busy.fetch_sub(1);
    if (!again || drain_->stopping) {
      break;
    }
  }
  if (closed_by_peer) {
    error_code ignored;
    stream_.socket().close(ignored);
    co_return;
  }
  co_await linger_close();
}

asio::awaitable<bool> Connection::handle() {
  const auto& req = parser_->get();
  const std::string target(sv(req.target()));
  const std::string method(sv(req.method_string()));
  const Endpoint endpoint = route(target);
  head_ = req.method() == http::verb::head;
  keep_alive_ = req.keep_alive();
  version_ = req.version();
  const std::string& name = options_->name;

  BodySink sink = BodySink::kDiscard;
  if (endpoint.kind == EndpointKind::kCount) {
    sink = BodySink::kCount;
  } else if (endpoint.kind == EndpointKind::kEcho) {
    sink = BodySink::kEcho;
    const auto length = parser_->content_length();
    if (length && *length > kEchoLimit) {
      keep_alive_ = false;
      co_await write_small(413, error_body("body_too_large", "/echo takes at most 16 MiB", name),
                           std::string(kJson));
      co_return false;
    }
  }
  if (!parser_->is_done() && beast::iequals(sv(req[http::field::expect]), "100-continue")) {
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kContinue), kUseTuple);
    if (ec) {
      co_return false;
    }
  }
  switch (co_await read_body(sink)) {
    case BodyRead::kComplete:
      break;
    case BodyRead::kPeerGone:
      co_return false;
    case BodyRead::kBadRequest:
      keep_alive_ = false;
      co_await write_small(400, error_body("bad_request", body_error_, name), std::string(kJson));
      co_return false;
    case BodyRead::kTooLarge:
      keep_alive_ = false;
      co_await write_small(413, error_body("body_too_large", "/echo takes at most 16 MiB", name),
                           std::string(kJson));
      co_return false;
  }

  if (endpoint.kind == EndpointKind::kHealth) {
    co_return co_await write_small(200, health_body(name), std::string(kJson));
  }
  if (const uint64_t wait = draw_latency_ms(); wait > 0) {
    co_await sleep_ms(wait);
  }
  if (draw_injected_error()) {
    co_return co_await write_small(500, injected_error_body(name), std::string(kJson));
  }
  switch (endpoint.kind) {
    case EndpointKind::kBytes:
      co_return co_await write_pattern(endpoint.number, false);
    case EndpointKind::kChunked:
      co_return co_await write_pattern(endpoint.number, true);
    case EndpointKind::kCount:
      co_return co_await write_small(200, count_body(body_bytes_, XXH64_digest(xxh_.get())),
                                     std::string(kJson));
    case EndpointKind::kEcho: {
      std::string content_type(sv(req[http::field::content_type]));
      co_return co_await write_small(200, std::move(echo_), std::move(content_type));
    }
    case EndpointKind::kSleep:
      co_await sleep_ms(endpoint.number);
      co_return co_await write_small(200, sleep_body(endpoint.number, name), std::string(kJson));
    case EndpointKind::kStatus:
      co_return co_await write_small(static_cast<unsigned>(endpoint.number),
                                     status_body(static_cast<unsigned>(endpoint.number), name),
                                     std::string(kJson));
    case EndpointKind::kCountdown: {
      // A version that passes its checks and then goes bad: the post-promotion verification's
      // test. Counted across the process's connections.
      static std::atomic<uint64_t> served{0};
      const unsigned status = served.fetch_add(1) < endpoint.number ? 200 : 503;
      co_return co_await write_small(status, status_body(status, name), std::string(kJson));
    }
    case EndpointKind::kHeaders: {
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& field : req) {
        fields.emplace_back(sv(field.name_string()), sv(field.value()));
      }
      co_return co_await write_small(200, headers_body(fields), std::string(kJson));
    }
    case EndpointKind::kBroken: {
      const std::string_view bytes = kBrokenAnswers[endpoint.number].bytes;
      co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), kUseTuple);
      co_return false;  // and close
    }
    case EndpointKind::kEnv: {
      // Test-only: which value (of a secret, say) this process was started with.
      const std::string variable(endpoint.name);
      const char* value = std::getenv(variable.c_str());
      if (value == nullptr) {
        co_return co_await write_small(404, error_body("not_set", variable + " is not set", name),
                                       std::string(kJson));
      }
      co_return co_await write_small(200, value, "text/plain");
    }
    case EndpointKind::kExit:
      keep_alive_ = false;
      co_await write_small(200, exit_body(endpoint.number, name), std::string(kJson));
      exit_soon(static_cast<int>(endpoint.number));
      co_return false;
    case EndpointKind::kBadArgument:
      co_return co_await write_small(
          400,
          error_body("bad_argument",
                     fmt::format("{}: /bytes/N and /chunked/N take a byte count, /sleep/MS at "
                                 "most {} ms, /status/CODE a code in 200..599, /exit/CODE one "
                                 "in 0..255, /broken/KIND bad-chunk, cut-body or "
                                 "transfer-coding, /env/NAME a variable's name",
                                 path_of(target), kMaxSleepMs),
                     name),
          std::string(kJson));
    case EndpointKind::kHealth:
    case EndpointKind::kDefault:
      break;
  }
  co_return co_await write_small(200, default_body(name, method, target), std::string(kJson));
}

asio::awaitable<Connection::BodyRead> Connection::read_body(BodySink sink) {
  body_bytes_ = 0;
  echo_.clear();
  if (sink == BodySink::kCount) {
    if (!xxh_) {
      xxh_.reset(XXH64_createState());
    }
    XXH64_reset(xxh_.get(), 0);
  }
  if (!parser_->is_done()) {
    scratch_.resize(kReadChunk);
  }
  while (!parser_->is_done()) {
    auto& body = parser_->get().body();
    body.data = scratch_.data();
    body.size = scratch_.size();
    auto [ec, n] = co_await http::async_read(stream_, buffer_, *parser_, kUseTuple);
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      body_error_ = ec.message();
      co_return is_parse_error(ec) ? BodyRead::kBadRequest : BodyRead::kPeerGone;
    }
    const std::size_t got = scratch_.size() - parser_->get().body().size;
    body_bytes_ += got;
    if (sink == BodySink::kCount) {
      XXH64_update(xxh_.get(), scratch_.data(), got);
    } else if (sink == BodySink::kEcho) {
      if (echo_.size() + got > kEchoLimit) {
        co_return BodyRead::kTooLarge;
      }
      echo_.append(scratch_.data(), got);
    }
  }
  co_return BodyRead::kComplete;
}

asio::awaitable<void> Connection::sleep_ms(uint64_t ms) {
  asio::steady_timer timer(stream_.get_executor(), std::chrono::milliseconds(ms));
  co_await timer.async_wait(kUseTuple);
}

template <class Body>
void Connection::set_common_fields(http::response<Body>& res, unsigned status) const {
  res.version(version_);
  res.result(status);
  res.set("X-Demo-Name", options_->name);
}

asio::awaitable<bool> Connection::write_small(unsigned status, std::string body,
                                              std::string content_type) {
  http::response<http::string_body> res;
  set_common_fields(res, status);
  if (status != 204 && status != 304) {
    if (!content_type.empty()) {
      res.set(http::field::content_type, content_type);
    }
    res.body() = std::move(body);
    res.prepare_payload();
    if (head_) {
      res.body().clear();  // Content-Length stays that of the GET answer
    }
  }
  keep_alive_ = keep_alive_ && !drain_->stopping;
  res.keep_alive(keep_alive_);
  auto [ec, n] = co_await http::async_write(stream_, res, kUseTuple);
  co_return !ec && keep_alive_;
}

asio::awaitable<bool> Connection::write_pattern(uint64_t size, bool chunked) {
  http::response<http::buffer_body> res;
  set_common_fields(res, 200);
  res.set(http::field::content_type, "application/octet-stream");
  if (chunked && version_ >= 11) {
    res.chunked(true);
  } else if (chunked) {
    keep_alive_ = false;  // an HTTP/1.0 client: the body ends where the connection does
  } else {
    res.content_length(size);
  }
  keep_alive_ = keep_alive_ && !drain_->stopping;
  res.keep_alive(keep_alive_);
  http::response_serializer<http::buffer_body> serializer(res);
  res.body().data = nullptr;
  res.body().more = !head_;
  auto [ec, n] = co_await http::async_write_header(stream_, serializer, kUseTuple);
  if (ec || head_) {
    co_return !ec && keep_alive_;
  }
  const auto& pattern = pattern_buffer();
  uint64_t sent = 0;
  do {
    const auto piece = static_cast<std::size_t>(std::min<uint64_t>(size - sent, kStreamChunk));
    res.body().data = const_cast<char*>(pattern.data() + sent % 26);
    res.body().size = piece;
    res.body().more = sent + piece < size;
    auto [wec, wn] = co_await http::async_write(stream_, serializer, kUseTuple);
    if (wec == http::error::need_buffer) {
      wec = {};
    }
    if (wec) {
      co_return false;
    }
    sent += piece;
  } while (sent < size);
  co_return keep_alive_;
}

asio::awaitable<void> Connection::linger_close() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLingerTime);
  scratch_.resize(kReadChunk);
  uint64_t drained = 0;
  while (drained < kLingerBytes) {
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(scratch_), kUseTuple);
    if (ec) {
      break;
    }
    drained += n;
  }
  stream_.socket().close(ignored);
}

uint64_t Connection::draw_latency_ms() {
  int64_t ms = options_->latency_ms;
  if (options_->jitter_ms > 0) {
    const int64_t jitter = options_->jitter_ms;
    ms += std::uniform_int_distribution<int64_t>(-jitter, jitter)(rng_);
  }
  return static_cast<uint64_t>(std::max<int64_t>(ms, 0));
}

bool Connection::draw_injected_error() {
  if (options_->error_rate <= 0.0) {
    return false;
  }
  return std::bernoulli_distribution(std::min(options_->error_rate, 1.0))(rng_);
}

// By value: the frame owns the socket; `options` outlives the io_context's run.
asio::awaitable<void> serve_connection(tcp::socket socket, const DemoOptions* options,
                                       DrainState* drain, uint64_t id) {
  Connection connection(std::move(socket), options, drain, id);
  co_await connection.run();
}

}  // namespace

DemoServer::DemoServer(tcp::acceptor acceptor, DemoOptions options)
    : strand_(asio::make_strand(acceptor.get_executor())),
      acceptor_(std::move(acceptor)),
      idle_timer_(strand_),
      options_(std::move(options)) {}

void DemoServer::start() { asio::co_spawn(strand_, accept_loop(), log_escaped); }

void DemoServer::stop(std::function<void()> done) {
  drain_.stopping = true;
  asio::post(strand_, [this, done = std::move(done)]() mutable {
    error_code ignored;
    acceptor_.close(ignored);
    wait_idle(std::move(done));
  });
}

// On the strand. A poll: a request in flight has no way to signal the strand cheaply, and 10 ms
// is nothing against a stop's grace time.
void DemoServer::wait_idle(std::function<void()> done) {
  if (drain_.busy == 0) {
    done();
    return;
  }
  idle_timer_.expires_after(std::chrono::milliseconds(10));
  idle_timer_.async_wait(
      [this, done = std::move(done)](const error_code&) mutable { wait_idle(std::move(done)); });
}

asio::awaitable<void> DemoServer::accept_loop() {
  for (;;) {
    tcp::socket socket(asio::make_strand(acceptor_.get_executor()));
    auto [ec] = co_await acceptor_.async_accept(socket, kUseTuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      co_return;
    }
    if (ec) {
      // Out of descriptors or similar: say so, give it a moment, go on.
      std::fprintf(stderr, "demo-app: accept: %s\n", ec.message().c_str());
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const uint64_t id = next_connection_.fetch_add(1, std::memory_order_relaxed);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_connection(std::move(socket), &options_, &drain_, id),
                   log_escaped);
  }
}

}  // namespace rampart::demo
