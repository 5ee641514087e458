#include "gateway/tail.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <thread>
#include <type_traits>

namespace rampart::gateway {

namespace {

static_assert(std::is_trivially_copyable_v<TailEvent>);

Error invalid(std::string message) { return Error{Errc::kInvalidArgument, std::move(message)}; }

std::optional<uint64_t> to_number(std::string_view s) {
  uint64_t v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc{} || p != end) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::string_view TailEvent::failure_text() const {
  if (failure >= metrics::kRejectionCount) {
    return {};
  }
  return metrics::to_string(static_cast<metrics::Rejection>(failure));
}

Result<StatusFilter> parse_status_filter(std::string_view text) {
  if (text.empty()) {
    return StatusFilter{};
  }
  const auto bad = [&] {
    return invalid(fmt::format(
        "\"{}\" is not a status filter; give a class (2xx, 4xx, 5xx) or a status (503)", text));
  };
  if (text.size() != 3 || text[0] < '1' || text[0] > '5') {
    return bad();
  }
  const uint16_t hundreds = static_cast<uint16_t>((text[0] - '0') * 100);
  if (text.substr(1) == "xx" || text.substr(1) == "XX") {
    return StatusFilter{hundreds, static_cast<uint16_t>(hundreds + 100)};
  }
  auto n = to_number(text);
  if (!n) {
    return bad();
  }
  return StatusFilter{static_cast<uint16_t>(*n), static_cast<uint16_t>(*n + 1)};
}

bool TailFilter::matches(const TailEvent& e) const {
  return e.service.view() == service && (version.empty() || e.version.view() == version) &&
         status.matches(e.status);
}

TailRing::TailRing() : slots_(std::make_unique<Slot[]>(kCapacity)) {}

void TailRing::push(const TailEvent& e) {
  std::array<uint64_t, kWords> words{};
  std::memcpy(words.data(), &e, sizeof(TailEvent));
  const uint64_t seq = head_.load(std::memory_order_relaxed);
  Slot& slot = slots_[seq % kCapacity];
  // The seqlock's writer: odd while writing, so a reader that overlaps sees a change.
  slot.version.store(2 * seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (std::size_t i = 0; i < kWords; ++i) {
    slot.words[i].store(words[i], std::memory_order_relaxed);
  }
  slot.version.store(2 * seq + 2, std::memory_order_release);
  head_.store(seq + 1, std::memory_order_release);
}

bool TailRing::read(uint64_t seq, TailEvent& out) const {
  const Slot& slot = slots_[seq % kCapacity];
  const uint64_t before = slot.version.load(std::memory_order_acquire);
  if (before != 2 * seq + 2) {
    return false;
  }
  std::array<uint64_t, kWords> words{};
  for (std::size_t i = 0; i < kWords; ++i) {
    words[i] = slot.words[i].load(std::memory_order_relaxed);
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  if (slot.version.load(std::memory_order_relaxed) != before) {
    return false;  // overwritten while copied
  }
  std::memcpy(static_cast<void*>(&out), words.data(), sizeof(TailEvent));
  return true;
}

std::string format_cursor(const TailCursor& cursor) {
  std::string out = std::to_string(cursor.subscription);
  for (uint64_t n : cursor.next) {
    out += '.';
    out += std::to_string(n);
  }
  return out;
}

Result<TailCursor> parse_cursor(std::string_view text, std::size_t workers) {
  TailCursor cursor;
  std::size_t parts = 0;
  while (parts <= workers) {
    const std::size_t dot = text.find('.');
    auto n = to_number(text.substr(0, dot));
    if (!n) {
      break;
    }
    if (parts == 0) {
      cursor.subscription = *n;
    } else {
      cursor.next.push_back(*n);
    }
    ++parts;
    if (dot == std::string_view::npos) {
      if (parts == workers + 1) {
        return cursor;
      }
      break;
    }
    text.remove_prefix(dot + 1);
  }
  return invalid("the cursor is not one this server gave; start again without it");
}

TailHub::TailHub(std::size_t workers, std::chrono::milliseconds idle_timeout)
    : idle_timeout_(idle_timeout) {
  rings_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    rings_.push_back(std::make_unique<TailRing>());
  }
}

void TailHub::refresh_locked(Clock::time_point now) {
  Clock::time_point latest{};
  for (auto it = last_touch_.begin(); it != last_touch_.end();) {
    if (it->second + idle_timeout_ <= now) {
      it = last_touch_.erase(it);
    } else {
      latest = std::max(latest, it->second);
      ++it;
    }
  }
  const int64_t until =
      last_touch_.empty() ? 0 : (latest + idle_timeout_).time_since_epoch().count();
  record_until_.store(until, std::memory_order_relaxed);
}

Result<TailCursor> TailHub::subscribe(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refresh_locked(now);
  if (last_touch_.size() >= kMaxSubscriptions) {
    return Error{Errc::kUnavailable,
                 fmt::format("{} tails are attached already; end one first", kMaxSubscriptions)};
  }
  TailCursor cursor{next_subscription_++, {}};
  last_touch_[cursor.subscription] = now;
  for (const auto& ring : rings_) {
    cursor.next.push_back(ring->head());
  }
  refresh_locked(now);
  return cursor;
}

bool TailHub::touch(uint64_t subscription, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refresh_locked(now);
  auto it = last_touch_.find(subscription);
  if (it == last_touch_.end()) {
    return false;
  }
  it->second = now;
  refresh_locked(now);
  return true;
}

void TailHub::unsubscribe(uint64_t subscription) {
  std::lock_guard lock(mutex_);
  last_touch_.erase(subscription);
  refresh_locked(Clock::now());
}

std::size_t TailHub::subscriptions(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refresh_locked(now);
  return last_touch_.size();
}

namespace {

// One worker's side of a read: the next matching event not yet taken, if any.
struct RingReader {
  const TailRing* ring = nullptr;
  uint64_t pos = 0;   // the next sequence number to look at
  uint64_t head = 0;  // the ring's head when the read began
  bool has_pending = false;
  TailEvent pending;

  // Moves to the next event that matches `filter`; counts the ones gone from the ring.
  void advance(const TailFilter& filter, uint64_t& dropped) {
    has_pending = false;
    while (pos < head) {
      const bool got = ring->read(pos, pending);
      ++pos;
      if (!got) {
        ++dropped;
      } else if (filter.matches(pending)) {
        has_pending = true;
        return;
      }
    }
  }
};

}  // namespace

TailBatch TailHub::read(const TailCursor& from, const TailFilter& filter, std::size_t max) const {
  TailBatch batch;
  batch.next.subscription = from.subscription;
  std::vector<RingReader> readers(rings_.size());
  for (std::size_t w = 0; w < rings_.size(); ++w) {
    RingReader& r = readers[w];
    r.ring = rings_[w].get();
    r.head = r.ring->head();
    r.pos = std::min(w < from.next.size() ? from.next[w] : r.head, r.head);
    if (r.head - r.pos > TailRing::kCapacity) {
      batch.dropped += r.head - r.pos - TailRing::kCapacity;
      r.pos = r.head - TailRing::kCapacity;
    }
    r.advance(filter, batch.dropped);
  }
  while (batch.events.size() < max) {
    RingReader* first = nullptr;
    for (auto& r : readers) {
      if (r.has_pending && (first == nullptr || r.pending.unix_ms < first->pending.unix_ms)) {
        first = &r;
      }
    }
    if (first == nullptr) {
      break;
    }
    batch.events.push_back(first->pending);
    first->advance(filter, batch.dropped);
  }
  for (const auto& r : readers) {
    batch.next.next.push_back(r.has_pending ? r.pos - 1 : r.pos);  // a pending one is not taken
  }
  return batch;
}

TailBatch TailHub::wait_read(const TailCursor& from, const TailFilter& filter, std::size_t max,
                             std::chrono::milliseconds wait) {
  TailBatch batch = read(from, filter, max);
  if (wait <= std::chrono::milliseconds(0)) {
    batch.waited = true;
    return batch;
  }
  if (waiters_.fetch_add(1) >= kMaxWaiters) {
    waiters_.fetch_sub(1);
    return batch;
  }
  const auto deadline = Clock::now() + wait;
  while (batch.events.empty() && batch.dropped == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<Clock::duration>(kPollInterval, deadline - Clock::now()));
    batch = read(batch.next, filter, max);
  }
  waiters_.fetch_sub(1);
  batch.waited = true;
  return batch;
}

}  // namespace rampart::gateway
