#include "gateway/deadline.hpp"

#include <boost/beast/core/error.hpp>

#include <time.h>

namespace rampart::gateway {

uint64_t DeadlineWheel::now_tick() {
  // The coarse clock is cheap and resolves a few milliseconds: enough for 10 ms slots.
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  uint64_t ms =
      static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
  return ms / static_cast<uint64_t>(kTick.count());
}

DeadlineWheel::DeadlineWheel() : last_tick_(now_tick()) {}

void DeadlineWheel::arm(Deadline& d, std::chrono::milliseconds timeout) {
  d.unlink();
  d.fired_ = false;
  // Round up, and at least one full tick: never fire before the timeout.
  uint64_t ticks = (static_cast<uint64_t>(timeout.count()) + kTick.count() - 1) / kTick.count();
  d.due_tick_ = now_tick() + ticks + 1;
  slots_[d.due_tick_ % kSlots].push_back(d);
}

void DeadlineWheel::tick() {
  const uint64_t now = now_tick();
  // After a long stall, one turn of the wheel visits every slot once.
  uint64_t from = now - last_tick_ > kSlots ? now - kSlots : last_tick_;
  for (uint64_t t = from + 1; t <= now; ++t) {
    Slot& slot = slots_[t % kSlots];
    for (auto it = slot.begin(); it != slot.end();) {
      Deadline& d = *it;
      if (d.due_tick_ > now) {
        ++it;  // due on a later turn
        continue;
      }
      it = slot.erase(it);
      d.fired_ = true;
      boost::system::error_code ignored;
      d.socket_->cancel(ignored);
    }
  }
  last_tick_ = now;
}

boost::system::error_code TimedSocket::classify(boost::system::error_code ec) const {
  if (ec == boost::asio::error::operation_aborted && timed_out()) {
    return boost::beast::error::timeout;
  }
  return ec;
}

}  // namespace rampart::gateway
