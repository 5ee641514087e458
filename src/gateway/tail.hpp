#pragma once
// Live request events for `rampart tail`: what each proxied request became (time, service,
// version, method, path, status, latency, upstream, and the failure kind of an answer of the
// gateway's own), kept in one bounded ring per worker while someone tails.
//
// Costs. While nobody tails, a request pays one relaxed atomic load (TailHub::recording) and
// nothing else: no allocation, no lock. While someone tails, each worker writes into its OWN
// ring (single producer, no cross-worker contention): one fixed-size event copied in 8-byte
// relaxed stores under a per-slot sequence number (a seqlock), overwriting the oldest event
// when the ring is full. The worker never waits for a reader.
//
// Readers. A reader holds a cursor: per worker, the sequence number of the next event it wants.
// read() copies what is still in the rings after the cursor, merged by time; events the ring
// overwrote before the reader got to them are counted as dropped, never waited for. A
// subscription is what keeps recording on: it lives until unsubscribe() or until it has not
// been touched for the idle timeout, so a reader killed with -9 does not leave recording on.
//
// Thread safety: TailRing::push only on its worker's thread; everything else from any thread.

#include "common/result.hpp"
#include "metrics/registry.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::gateway {

// A fixed-size string: no allocation, copied as bytes. Longer text is cut at N bytes.
template <std::size_t N>
struct TailText {
  std::array<char, N> bytes{};
  uint8_t size = 0;
  bool cut = false;

  void set(std::string_view s) {
    cut = s.size() > N;
    size = static_cast<uint8_t>(cut ? N : s.size());
    std::copy_n(s.data(), size, bytes.data());
  }
  std::string_view view() const { return {bytes.data(), size}; }
};

inline constexpr uint8_t kNoFailure = 0xff;

struct TailEvent {
  static constexpr std::size_t kPathBytes = 200;  // longer paths are cut (path.cut)

  int64_t unix_ms = 0;      // when the answer was complete (or failed)
  uint32_t latency_us = 0;  // from the request header to the end of the answer
  uint16_t status = 0;
  // kNoFailure, or the metrics::Rejection of an answer of the gateway's own (no_route,
  // upstream_unavailable, upstream_timeout, ...); also upstream_reset / upstream_timeout when
  // the upstream failed mid-body after its status went out.
  uint8_t failure = kNoFailure;
  TailText<16> method;
  TailText<63> service;
  TailText<63> version;
  TailText<kPathBytes> path;  // without the query (it may hold secrets)
  TailText<63> upstream;      // "127.0.0.1:9001" as configured; empty when none was reached

  std::string_view failure_text() const;  // "" for kNoFailure
};

// Which statuses a reader wants: [min, max). "5xx" -> [500, 600), "503" -> [503, 504).
struct StatusFilter {
  uint16_t min = 0;
  uint16_t max = 1000;
  bool matches(uint16_t status) const { return status >= min && status < max; }
};
// "5xx", "4xx", ... or a status ("503"); empty: every status. kInvalidArgument otherwise.
Result<StatusFilter> parse_status_filter(std::string_view text);

struct TailFilter {
  std::string service;
  std::string version;  // empty: every version
  StatusFilter status;
  bool matches(const TailEvent& e) const;
};

class TailRing {
 public:
  static constexpr std::size_t kCapacity = 4096;

  TailRing();
  // Writes `e` as the event numbered head(), overwriting the one kCapacity before it.
  // REQUIRES: called by one thread only (the ring's worker).
  void push(const TailEvent& e);
  // The number the next event will get (events 0 .. head()-1 were pushed).
  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  // Copies event `seq` into `out`; false when it is not in the ring (overwritten, being
  // overwritten, or not yet pushed).
  bool read(uint64_t seq, TailEvent& out) const;

 private:
  static constexpr std::size_t kWords = (sizeof(TailEvent) + 7) / 8;
  struct Slot {
    std::atomic<uint64_t> version{0};  // 2*seq+1 while event seq is written, 2*seq+2 after
    std::array<std::atomic<uint64_t>, kWords> words{};
  };
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t> head_{0};
};

// Where a reader is: its subscription and, per worker, the next event it wants.
struct TailCursor {
  uint64_t subscription = 0;
  std::vector<uint64_t> next;
};
// "SUB.N0.N1..." and back; kInvalidArgument for text that is not one with `workers` numbers.
std::string format_cursor(const TailCursor& cursor);
Result<TailCursor> parse_cursor(std::string_view text, std::size_t workers);

struct TailBatch {
  std::vector<TailEvent> events;  // oldest first
  TailCursor next;                // where the following read starts
  uint64_t dropped = 0;           // events after the cursor the rings no longer had
  bool waited = false;            // wait_read() could wait (false: other readers were waiting)
};

class TailHub {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxSubscriptions = 64;
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{30000};

  explicit TailHub(std::size_t workers,
                   std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout);

  // The request path's question: is anyone tailing at `now`? One relaxed load.
  bool recording(Clock::time_point now) const {
    return record_until_.load(std::memory_order_relaxed) > now.time_since_epoch().count();
  }
  TailRing& ring(std::size_t worker) { return *rings_[worker]; }
  std::size_t workers() const { return rings_.size(); }

  // A new subscription whose cursor starts at the rings' heads (events from now on).
  // kUnavailable when kMaxSubscriptions are live.
  Result<TailCursor> subscribe(Clock::time_point now);
  // Keeps `subscription` alive; false when it is unknown (never made, ended or expired).
  bool touch(uint64_t subscription, Clock::time_point now);
  void unsubscribe(uint64_t subscription);
  std::size_t subscriptions(Clock::time_point now);

  // Up to `max` events after `from` that match `filter`, merged by time across workers.
  // A cursor ahead of a ring (a server restarted since) is taken back to its head.
  TailBatch read(const TailCursor& from, const TailFilter& filter, std::size_t max) const;
  // read(), repeated every kPollInterval while it finds nothing (no event, none dropped) until
  // `wait` has passed: a long poll that costs the workers nothing (they notify no one). At most
  // kMaxWaiters callers wait at once, as each holds a thread; the others get read()'s answer
  // at once. The answer's `waited` says which.
  TailBatch wait_read(const TailCursor& from, const TailFilter& filter, std::size_t max,
                      std::chrono::milliseconds wait);

  static constexpr int kMaxWaiters = 1;
  static constexpr std::chrono::milliseconds kPollInterval{50};

 private:
  // REQUIRES: mutex_ held. Drops expired subscriptions and recomputes record_until_.
  void refresh_locked(Clock::time_point now);

  std::vector<std::unique_ptr<TailRing>> rings_;
  const std::chrono::milliseconds idle_timeout_;
  // Steady-clock nanoseconds until which requests are recorded: the latest subscription's
  // last touch plus the idle timeout; 0 when none.
  alignas(64) std::atomic<int64_t> record_until_{0};
  std::atomic<int> waiters_{0};
  alignas(64) std::mutex mutex_;
  std::map<uint64_t, Clock::time_point> last_touch_;  // GUARDED_BY(mutex_)
  uint64_t next_subscription_ = 1;                    // GUARDED_BY(mutex_)
};

}  // namespace rampart::gateway
