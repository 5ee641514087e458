#include "gateway/session.hpp"

#include "gateway/request_routing.hpp"
#include "gateway/worker.hpp"
#include "http/chunked.hpp"
#include "http/error_response.hpp"
#include "http/headers.hpp"
#include "http/upstream_response.hpp"
#include "http/wire.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace rampart::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kAwait = asio::as_tuple(kUseAwaitable);
constexpr std::size_t kUpstreamHeaderLimit = 64 * 1024;
constexpr int kMaxStaleRetries = 2;
// How long an idle keep-alive connection keeps its read buffer (see serve_connection).
constexpr milliseconds kReadWindow{500};
constexpr std::size_t kFirstRead = 4096;

using RequestParser = bhttp::request_parser<bhttp::buffer_body>;

// Releases the per-upstream in-flight count when a request leaves the upstream.
class OutstandingGuard {
 public:
  explicit OutstandingGuard(UpstreamState& state) : state_(&state) {
    ++state_->outstanding;
    ++state_->requests;
  }
  ~OutstandingGuard() { --state_->outstanding; }
  OutstandingGuard(const OutstandingGuard&) = delete;
  OutstandingGuard& operator=(const OutstandingGuard&) = delete;

 private:
  UpstreamState* state_;
};

// Keeps the worker's list of sessions and the connection count right however a session ends.
class SessionRegistration {
 public:
  SessionRegistration(Worker* worker, SessionEntry* entry) : worker_(worker), entry_(entry) {
    worker_->add_session(entry_);
  }
  ~SessionRegistration() {
    worker_->remove_session(entry_);
    worker_->release_connection_slot();
  }
  SessionRegistration(const SessionRegistration&) = delete;
  SessionRegistration& operator=(const SessionRegistration&) = delete;

 private:
  Worker* worker_;
  SessionEntry* entry_;
};

// A relay buffer borrowed from the worker for the duration of one request.
class RelayBuffer {
 public:
  explicit RelayBuffer(Worker* worker) : worker_(worker), data_(worker->take_relay_buffer()) {}
  ~RelayBuffer() { worker_->return_relay_buffer(std::move(data_)); }
  RelayBuffer(const RelayBuffer&) = delete;
  RelayBuffer& operator=(const RelayBuffer&) = delete;
  char* data() { return data_.get(); }

 private:
  Worker* worker_;
  std::unique_ptr<char[]> data_;
};

// RFC 9112 §2.2: empty lines (CRLF, or a bare LF) before a message's start line are ignored;
// a client may send one after a body.
[[gnu::always_inline]] inline void skip_empty_lines(beast::flat_buffer& buffer) {
  const auto* p = static_cast<const char*>(buffer.data().data());
  const std::size_t size = buffer.size();
  if (size == 0 || (p[0] != '\r' && p[0] != '\n')) [[likely]] {
    return;
  }
  std::size_t n = 1;
  while (n < size && (p[n] == '\r' || p[n] == '\n')) {
    ++n;
  }
  buffer.consume(n);
}

// Parses what `buffer` holds, without reading: need_more when the parser wants more input
// than is there (or `until_header` is set and the header is not whole yet), else what
// parser.put() said (success included). Most messages arrive whole in one read, so the callers
// try this first and suspend only when it answers need_more: a coroutine call costs a frame
// and a resumption even when it does no I/O. A request's header is read as RFC 9112 asks:
// empty lines before it are skipped (§2.2), and HTTP/1.2 .. 1.9 is read as HTTP/1.1 (§2.3).
template <class Parser>
boost::system::error_code parse_buffered(beast::flat_buffer& buffer, Parser& parser,
                                         bool until_header) {
  if constexpr (Parser::is_request::value) {
    if (until_header && !parser.got_some()) {
      skip_empty_lines(buffer);
    }
  }
  boost::system::error_code ec = bhttp::error::need_more;
  while (buffer.size() > 0) {
    ec = {};
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec) [[unlikely]] {
      if constexpr (Parser::is_request::value) {
        if (until_header && used == 0 && ec == bhttp::error::bad_version &&
            http::read_as_http11(static_cast<char*>(buffer.data().data()), buffer.size())) {
          continue;  // HTTP/1.2 and later 1.x: once more, as HTTP/1.1
        }
      }
      return ec;
    }
    if (!until_header || parser.is_header_done()) {
      return ec;
    }
    ec = bhttp::error::need_more;
    if (used == 0) {
      break;  // what is buffered is not enough to go on
    }
  }
  return ec;
}

// Beast's http::async_read_some (or, with `until_header`, async_read_header) without its
// composed operation: parse_buffered(), reading from `s` whenever it needs more. Errors are as
// Beast's: need_buffer (the body buffer is full) passes through, end_of_stream when the peer
// closed before sending anything, partial_message when it closed mid-message; a socket error
// is returned as it is (classify() it). The framing of a chunked body that the parser keeps
// buffered is held to `framing_limit` bytes (a http::ChunkFramingError beyond it).
template <class Parser>
Awaitable<boost::system::error_code> parse_some(TimedSocket& s, beast::flat_buffer& buffer,
                                                Parser& parser, bool until_header,
                                                std::size_t framing_limit) {
  for (;;) {
    boost::system::error_code ec = parse_buffered(buffer, parser, until_header);
    if (ec != bhttp::error::need_more) {
      co_return ec;
    }
    if (buffer.size() > 0 && parser.is_header_done() && parser.chunked()) {
      ec = http::check_pending_chunk_framing(
          std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()),
          framing_limit);
      if (ec) {
        co_return ec;
      }
    }
    const std::size_t want =
        std::min<std::size_t>(std::max<std::size_t>(512, buffer.capacity() - buffer.size()), 65536);
    auto [read_ec, n] = co_await s.async_read_some(buffer.prepare(want), kAwait);
    if (read_ec == asio::error::eof) {
      if (!parser.got_some()) {
        co_return bhttp::error::end_of_stream;
      }
      ec = {};
      parser.put_eof(ec);
      co_return ec;
    }
    if (read_ec) {
      co_return read_ec;
    }
    buffer.commit(n);
  }
}

struct RelayOutcome {
  boost::system::error_code read_error;   // on the side the body comes from
  boost::system::error_code write_error;  // on the side it goes to
  uint64_t body_bytes = 0;
  bool wrote = false;  // some of the message went out (false: `out` has seen nothing of it)
};

// Where a parser puts body bytes (buffer_body's contract) and how much room is left there.
void set_body_target(RequestParser& parser, char* data, std::size_t size) {
  parser.get().body().data = data;
  parser.get().body().size = size;
}
std::size_t body_left(RequestParser& parser) { return parser.get().body().size; }
void set_body_target(http::UpstreamResponse& parser, char* data, std::size_t size) {
  parser.body_target(data, size);
}
std::size_t body_left(http::UpstreamResponse& parser) { return parser.body_left(); }

// The head to send before the body: `size` bytes already at the start of the relay buffer,
// then `overflow` (the part that did not fit there).
struct RelayHead {
  std::size_t size = 0;
  std::string_view overflow{};
  bool chunked_out = false;       // re-chunk the body (the head says Transfer-Encoding: chunked)
  std::size_t framing_limit = 0;  // bounds the body's chunk framing (parse_some)
};

// Streams a message whose header `parser` has read from `in` to `out`: the head first, then
// the body in pieces of at most Worker::kRelayBufferSize read into `buf`, right after the
// head's bytes there, so a small message leaves in one contiguous write. Memory stays
// bounded whatever the body's size or framing. With head.chunked_out the body is re-chunked
// piece by piece; otherwise it is copied as it comes.
template <class Parser>
Awaitable<RelayOutcome> relay(TimedSocket& in, beast::flat_buffer& in_buffer, Parser& parser,
                              RelayHead head, TimedSocket& out, char* buf,
                              milliseconds read_timeout, milliseconds write_timeout) {
  RelayOutcome outcome;
  constexpr std::size_t kCap = Worker::kRelayBufferSize;
  bool head_sent = false;
  char chunk_line[20];
  for (;;) {
    const std::size_t offset = head_sent ? 0 : head.size;
    char* data = buf + offset;
    std::size_t got = 0;
    if (!parser.is_done()) {
      set_body_target(parser, data, kCap - offset);
      in.expires_after(read_timeout);
      auto ec = parse_buffered(in_buffer, parser, false);
      if (ec == bhttp::error::need_more) {
        ec = in.classify(co_await parse_some(in, in_buffer, parser, false, head.framing_limit));
      }
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        outcome.read_error = ec;
        co_return outcome;
      }
      got = kCap - offset - body_left(parser);
      outcome.body_bytes += got;
      if (got == 0 && !parser.is_done()) {
        continue;  // only framing (a chunk header) was parsed
      }
    }
    const bool last = parser.is_done();
    std::array<asio::const_buffer, 6> pieces;
    std::size_t count = 0;
    // Head bytes in `buf` that go out together with the body piece behind them.
    std::size_t lead = 0;
    if (!head_sent) {
      if (head.overflow.empty()) {
        lead = offset;
      } else {
        if (offset > 0) {
          pieces[count++] = asio::const_buffer(buf, offset);
        }
        pieces[count++] = asio::buffer(head.overflow);
      }
    }
    if (head.chunked_out) {
      if (lead > 0) {
        pieces[count++] = asio::const_buffer(buf, lead);
      }
      if (got > 0) {
        pieces[count++] = asio::const_buffer(chunk_line, http::write_chunk_size(got, chunk_line));
        pieces[count++] = asio::const_buffer(data, got);
        pieces[count++] = asio::buffer(http::kCrlf);
      }
      if (last) {
        pieces[count++] = asio::buffer(http::kLastChunk);
      }
    } else if (lead + got > 0) {
      pieces[count++] = asio::const_buffer(data - lead, lead + got);
    }
    head_sent = true;
    if (count > 0) {
      outcome.wrote = true;
      out.expires_after(write_timeout);
      auto [ec, n] = co_await asio::async_write(
          out, std::span<const asio::const_buffer>(pieces.data(), count), kAwait);
      if (ec) {
        outcome.write_error = out.classify(ec);
        co_return outcome;
      }
    }
    if (last) {
      co_return outcome;
    }
  }
}

uint64_t elapsed_ns(Clock::time_point since) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - since).count());
}

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor;
}

// A pooled connection the upstream may have closed while it sat idle. One peek, no data read.
bool looks_closed(UpstreamConnection& conn) {
  char byte;
  ssize_t n = ::recv(conn.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// The authority of the upstream with id `upstream_id` among `version`'s, as configured.
std::string_view upstream_authority(const VersionRoute* version, uint32_t upstream_id) {
  for (const auto& u : version->upstreams) {
    if (u.id == upstream_id) {
      return u.authority;
    }
  }
  return {};
}

// What a request became, for `rampart tail` (gateway/tail.hpp).
struct TailNote {
  std::string_view service;
  std::string_view version;
  unsigned status = 0;
  const VersionRoute* route = nullptr;  // with upstream_id: the upstream it went to, if any
  uint32_t upstream_id = UINT32_MAX;
  uint8_t failure = kNoFailure;
};

// Writes the request's event into the worker's ring. Only called while someone tails.
[[gnu::noinline]] void record_tail(Worker* worker, Clock::time_point started,
                                   const bhttp::request_header<>& req, const TailNote& note) {
  if (note.service.empty()) {
    return;  // no service matched: no tail can ask for it
  }
  TailEvent e;
  e.unix_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  e.latency_us = static_cast<uint32_t>(
      std::min<uint64_t>(elapsed_ns(started) / 1000, std::numeric_limits<uint32_t>::max()));
  e.status = static_cast<uint16_t>(note.status);
  e.failure = note.failure;
  e.method.set(req.method_string());
  e.service.set(note.service);
  e.version.set(note.version);
  const std::string_view target = req.target();
  e.path.set(target.substr(0, target.find('?')));
  if (note.route != nullptr && note.upstream_id != UINT32_MAX) {
    e.upstream.set(upstream_authority(note.route, note.upstream_id));
  }
  worker->tail_ring().push(e);
}

// The request path's whole cost while nobody tails: one relaxed load.
[[gnu::always_inline]] inline void tail_request(Worker* worker, Clock::time_point started,
                                                const bhttp::request_header<>& req,
                                                const TailNote& note) {
  if (worker->tail().recording(started)) [[unlikely]] {
    record_tail(worker, started, req, note);
  }
}

struct Acquired {
  std::unique_ptr<UpstreamConnection> conn;
  bhttp::status status = bhttp::status::bad_gateway;  // when conn is null
  metrics::Rejection rejection = metrics::Rejection::kUpstreamUnavailable;
  std::string detail;
};

// The upstream of `version` to use next: not in `tried`, not ejected; least outstanding
// requests or round robin. `target` is null when none is left.
struct UpstreamPick {
  const UpstreamTarget* target = nullptr;
  std::size_t index = 0;
  bool any_ejected = false;  // some upstream was passed over because it is ejected
};

UpstreamPick pick_upstream(Worker* worker, const ServiceRoute* service, const VersionRoute* version,
                           uint64_t tried) {
  const auto& ups = version->upstreams;
  const std::size_t n = std::min<std::size_t>(ups.size(), 64);
  const auto now = Clock::now();
  const std::size_t start = worker->next_rotation() % (n == 0 ? 1 : n);
  UpstreamPick pick;
  uint32_t best_load = UINT32_MAX;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    if (tried & (uint64_t{1} << i)) {
      continue;
    }
    const UpstreamState& st = worker->upstream(ups[i].id);
    if (st.ejected_until > now) {
      pick.any_ejected = true;
      continue;
    }
    if (service->balance == config::Balance::kRoundRobin) {
      pick.target = &ups[i];
      pick.index = i;
      break;
    }
    if (st.outstanding < best_load) {
      pick.target = &ups[i];
      pick.index = i;
      best_load = st.outstanding;
    }
  }
  return pick;
}

// A pooled connection to `target`, or null. With `must_be_open`, connections the upstream
// has closed while they sat idle are dropped rather than answered.
std::unique_ptr<UpstreamConnection> take_idle(Worker* worker, const UpstreamTarget& target,
                                              bool must_be_open) {
  UpstreamState& st = worker->upstream(target.id);
  while (!st.idle.empty()) {
    auto conn = std::move(st.idle.back());
    st.idle.pop_back();
    if (must_be_open && looks_closed(*conn)) {
      continue;
    }
    conn->reused = true;
    return conn;
  }
  return nullptr;
}

// A connection for `version`, starting from `pick` (pick_upstream's answer, whose idle
// connections take_idle() found none of): connects to it; a connect failure is counted, may
// eject the upstream, and moves on to the next untried upstream, pooled or new.
Awaitable<Acquired> connect_upstream(Worker* worker, const ServiceRoute* service,
                                     const VersionRoute* version, uint64_t* tried,
                                     bool must_be_open, milliseconds connect_timeout,
                                     UpstreamPick pick) {
  std::string last_error;
  bool any_ejected = pick.any_ejected;
  for (bool first = true;; first = false) {
    if (pick.target == nullptr) {
      Acquired a;
      if (*tried == 0 && any_ejected) {
        a.status = bhttp::status::service_unavailable;
        a.rejection = metrics::Rejection::kNoHealthyUpstream;
        a.detail = "every upstream of this version is ejected after connect failures";
      } else if (*tried == 0 && !version->unresolved.empty()) {
        const UnresolvedUpstream& u = version->unresolved.front();
        a.status = bhttp::status::service_unavailable;
        a.rejection = metrics::Rejection::kNoHealthyUpstream;
        a.detail = "upstream " + u.authority + " " + u.reason;
      } else {
        a.status = bhttp::status::bad_gateway;
        a.rejection = metrics::Rejection::kUpstreamUnavailable;
        a.detail = last_error.empty() ? "no upstream could be reached" : last_error;
      }
      co_return a;
    }
    const UpstreamTarget& target = *pick.target;
    if (!first) {  // after a connect failure: this other upstream may have pooled connections
      if (auto conn = take_idle(worker, target, must_be_open)) {
        Acquired a;
        a.conn = std::move(conn);
        co_return a;
      }
    }
    UpstreamState& st = worker->upstream(target.id);
    auto conn = std::make_unique<UpstreamConnection>(worker->deadlines(),
                                                     worker->io_context().get_executor());
    conn->upstream_id = target.id;
    // Beast reads at most the buffer's free capacity: a small buffer means small reads.
    conn->buffer.reserve(Worker::kRelayBufferSize);
    conn->stream.expires_after(connect_timeout);
    auto [connect_ec] = co_await conn->stream.socket().async_connect(target.endpoint, kAwait);
    const auto ec = conn->stream.classify(connect_ec);
    if (!ec) {
      st.consecutive_connect_failures = 0;
      boost::system::error_code ignored;
      conn->stream.socket().set_option(tcp::no_delay(true), ignored);
      Acquired a;
      a.conn = std::move(conn);
      co_return a;
    }
    *tried |= uint64_t{1} << pick.index;
    version->stats->shard(worker->index())
        .record_upstream_failure(metrics::UpstreamFailure::kConnect);
    if (++st.consecutive_connect_failures >= service->eject_after) {
      st.ejected_until = Clock::now() + milliseconds(service->eject_for_ms);
      st.consecutive_connect_failures = 0;
    }
    last_error = "connect to " + target.authority + " failed: " +
                 (ec == beast::error::timeout ? std::string("timed out") : ec.message());
    pick = pick_upstream(worker, service, version, *tried);
    any_ejected = any_ejected || pick.any_ejected;
  }
}

// Reads one request header from the client and serves the request: forwards it, or answers it
// with a Refusal. Returns what to do with the client connection afterwards.
//
// Every answer of the gateway's own (a Refusal, decided by route_request or on the way) leaves
// through the one co_await at the end. GCC gives each co_await expression, with its
// temporaries, a slot of its own in the coroutine frame: with a co_await per kind of answer the
// frame was 3.7 KB, now 2.2 KB. (Asio recycles frames up to 1 KiB; larger ones are allocated
// per request.)
Awaitable<After> handle_request(Worker* worker, TimedSocket& client, beast::flat_buffer& cbuf,
                                const std::string& client_ip) {
  std::shared_ptr<const RouteTable> routes = worker->routes();
  const config::Limits& limits = routes->limits;
  const milliseconds idle_timeout(limits.idle_timeout_ms);
  auto& gm = worker->gateway_metrics();

  RequestParser rq;
  rq.header_limit(limits.max_header_bytes);
  if (limits.max_body_bytes > 0) {
    rq.body_limit(limits.max_body_bytes);
  } else {
    rq.body_limit(boost::none);
  }
  client.expires_after(milliseconds(limits.header_timeout_ms));
  auto header_ec = parse_buffered(cbuf, rq, true);
  if (header_ec == bhttp::error::need_more) {
    header_ec =
        client.classify(co_await parse_some(client, cbuf, rq, true, limits.max_header_bytes));
  }
  const bool header_timed_out = header_ec && header_ec == beast::error::timeout;
  if (header_ec &&
      ((!header_timed_out && is_disconnect(header_ec)) || (header_timed_out && !rq.got_some()))) {
    co_return After::kClose;  // closed, or only empty lines came: no request to answer
  }
  const auto started = Clock::now();
  std::variant<Refusal, RoutedRequest> routing =
      header_timed_out ? std::variant<Refusal, RoutedRequest>(refuse_header_timeout(limits))
      : header_ec
          ? std::variant<Refusal, RoutedRequest>(refuse_unreadable_request(
                header_ec, limits, !rq.get().target().empty(),
                std::string_view(static_cast<const char*>(cbuf.data().data()), cbuf.size())))
          : route_request(*routes, rq.get(), rq.keep_alive(), client_ip, worker->random_bucket());
  std::optional<Refusal> refusal;
  const VersionRoute* tail_route = nullptr;  // where the request went, for the tail
  uint32_t tail_upstream = UINT32_MAX;
  if (auto* r = std::get_if<Refusal>(&routing)) {
    refusal = std::move(*r);
  } else {
    const RoutedRequest& request = std::get<RoutedRequest>(routing);
    const auto& req = rq.get();
    const ServiceRoute* service = request.service;
    const VersionRoute* version = request.version;
    metrics::VersionShard& stats = version->stats->shard(worker->index());
    const metrics::StickyKey key = request.sticky_key();
    const bool has_body = request.has_body();
    const bool is_head = req.method() == bhttp::verb::head;
    bool client_keep_alive = rq.keep_alive();
    const milliseconds response_timeout(limits.response_timeout_ms);
    RelayBuffer buffer(worker);
    uint64_t tried = 0;
    bool continue_sent = false;
    int stale_retries = 0;
    for (;;) {
      // A pooled connection without suspending; connecting (and retrying) in a coroutine.
      Acquired acquired;
      const UpstreamPick pick = pick_upstream(worker, service, version, tried);
      if (pick.target != nullptr) {
        acquired.conn = take_idle(worker, *pick.target, has_body);
      }
      if (!acquired.conn) {
        acquired = co_await connect_upstream(worker, service, version, &tried, has_body,
                                             milliseconds(limits.connect_timeout_ms), pick);
      }
      if (!acquired.conn) {
        stats.record_response(key, static_cast<unsigned>(acquired.status), elapsed_ns(started), 0,
                              0);
        refusal = Refusal{
            .status = acquired.status,
            .detail = std::move(acquired.detail),
            .service = service->name,
            .version = version->name,
            .rejection = acquired.rejection,
            .after = client_keep_alive && !has_body ? After::kKeepAlive : After::kLingerClose};
        break;
      }
      std::unique_ptr<UpstreamConnection> conn = std::move(acquired.conn);
      UpstreamState& upstream = worker->upstream(conn->upstream_id);
      OutstandingGuard outstanding(upstream);
      tail_route = version;
      tail_upstream = conn->upstream_id;

      if (request.expect_continue && !continue_sent) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        client.expires_after(idle_timeout);
        auto [ec, n] = co_await asio::async_write(client, asio::buffer(kContinue), kAwait);
        if (ec) {
          co_return After::kClose;
        }
        continue_sent = true;
      }

      // Request: header and body, streamed. A body is read in large pieces; the buffer shrinks
      // back after the request so idle connections stay small.
      if (has_body && cbuf.capacity() < Worker::kRelayBufferSize) {
        cbuf.reserve(Worker::kRelayBufferSize);
      }
      // The request as the upstream sees it (`req` unchanged). The head goes into the relay
      // buffer; one too large for half of it goes from the heap.
      http::Forwarding forwarding = request.forwarding(client_ip);
      if (request.host.empty()) {
        forwarding.upstream_host = upstream_authority(version, conn->upstream_id);
      }
      if (request.framing == http::Framing::kContentLength && rq.content_length()) {
        forwarding.content_length = *rq.content_length();
      }
      std::string big_head;
      std::size_t head_size = http::write_forwarded_head(
          req, forwarding, std::span<char>(buffer.data(), Worker::kRelayBufferSize / 2));
      if (head_size == 0) {
        big_head = http::forwarded_head_string(req, forwarding);
      }
      RelayOutcome sent;
      if (rq.is_done() && big_head.empty()) {
        // No body (the common case): the head alone, one write, no relay.
        conn->stream.expires_after(response_timeout);
        auto [ec, n] = co_await asio::async_write(
            conn->stream, asio::const_buffer(buffer.data(), head_size), kAwait);
        sent.write_error = conn->stream.classify(ec);
      } else {
        sent = co_await relay(
            client, cbuf, rq,
            RelayHead{head_size, big_head, forwarding.chunked, limits.max_header_bytes},
            conn->stream, buffer.data(), idle_timeout, response_timeout);
      }
      if (sent.read_error) {
        // The client failed or broke a limit mid-body; the upstream got a partial request.
        if (is_disconnect(sent.read_error) || sent.read_error == beast::error::timeout) {
          co_return After::kClose;
        }
        refusal = refuse_unreadable_body(sent.read_error, limits, request);
        break;
      }
      if (sent.write_error) {
        if (conn->reused && !has_body && ++stale_retries <= kMaxStaleRetries) {
          continue;  // a pooled connection the upstream had closed: try a fresh one
        }
        stats.record_upstream_failure(metrics::UpstreamFailure::kReset);
        stats.record_response(key, 502, elapsed_ns(started), sent.body_bytes, 0);
        refusal = refuse_upstream_failure(
            false,
            "the upstream closed the connection while receiving the request: " +
                sent.write_error.message(),
            request, has_body ? After::kLingerClose : After::kClose);
        break;
      }

      // Response header; 1xx interim answers are skipped.
      std::optional<http::UpstreamResponse> rp;
      boost::system::error_code read_ec;
      for (;;) {
        // The client's head is written into the relay buffer as the upstream's is parsed.
        rp.emplace(std::span<char>(buffer.data(), Worker::kRelayBufferSize / 2));
        rp->header_limit(kUpstreamHeaderLimit);
        rp->body_limit(boost::none);
        if (is_head) {
          rp->skip(true);
        }
        conn->stream.expires_after(response_timeout);
        read_ec = parse_buffered(conn->buffer, *rp, true);
        if (read_ec == bhttp::error::need_more) {
          read_ec = conn->stream.classify(
              co_await parse_some(conn->stream, conn->buffer, *rp, true, kUpstreamHeaderLimit));
        }
        if (read_ec) {
          break;
        }
        unsigned code = rp->status();
        if (code < 100 || code >= 200 || code == 101) {
          break;
        }
      }
      if (!read_ec && rp->status() == 101) {
        // Protocol upgrades are not proxied yet; the upstream connection has switched, so it
        // is dropped.
        refusal = refuse_upgrade(request, client_keep_alive ? After::kKeepAlive : After::kClose);
        stats.record_response(key, 502, elapsed_ns(started), sent.body_bytes, 0);
        break;
      }
      if (read_ec) {
        if (read_ec != beast::error::timeout && conn->reused && !has_body &&
            ++stale_retries <= kMaxStaleRetries) {
          continue;
        }
        const bool timed_out = read_ec == beast::error::timeout;
        stats.record_upstream_failure(timed_out ? metrics::UpstreamFailure::kTimeout
                                                : metrics::UpstreamFailure::kReset);
        refusal = refuse_upstream_failure(
            timed_out,
            timed_out ? "the upstream sent no response header within " +
                            std::to_string(limits.response_timeout_ms) + " ms"
                      : "the upstream failed before answering: " + read_ec.message(),
            request, client_keep_alive ? After::kKeepAlive : After::kClose);
        stats.record_response(key, static_cast<unsigned>(refusal->status), elapsed_ns(started),
                              sent.body_bytes, 0);
        break;
      }

      // Response as the client sees it: the upstream's head without its hop-by-hop fields
      // (written by the parser), then ours.
      const unsigned status = rp->status();
      const bool upstream_keep_alive = rp->keep_alive();
      const bool body_allowed = !is_head && status != 204 && status != 304;
      const bool sized = rp->content_length().has_value();
      bool chunked_out = false;
      if (body_allowed && (rp->chunked() || !sized)) {
        // A body of unknown length: chunked for HTTP/1.1 clients (also one the upstream
        // delimited by closing); an HTTP/1.0 client cannot read chunks, so its body ends when
        // the connection closes.
        if (req.version() >= 11) {
          chunked_out = true;
          rp->add_field("Transfer-Encoding", "chunked");
        } else {
          client_keep_alive = false;
        }
      }
      rp->add_field(http::kVersionHeader, version->name);
      const bool keep = client_keep_alive && !worker->draining();
      if (!keep) {
        rp->add_field("Connection", "close");
      } else if (req.version() < 11) {
        rp->add_field("Connection", "keep-alive");  // an HTTP/1.0 client expects it
      }
      rp->finish_head();

      RelayOutcome got = co_await relay(
          conn->stream, conn->buffer, *rp,
          RelayHead{rp->head_size(), rp->head_overflow(), chunked_out, kUpstreamHeaderLimit},
          client, buffer.data(), response_timeout, idle_timeout);
      const auto latency = elapsed_ns(started);
      if (got.read_error) {
        const bool timed_out = got.read_error == beast::error::timeout;
        stats.record_upstream_failure(timed_out ? metrics::UpstreamFailure::kTimeout
                                                : metrics::UpstreamFailure::kReset);
        if (got.wrote) {
          // The upstream failed mid-body: the client has part of an answer and must be closed.
          stats.record_response(key, status, latency, sent.body_bytes, got.body_bytes);
          tail_request(
              worker, started, req,
              TailNote{service->name, version->name, status, version, conn->upstream_id,
                       static_cast<uint8_t>(timed_out ? metrics::Rejection::kUpstreamTimeout
                                                      : metrics::Rejection::kUpstreamReset)});
          co_return After::kClose;
        }
        // Nothing of the answer has left yet (the head goes out with the first body piece):
        // the client gets an answer of the gateway's own instead of a cut-off one.
        refusal = refuse_upstream_failure(
            timed_out,
            timed_out ? "the upstream sent no more of its response body within " +
                            std::to_string(limits.response_timeout_ms) + " ms"
                      : "the upstream's response body is malformed or cut short: " +
                            got.read_error.message(),
            request, client_keep_alive ? After::kKeepAlive : After::kClose);
        stats.record_response(key, static_cast<unsigned>(refusal->status), latency, sent.body_bytes,
                              0);
        break;
      }
      stats.record_response(key, status, latency, sent.body_bytes, got.body_bytes);
      tail_request(worker, started, req,
                   TailNote{service->name, version->name, status, version, conn->upstream_id});
      if (got.write_error) {
        co_return After::kClose;
      }
      if (upstream_keep_alive && rp->is_done() && conn->buffer.size() == 0 && !worker->draining() &&
          upstream.idle.size() < Worker::kMaxIdlePerUpstream) {
        upstream.idle.push_back(std::move(conn));
      }
      co_return keep ? After::kKeepAlive : After::kClose;
    }
  }

  // An answer of the gateway's own.
  gm.record_rejection(refusal->rejection);
  tail_request(worker, started, rq.get(),
               TailNote{refusal->service, refusal->version, static_cast<unsigned>(refusal->status),
                        tail_route, tail_upstream, static_cast<uint8_t>(refusal->rejection)});
  const bool keep_alive = refusal->after == After::kKeepAlive;
  auto res = http::make_error_response(refusal->status, refusal->error(), refusal->detail,
                                       refusal->service, refusal->version, keep_alive);
  client.expires_after(idle_timeout);
  auto [ec, n] = co_await bhttp::async_write(client, res, kAwait);
  co_return ec ? After::kClose : refusal->after;
}

// Closes the connection without losing the answer just written: half-close, then drain what
// the client still sends (bounded in bytes and time) so the kernel does not reset the answer.
Awaitable<void> linger_close(TimedSocket& client) {
  boost::system::error_code ignored;
  client.socket().shutdown(Socket::shutdown_send, ignored);
  char sink[4096];
  std::size_t drained = 0;
  client.expires_after(std::chrono::seconds(2));
  while (drained < (1u << 20)) {
    auto [ec, n] = co_await client.async_read_some(asio::buffer(sink), kAwait);
    if (ec) {
      break;
    }
    drained += n;
  }
  client.socket().close(ignored);
}

}  // namespace

Awaitable<void> serve_connection(Worker* worker, Socket socket) {
  TimedSocket client(worker->deadlines(), std::move(socket));
  SessionEntry entry{&client, true};
  SessionRegistration registration(worker, &entry);
  std::string client_ip;
  {
    boost::system::error_code ec;
    auto remote = client.socket().remote_endpoint(ec);
    if (!ec) {
      client_ip = remote.address().to_string();
    }
  }
  beast::flat_buffer cbuf;
  bool first = true;
  bool busy = false;  // the last request came within kReadWindow of the answer before it
  After after = After::kClose;
  for (;;) {
    skip_empty_lines(cbuf);
    if (cbuf.size() == 0) {
      // Waiting for the next request: the only time a drain may close this connection.
      if (worker->draining()) {
        break;
      }
      const auto& limits = worker->routes()->limits;
      const milliseconds limit(first ? limits.header_timeout_ms : limits.idle_timeout_ms);
      entry.idle = true;
      // A busy keep-alive client sends its next request soon: read it straight into the
      // buffer (one speculative recv, no re-arming of epoll). A client that has not been
      // busy, or is still silent after kReadWindow, waits for readability without a buffer,
      // so that many idle clients cost little memory; that wait re-arms epoll (an epoll_ctl
      // per wait), which is why busy clients do not use it.
      const auto wait_started = Clock::now();
      milliseconds waited{0};
      if (busy) {
        waited = std::min(kReadWindow, limit);
        client.expires_after(waited);
        auto [ec, n] = co_await client.async_read_some(cbuf.prepare(kFirstRead), kAwait);
        if (!ec) {
          cbuf.commit(n);
        } else if (client.classify(ec) != beast::error::timeout || waited >= limit) {
          break;
        }
      }
      if (cbuf.size() == 0) {
        cbuf.shrink_to_fit();
        client.expires_after(limit - waited);
        auto [wait_ec] = co_await client.socket().async_wait(Socket::wait_read, kAwait);
        entry.idle = false;
        if (wait_ec) {
          break;
        }
        auto [ec, n] = co_await client.async_read_some(cbuf.prepare(kFirstRead), kAwait);
        if (ec) {
          break;
        }
        cbuf.commit(n);
      }
      busy = !first && Clock::now() - wait_started < kReadWindow;
    }
    first = false;
    entry.idle = false;
    after = co_await handle_request(worker, client, cbuf, client_ip);
    if (after != After::kKeepAlive) {
      break;
    }
  }
  boost::system::error_code ignored;
  if (after == After::kLingerClose) {
    co_await linger_close(client);
  } else {
    client.socket().shutdown(Socket::shutdown_send, ignored);
    client.socket().close(ignored);
  }
}

}  // namespace rampart::gateway
