#pragma once
// A Store served by this process from a Storage (memory or a SQLite file): the etcd
// semantics written once. MemoryStore and SqliteStore are its two faces.
//
// Thread safety: one mutex serialises every call (reads wait while a write commits).
// In-memory state (the revision, the lease deadlines) changes only after the Storage has
// committed, so a failed write leaves memory and storage as they were.

#include "store/storage.hpp"
#include "store/store.hpp"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

namespace rampart::store {

class LocalStore : public Store {
 public:
  ~LocalStore() override;

  Result<RangeResponse> range(std::string_view key, const RangeOptions& options = {}) override;
  Result<TxnResponse> txn(const TxnRequest& request) override;
  Result<EventBatch> events_since(std::string_view prefix, std::int64_t after_revision,
                                  std::size_t limit = 0) override;
  Status compact(std::int64_t revision) override;
  std::int64_t revision() override;
  std::int64_t compacted_revision() override;
  bool wait_for_revision(std::int64_t revision, std::chrono::milliseconds timeout) override;
  Subscription subscribe(std::function<void(std::int64_t)> callback) override;
  Result<LeaseId> grant(std::chrono::seconds ttl) override;
  Result<std::chrono::seconds> keep_alive(LeaseId id) override;
  Result<std::int64_t> revoke(LeaseId id) override;
  Result<LeaseStatus> time_to_live(LeaseId id) override;
  Result<std::vector<LeaseId>> expire_leases() override;

  // Checks the storage's invariants: every revision in (compacted, revision] has events,
  // no event or key lies beyond the revision, every key's lease exists, plus the backend's
  // own checks (SQLite: PRAGMA integrity_check). For tests and diagnostics.
  Status check_integrity();

 protected:
  // Takes over `storage`; load() must succeed before the store is used.
  LocalStore(std::unique_ptr<Storage> storage, StoreOptions options);
  // Reads the counters and leases from the storage; every lease gets its full TTL from now.
  Status load();

 private:
  struct Lease {
    std::chrono::seconds ttl{0};
    std::chrono::steady_clock::time_point deadline;
  };

  // REQUIRES: mutex_ is held (for all the *_locked functions).
  Result<RangeResponse> range_locked(std::string_view key, const RangeOptions& options,
                                     bool in_txn);
  Result<TxnResponse> apply_txn_locked(const TxnRequest& request);
  Result<bool> compares_hold_locked(const std::vector<Compare>& compares);
  Result<std::int64_t> revoke_locked(LeaseId id);
  bool lease_alive_locked(LeaseId id, std::chrono::steady_clock::time_point now) const;
  // Marks the revision committed in memory and wakes the waiters.
  void committed_locked(std::int64_t revision);

  // Calls the subscribers with `revision` unless a newer one was announced already.
  // REQUIRES: mutex_ is NOT held.
  void notify_subscribers(std::int64_t revision);
  void unsubscribe(std::uint64_t id);

  std::mutex mutex_;
  std::condition_variable revision_changed_;
  std::unique_ptr<Storage> storage_;
  Clock clock_;
  StorageMeta meta_;
  std::map<LeaseId, Lease> leases_;

  // Held while subscribers run; never taken together with mutex_ the other way round.
  std::mutex subscribers_mutex_;
  std::map<std::uint64_t, std::function<void(std::int64_t)>> subscribers_;
  std::uint64_t next_subscriber_ = 1;
  std::int64_t notified_revision_ = 0;
};

}  // namespace rampart::store
