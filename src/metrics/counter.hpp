#pragma once
// Single-writer counters: each std::atomic<uint64_t> in a metrics shard is written by exactly
// one worker thread and read by any. The writer needs no read-modify-write (no lock prefix):
// a relaxed load and store suffice. Readers load with relaxed order and see a value that was
// current at some moment; values from different counters are not a consistent cut.

#include <atomic>
#include <cstdint>

namespace rampart::metrics {

// REQUIRES: the calling thread is `counter`'s only writer.
inline void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// For gauges that the owning worker raises and lowers, such as active connections.
// REQUIRES: the calling thread is `gauge`'s only writer.
inline void drop(std::atomic<uint64_t>& gauge, uint64_t n = 1) {
  gauge.store(gauge.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
}

}  // namespace rampart::metrics
