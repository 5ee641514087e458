#include "store/memory_store.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

namespace rampart::store {

namespace {

// The state in maps and a vector, with an undo log for rollback. Never fails.
class MemoryStorage final : public Storage {
 public:
  Result<StorageMeta> load_meta() override { return meta_; }

  Result<std::vector<StoredLease>> load_leases() override {
    std::vector<StoredLease> leases;
    for (const auto& [id, ttl] : leases_) {
      leases.push_back(StoredLease{id, ttl});
    }
    return leases;
  }

  Status begin() override {
    undo_.clear();
    return {};
  }

  Status commit() override {
    undo_.clear();
    return {};
  }

  void rollback() override {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      (*it)();
    }
    undo_.clear();
  }

  Result<std::optional<KeyValue>> get(std::string_view key) override {
    auto it = kvs_.find(key);
    if (it == kvs_.end()) {
      return std::optional<KeyValue>{};
    }
    return std::optional<KeyValue>{it->second};
  }

  Result<std::vector<KeyValue>> range(const KeySpan& span, std::size_t limit) override {
    std::vector<KeyValue> kvs;
    for (auto it = kvs_.lower_bound(span.begin); it != kvs_.end() && span.contains(it->first);
         ++it) {
      if (limit != 0 && kvs.size() == limit) {
        break;
      }
      kvs.push_back(it->second);
    }
    return kvs;
  }

  Result<std::vector<KeyValue>> range_at(const KeySpan& span, std::int64_t revision,
                                         std::size_t limit) override {
    std::map<std::string_view, const Event*> latest;
    for (const StoredEvent& stored : events_) {
      if (stored.event.revision() > revision) {
        break;
      }
      if (span.contains(stored.event.kv.key)) {
        latest[stored.event.kv.key] = &stored.event;
      }
    }
    std::vector<KeyValue> kvs;
    for (const auto& [key, event] : latest) {
      if (limit != 0 && kvs.size() == limit) {
        break;
      }
      if (event->type == EventType::kPut) {
        kvs.push_back(event->kv);
      }
    }
    return kvs;
  }

  Result<std::vector<std::string>> keys_with_lease(LeaseId lease) override {
    std::vector<std::string> keys;
    for (const auto& [key, kv] : kvs_) {
      if (kv.lease == lease) {
        keys.push_back(key);
      }
    }
    return keys;
  }

  Result<std::vector<Event>> events(const KeySpan& span, std::int64_t after, std::int64_t upto,
                                    std::size_t limit) override {
    auto it = std::partition_point(events_.begin(), events_.end(), [after](const StoredEvent& s) {
      return s.event.revision() <= after;
    });
    std::vector<Event> events;
    for (; it != events_.end() && it->event.revision() <= upto; ++it) {
      if (limit != 0 && events.size() == limit) {
        break;
      }
      if (span.contains(it->event.kv.key)) {
        events.push_back(it->event);
      }
    }
    return events;
  }

  Status put(const KeyValue& kv) override {
    auto it = kvs_.find(kv.key);
    if (it == kvs_.end()) {
      kvs_.emplace(kv.key, kv);
      undo_.push_back([this, key = kv.key] { kvs_.erase(key); });
    } else {
      undo_.push_back([this, old = it->second] { kvs_[old.key] = old; });
      it->second = kv;
    }
    return {};
  }

  Status erase(std::string_view key) override {
    auto it = kvs_.find(key);
    if (it != kvs_.end()) {
      undo_.push_back([this, old = it->second] { kvs_.emplace(old.key, old); });
      kvs_.erase(it);
    }
    return {};
  }

  Status append_event(std::int64_t index, const Event& event) override {
    events_.push_back(StoredEvent{index, event});
    undo_.push_back([this] { events_.pop_back(); });
    return {};
  }

  Status save_meta(const StorageMeta& meta) override {
    undo_.push_back([this, old = meta_] { meta_ = old; });
    meta_ = meta;
    return {};
  }

  Status compact_history(std::int64_t revision) override {
    auto end = std::partition_point(
        events_.begin(), events_.end(),
        [revision](const StoredEvent& s) { return s.event.revision() <= revision; });
    // Walking back from the compaction point, the first event seen of a key is its latest.
    std::set<std::string_view> seen;
    std::vector<bool> keep(static_cast<std::size_t>(end - events_.begin()), false);
    for (auto it = end; it != events_.begin();) {
      --it;
      if (seen.insert(it->event.kv.key).second && it->event.type == EventType::kPut) {
        keep[static_cast<std::size_t>(it - events_.begin())] = true;
      }
    }
    std::vector<StoredEvent> kept;
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      const auto i = static_cast<std::size_t>(it - events_.begin());
      if (i >= keep.size() || keep[i]) {
        kept.push_back(*it);
      }
    }
    undo_.push_back([this, old = events_] { events_ = old; });
    events_ = std::move(kept);
    return {};
  }

  Status put_lease(const StoredLease& lease) override {
    leases_[lease.id] = lease.ttl;
    undo_.push_back([this, id = lease.id] { leases_.erase(id); });
    return {};
  }

  Status erase_lease(LeaseId id) override {
    auto it = leases_.find(id);
    if (it != leases_.end()) {
      undo_.push_back([this, id, ttl = it->second] { leases_[id] = ttl; });
      leases_.erase(it);
    }
    return {};
  }

  Status check_integrity() override { return {}; }

 private:
  struct StoredEvent {
    std::int64_t index = 0;
    Event event;
  };

  std::map<std::string, KeyValue, std::less<>> kvs_;
  std::vector<StoredEvent> events_;  // (revision, index) order
  std::map<LeaseId, std::chrono::seconds> leases_;
  StorageMeta meta_;
  std::vector<std::function<void()>> undo_;  // REQUIRES: only filled inside a transaction
};

}  // namespace

MemoryStore::MemoryStore(StoreOptions options)
    : LocalStore(std::make_unique<MemoryStorage>(), std::move(options)) {
  // MemoryStorage never fails, so neither does loading it.
  (void)load();
}

}  // namespace rampart::store
