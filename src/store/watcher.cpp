#include "store/watcher.hpp"

#include <algorithm>
#include <utility>

namespace rampart::store {

Watcher::Watcher(Store& store, std::string prefix, std::int64_t after_revision,
                 std::size_t batch_limit)
    : store_(store),
      prefix_(std::move(prefix)),
      last_revision_(after_revision),
      batch_limit_(batch_limit) {}

Result<std::vector<Event>> Watcher::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto batch = store_.events_since(prefix_, last_revision_, batch_limit_);
    if (!batch) {
      return batch.error();
    }
    if (!batch->events.empty()) {
      // A batch ends with a whole revision, so resuming after its last event loses nothing;
      // without `more`, nothing matched up to the batch's revision either.
      last_revision_ = batch->more ? batch->events.back().revision()
                                   : std::max(batch->events.back().revision(), batch->revision);
      return std::move(batch->events);
    }
    // Nothing under the prefix up to batch->revision: skip ahead and sleep until a newer
    // commit (or the deadline).
    last_revision_ = std::max(last_revision_, batch->revision);
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return std::vector<Event>{};
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (!store_.wait_for_revision(last_revision_, left)) {
      return std::vector<Event>{};
    }
  }
}

}  // namespace rampart::store
