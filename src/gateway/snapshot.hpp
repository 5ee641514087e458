#pragma once
// Publishing an immutable snapshot to many reader threads.
//
// The writer (control thread) swaps the pointer under a mutex and bumps a generation counter.
// Each reader keeps its own copy of the pointer and looks at the counter once per request:
// the common case is one relaxed-cost atomic load, no shared reference-count traffic.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace rampart::gateway {

template <class T>
class SnapshotPublisher {
 public:
  void publish(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_release);
  }

  std::shared_ptr<const T> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
  std::atomic<uint64_t> generation_{0};
};

// One reader's view. Not thread-safe: one per worker thread.
template <class T>
class SnapshotReader {
 public:
  explicit SnapshotReader(const SnapshotPublisher<T>& publisher) : publisher_(publisher) {}

  // The latest published snapshot; the returned pointer keeps it alive for the caller.
  const std::shared_ptr<const T>& get() {
    uint64_t g = publisher_.generation();
    if (g != seen_) {
      local_ = publisher_.current();
      seen_ = g;
    }
    return local_;
  }

 private:
  const SnapshotPublisher<T>& publisher_;
  uint64_t seen_ = ~uint64_t{0};
  std::shared_ptr<const T> local_;
};

}  // namespace rampart::gateway
