#include "gateway/worker.hpp"

#include "common/log.hpp"
#include "gateway/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <system_error>
#include <utility>

namespace rampart::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
void log_escape(const char* what, const std::exception_ptr& e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("{} ended with an exception: {}", what, ex.what());
  }
}
}  // namespace

Worker::Worker(std::size_t index, WorkerShared shared)
    : index_(index),
      shared_(shared),
      routes_(*shared.routes),
      gateway_shard_(&shared.registry->gateway_shard(index)),
      rng_state_(
          0x9E3779B97F4A7C15ULL * (index + 1) ^
          static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
  acceptor_.emplace(ioc_);
  command_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (command_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  // The reader gets its own descriptor: closing it when the worker finishes leaves command_fd_
  // open for the stop() that may still come from another thread.
  const int reader = ::fcntl(command_fd_, F_DUPFD_CLOEXEC, 0);
  if (reader < 0) {
    const int err = errno;
    ::close(command_fd_);
    throw std::system_error(err, std::generic_category(), "fcntl(F_DUPFD_CLOEXEC)");
  }
  command_reader_.emplace(ioc_, reader);
}

Worker::~Worker() {
  stop();
  join();
  command_reader_.reset();
  ::close(command_fd_);
  acceptor_.reset();
  for (auto& u : upstreams_) {
    u->idle.clear();
  }
}

Result<tcp::endpoint> Worker::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    int one = 1;
    if (::setsockopt(acceptor_->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
  }
  if (!ec) {
    acceptor_->bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(Errc::kIo, "cannot listen on " + endpoint.address().to_string() + ":" +
                                     std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return acceptor_->local_endpoint();
}

Awaitable<void> accept_loop(Worker* worker) {
  auto& acceptor = *worker->acceptor_;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(kUseAwaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("worker {}: accept failed: {}", worker->index_, ec.message());
      Timer pause(worker->ioc_, std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::as_tuple(kUseAwaitable));
      continue;
    }
    auto& gm = *worker->gateway_shard_;
    uint32_t active = worker->shared_.connections->fetch_add(1, std::memory_order_relaxed);
    if (active >= worker->shared_.max_connections || worker->draining_) {
      worker->shared_.connections->fetch_sub(1, std::memory_order_relaxed);
      metrics::bump(gm.connections_rejected);
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    metrics::bump(gm.connections_accepted);
    metrics::bump(gm.connections_active);
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(worker->ioc_, serve_connection(worker, std::move(socket)),
                   [](const std::exception_ptr& e) { log_escape("session", e); });
  }
}

Awaitable<void> tick_deadlines(Worker* worker) {
  Timer timer(worker->ioc_);
  for (;;) {
    timer.expires_after(DeadlineWheel::kTick);
    co_await timer.async_wait(asio::as_tuple(kUseAwaitable));
    worker->deadlines_.tick();
    if (worker->draining_ && worker->sessions_.empty()) {
      boost::system::error_code ignored;
      worker->command_reader_->close(ignored);  // ends watch_commands()
      co_return;                                // nothing left to time out: let run() return
    }
  }
}

Awaitable<void> watch_commands(Worker* worker) {
  auto& reader = *worker->command_reader_;
  uint64_t count = 0;
  for (;;) {
    auto [ec, n] = co_await reader.async_read_some(asio::buffer(&count, sizeof count),
                                                   asio::as_tuple(kUseAwaitable));
    if (ec) {
      co_return;  // closed when the worker finished draining
    }
    const uint32_t bits = worker->commands_.exchange(0, std::memory_order_acq_rel);
    if (bits & Worker::kStop) {
      worker->ioc_.stop();
      co_return;
    }
    if (bits & Worker::kTasks) {
      worker->run_tasks();
    }
    if (bits & Worker::kDrain) {
      worker->do_drain();
    }
  }
}

void Worker::start() {
  asio::co_spawn(ioc_, accept_loop(this),
                 [](const std::exception_ptr& e) { log_escape("acceptor", e); });
  asio::co_spawn(ioc_, tick_deadlines(this),
                 [](const std::exception_ptr& e) { log_escape("ticker", e); });
  asio::co_spawn(ioc_, watch_commands(this),
                 [](const std::exception_ptr& e) { log_escape("command watcher", e); });
  thread_ = std::thread([this] {
    ioc_.run();
    finished_.store(true, std::memory_order_release);
  });
}

void Worker::command(uint32_t bit) {
  commands_.fetch_or(bit, std::memory_order_acq_rel);
  const uint64_t one = 1;
  // An eventfd write fails only when its counter would overflow, and then a wake-up is
  // pending anyway.
  [[maybe_unused]] const ssize_t n = ::write(command_fd_, &one, sizeof one);
}

void Worker::run_on_thread(std::function<void()> task) {
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
  }
  command(kTasks);
}

void Worker::run_tasks() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(tasks_mutex_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) {
    task();
  }
}

void Worker::do_drain() {
  draining_ = true;
  boost::system::error_code ignored;
  acceptor_->close(ignored);
  // Idle keep-alive connections are closed now; busy ones close after their response.
  for (SessionEntry* s : sessions_) {
    if (s->idle) {
      s->client->socket().cancel(ignored);
    }
  }
  // Pooled upstream connections have no pending operation; closing them lets run() return.
  for (auto& u : upstreams_) {
    u->idle.clear();
  }
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

uint32_t Worker::random_bucket() {
  // xorshift64*: fast, and good enough to spread weighted-random picks.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  return static_cast<uint32_t>(((rng_state_ * 0x2545F4914F6CDD1DULL) >> 32) % kBucketCount);
}

UpstreamState& Worker::add_upstreams(uint32_t id) {
  while (upstreams_.size() <= id) {
    upstreams_.push_back(std::make_unique<UpstreamState>());
  }
  return *upstreams_[id];
}

std::unique_ptr<char[]> Worker::take_relay_buffer() {
  if (relay_buffers_.empty()) {
    return std::make_unique_for_overwrite<char[]>(kRelayBufferSize);
  }
  auto b = std::move(relay_buffers_.back());
  relay_buffers_.pop_back();
  return b;
}

void Worker::return_relay_buffer(std::unique_ptr<char[]> buffer) {
  if (buffer && relay_buffers_.size() < 64) {
    relay_buffers_.push_back(std::move(buffer));
  }
}

void Worker::release_connection_slot() {
  shared_.connections->fetch_sub(1, std::memory_order_relaxed);
  metrics::drop(gateway_shard_->connections_active);
}

}  // namespace rampart::gateway
