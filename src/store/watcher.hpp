#pragma once
// Follows the events under a prefix from a revision on, without polling: the store's history
// (events_since) gives every event exactly once and wait_for_revision sleeps between
// batches. A watcher that starts late (from an old revision) first receives the whole
// history since that revision.
//
// Not thread-safe: one owner calls next(). REQUIRES: the store outlives the watcher.

#include "store/store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rampart::store {

class Watcher {
 public:
  // Will deliver the events with revision > after_revision. batch_limit is passed to
  // events_since (soft: a batch always ends with a whole revision; 0 = no limit).
  Watcher(Store& store, std::string prefix, std::int64_t after_revision,
          std::size_t batch_limit = 1000);

  // The next events in revision order, none delivered before and none skipped; empty when
  // nothing arrived within `timeout`. Errors come from events_since: the compacted error
  // (is_compacted) means this watcher fell behind the history and must be rebuilt from a
  // range read; kUnavailable may pass, so calling again is fine.
  Result<std::vector<Event>> next(std::chrono::milliseconds timeout);

  // Every event up to this revision has been delivered (or did not match the prefix).
  std::int64_t last_revision() const { return last_revision_; }
  const std::string& prefix() const { return prefix_; }

 private:
  Store& store_;
  std::string prefix_;
  std::int64_t last_revision_;
  std::size_t batch_limit_;
};

}  // namespace rampart::store
