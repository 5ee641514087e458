#pragma once
// Timeouts for a worker's sockets without a timer per operation.
//
// Every socket operation on the request path has a deadline. An Asio timer per operation costs
// a heap insertion, a cancellation and a cancelled handler run through the scheduler, four
// times per proxied request. Instead each worker keeps a hashed timer wheel with 10 ms slots:
// arming a deadline is a few pointer writes, and a 10 ms tick cancels the socket operations
// whose deadline passed. Deadlines fire between 0 and ~10 ms late.
//
// No deadline is lost, whatever the socket's owner is doing when it fires: cancelling reaches
// only an operation pending in the reactor, so a deadline that fires while none is (the owner
// is parsing, or its last operation has completed and waits to be resumed) stays fired, and
// every operation started on the socket after it fails at once with operation_aborted, until
// the next expires_after().

#include "gateway/io.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/intrusive/list.hpp>

#include <array>
#include <chrono>
#include <cstdint>

namespace rampart::gateway {

class Deadline : public boost::intrusive::list_base_hook<
                     boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  explicit Deadline(Socket* socket) : socket_(socket) {}
  bool fired() const { return fired_; }

 private:
  friend class DeadlineWheel;
  Socket* socket_;
  uint64_t due_tick_ = 0;
  bool fired_ = false;
};

// One per worker; used from the worker's thread only.
class DeadlineWheel {
 public:
  static constexpr std::chrono::milliseconds kTick{10};
  static constexpr std::size_t kSlots = 1024;  // one turn: ~10 s; longer deadlines go round

  DeadlineWheel();
  // (Re)arms `d` to fire `timeout` from now: its socket's pending operations are cancelled.
  void arm(Deadline& d, std::chrono::milliseconds timeout);
  static void disarm(Deadline& d) {
    d.unlink();
    d.fired_ = false;
  }
  // Fires every deadline that is due. Call about every kTick.
  void tick();

 private:
  using Slot = boost::intrusive::list<Deadline, boost::intrusive::constant_time_size<false>>;
  static uint64_t now_tick();

  std::array<Slot, kSlots> slots_;
  uint64_t last_tick_;
};

// A TCP socket whose operations carry a deadline from a DeadlineWheel. Models Asio's
// AsyncReadStream and AsyncWriteStream, so Beast's HTTP algorithms run on it directly.
// After a deadline fires, the cancelled operation completes with operation_aborted and
// timed_out() is true until the next expires_after(). Not movable: the wheel points into it.
class TimedSocket {
 public:
  using executor_type = Executor;

  TimedSocket(DeadlineWheel& wheel, Socket socket)
      : wheel_(&wheel), socket_(std::move(socket)), deadline_(&socket_) {}
  TimedSocket(DeadlineWheel& wheel, const executor_type& ex)
      : wheel_(&wheel), socket_(ex), deadline_(&socket_) {}
  TimedSocket(const TimedSocket&) = delete;
  TimedSocket& operator=(const TimedSocket&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  Socket& socket() { return socket_; }

  // Fail at once with operation_aborted when the deadline has fired (see above).
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (deadline_.fired()) [[unlikely]] {
      return expired(token);
    }
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (deadline_.fired()) [[unlikely]] {
      return expired(token);
    }
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  void expires_after(std::chrono::milliseconds timeout) { wheel_->arm(deadline_, timeout); }
  void expires_never() { DeadlineWheel::disarm(deadline_); }
  bool timed_out() const { return deadline_.fired(); }

  // operation_aborted caused by this socket's deadline becomes beast::error::timeout.
  boost::system::error_code classify(boost::system::error_code ec) const;

 private:
  // Completes `token` with (operation_aborted, 0) through the socket's executor, as a
  // cancelled operation would.
  struct ExpiredOperation {
    template <class Handler>
    void operator()(Handler&& handler, const executor_type& ex) const {
      boost::asio::post(
          ex, boost::asio::append(std::forward<Handler>(handler),
                                  boost::system::error_code(boost::asio::error::operation_aborted),
                                  std::size_t{0}));
    }
  };
  // Out of line and cold: the operations above stay small enough to inline.
  template <class Token>
  [[gnu::cold, gnu::noinline]] auto expired(Token& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        ExpiredOperation{}, token, socket_.get_executor());
  }

  DeadlineWheel* wheel_;
  Socket socket_;
  Deadline deadline_;
};

}  // namespace rampart::gateway
