#pragma once
// Internal to src/store: what LocalStore needs from a place that keeps the state (keys, the
// event history, leases and the counters). MemoryStorage and SqliteStorage implement it;
// LocalStore holds all the etcd semantics (revisions, compares, events, leases) once.
//
// Not thread-safe: LocalStore calls a Storage only with its mutex held.

#include "common/result.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::store {

// The keys k with begin <= k < end (byte-wise); no end: every key from begin on.
struct KeySpan {
  std::string begin;
  std::optional<std::string> end;

  bool contains(std::string_view key) const {
    return key >= std::string_view(begin) && (!end || key < std::string_view(*end));
  }
};

// etcd's prefix range end: the prefix with its last byte below 0xff incremented and the
// bytes after it dropped; none when every byte is 0xff (or the prefix is empty).
std::optional<std::string> prefix_end(std::string_view prefix);
// One key (`prefix` false) or every key starting with `key`.
KeySpan make_span(std::string_view key, bool prefix);

struct StoredLease {
  LeaseId id = 0;
  std::chrono::seconds ttl{0};
};

// The counters kept next to the data.
struct StorageMeta {
  std::int64_t revision = 0;
  std::int64_t compacted_revision = 0;
  LeaseId next_lease_id = 1;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // What the storage holds now (at open).
  virtual Result<StorageMeta> load_meta() = 0;
  virtual Result<std::vector<StoredLease>> load_leases() = 0;

  // A write transaction. Writes happen only between begin() and commit()/rollback(); reads
  // inside see the transaction's own writes. commit() returns once the transaction is
  // durable; on failure the storage is as before begin() (call rollback() anyway).
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;

  virtual Result<std::optional<KeyValue>> get(std::string_view key) = 0;
  // Keys of the span in key order; limit 0 = all.
  virtual Result<std::vector<KeyValue>> range(const KeySpan& span, std::size_t limit) = 0;
  // The span as of `revision`, rebuilt from the history (the latest event of each key at or
  // below `revision`, when it is a put). REQUIRES: revision >= the compacted revision.
  virtual Result<std::vector<KeyValue>> range_at(const KeySpan& span, std::int64_t revision,
                                                 std::size_t limit) = 0;
  virtual Result<std::vector<std::string>> keys_with_lease(LeaseId lease) = 0;
  // Events of the span with after < revision <= upto, in (revision, op) order; limit 0 = all.
  virtual Result<std::vector<Event>> events(const KeySpan& span, std::int64_t after,
                                            std::int64_t upto, std::size_t limit) = 0;

  // REQUIRES: inside a transaction.
  virtual Status put(const KeyValue& kv) = 0;
  virtual Status erase(std::string_view key) = 0;
  // `index` orders the events of one revision (op order).
  virtual Status append_event(std::int64_t index, const Event& event) = 0;
  virtual Status save_meta(const StorageMeta& meta) = 0;
  // Drops the events at or below `revision`, except the latest put of each key whose latest
  // event at or below `revision` is a put (range_at(revision) needs it).
  virtual Status compact_history(std::int64_t revision) = 0;
  virtual Status put_lease(const StoredLease& lease) = 0;
  virtual Status erase_lease(LeaseId id) = 0;

  // The backend's own consistency checks (SQLite: PRAGMA integrity_check); LocalStore checks
  // the data model's invariants on top.
  virtual Status check_integrity() = 0;
};

}  // namespace rampart::store
