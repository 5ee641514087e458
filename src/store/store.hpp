#pragma once
// The store: the only source of truth. Keys -> values with a global revision, modelled on
// etcd v3's data model so that an etcd backend can follow without changing callers.
// docs/store.md describes the data model, the guarantees and the backends.
//
// Every Store is thread-safe: any method may be called from several threads at once.
// Every method blocks (a write returns once its transaction is durable), so call the store
// from the control thread or the blocking thread pool, never from a gateway worker.
// No exception escapes a Store: failures come back as Result / Status values:
//   kInvalidArgument  the request breaks a rule or a limit (nothing was written)
//   kNotFound         unknown lease; or history/revision compacted (see is_compacted)
//   kUnavailable      the backend cannot serve (I/O error, disk full, file removed); the
//                     write did not happen as far as this process can tell (docs/store.md)
//   kInternal         a bug, or a store file that breaks its own invariants

#include "common/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rampart::store {

// Limits, checked before anything is written; a breach answers kInvalidArgument naming it.
inline constexpr std::size_t kMaxKeyBytes = 4 * 1024;
inline constexpr std::size_t kMaxValueBytes = 1024 * 1024;
// Applies to the compares, the success ops and the failure ops of a txn, each (as etcd).
inline constexpr std::size_t kMaxOpsPerTxn = 128;
inline constexpr std::chrono::seconds kMaxLeaseTtl{365LL * 24 * 3600};

// 0 means "no lease".
using LeaseId = std::int64_t;

struct KeyValue {
  std::string key{};
  std::string value{};
  std::int64_t create_revision = 0;  // revision of the put that created the key
  std::int64_t mod_revision = 0;     // revision of the last write of the key
  std::int64_t version = 0;          // writes since creation: 1 after the creating put
  LeaseId lease = 0;

  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct RangeOptions {
  bool prefix = false;    // every key starting with `key` ("" with prefix: every key)
  std::size_t limit = 0;  // at most this many kvs; 0 = no limit
  // 0 = the current revision. Otherwise the state as of that revision, which must lie in
  // [compacted_revision(), revision()]: older answers the compacted error, newer
  // kInvalidArgument.
  std::int64_t revision = 0;
};

struct RangeResponse {
  std::vector<KeyValue> kvs{};  // sorted by key, byte-wise
  bool more = false;            // the limit cut the answer short
  std::int64_t revision = 0;    // the store's revision when the range was read
};

enum class CompareTarget { kValue, kCreateRevision, kModRevision, kVersion, kLease };
enum class CompareOp { kEqual, kNotEqual, kLess, kGreater };

// One condition of a txn. A missing key has create/mod revision, version and lease 0, as in
// etcd; a kValue compare on a missing key is false whatever the op (etcd does the same).
struct Compare {
  std::string key{};
  CompareTarget target = CompareTarget::kModRevision;
  CompareOp op = CompareOp::kEqual;
  std::string value{};      // operand for kValue (byte-wise comparison)
  std::int64_t number = 0;  // operand for every other target
};

struct PutOp {
  std::string key{};
  std::string value{};
  LeaseId lease = 0;  // the key belongs to this lease (0: to none, detaching any old lease)
  bool prev_kv = false;
};

struct DeleteOp {
  std::string key{};
  bool prefix = false;  // every key starting with `key`
  bool prev_kv = false;
};

struct RangeOp {
  std::string key{};
  RangeOptions options{};
};

using Op = std::variant<PutOp, DeleteOp, RangeOp>;

// Ops run in order and see the writes of earlier ops of the same txn. As in etcd, one txn
// may write a key at most once (two puts, or a put inside a deleted range, of the same key
// answer kInvalidArgument): every key has at most one event per revision.
struct TxnRequest {
  std::vector<Compare> compares{};  // all must hold for the success branch
  std::vector<Op> success{};
  std::vector<Op> failure{};
};

struct PutResponse {
  std::optional<KeyValue> prev_kv{};  // set when asked for and the key existed
};

struct DeleteResponse {
  std::int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs{};  // filled when asked for
};

using OpResponse = std::variant<PutResponse, DeleteResponse, RangeResponse>;

struct TxnResponse {
  bool succeeded = false;  // the compares held and the success branch ran
  // The store's revision after the txn: the revision of its writes if it wrote anything
  // (all ops of one txn share it), else the unchanged current revision.
  std::int64_t revision = 0;
  std::vector<OpResponse> responses{};  // one per op of the branch that ran, in order
};

enum class EventType { kPut, kDelete };

// kPut: kv is the key as written. kDelete: kv holds the key and mod_revision = the revision
// of the delete; its other fields are 0/empty.
struct Event {
  EventType type = EventType::kPut;
  KeyValue kv{};

  std::int64_t revision() const { return kv.mod_revision; }
  friend bool operator==(const Event&, const Event&) = default;
};

struct EventBatch {
  std::vector<Event> events{};  // revision order, then op order within a revision
  // The store's revision when the batch was read. When !more, every event up to it has been
  // considered, so a watcher may resume from here.
  std::int64_t revision = 0;
  bool more = false;  // the limit cut the batch short: ask again from the last event
};

struct LeaseStatus {
  LeaseId id = 0;
  std::chrono::seconds granted_ttl{0};
  std::chrono::milliseconds remaining{0};  // time until expiry by the store's clock
};

// The monotonic clock a store judges lease deadlines by (a seam for tests).
using Clock = std::function<std::chrono::steady_clock::time_point()>;

struct StoreOptions {
  Clock clock{};  // empty: std::chrono::steady_clock::now
};

// True when `error` says the requested revision or history has been compacted away. Such a
// reader must re-read the state with range() and resume from that range's revision.
bool is_compacted(const Error& error);
Error make_compacted_error(std::int64_t requested, std::int64_t compacted);

// Keeps a subscribe() callback registered; destroying or reset()ing it unregisters the
// callback and waits for a running call of it to finish. Move-only. REQUIRES: the store
// outlives the subscription; never reset it from inside its own callback.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  void reset();
  bool active() const { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};

class Store {
 public:
  virtual ~Store() = default;

  // Keys equal to `key` (or starting with it, with options.prefix). A miss is an empty kvs.
  virtual Result<RangeResponse> range(std::string_view key, const RangeOptions& options = {}) = 0;

  // Evaluates the compares and runs one branch atomically: either every write of the branch
  // is durable under one new revision, or none happened.
  virtual Result<TxnResponse> txn(const TxnRequest& request) = 0;

  // Every event on keys starting with `prefix` with revision > after_revision, from the
  // persisted history. `limit` (0 = none) is soft: a batch always ends with a whole
  // revision, so it may hold more than `limit` events. after_revision below
  // compacted_revision() answers the compacted error (is_compacted).
  virtual Result<EventBatch> events_since(std::string_view prefix, std::int64_t after_revision,
                                          std::size_t limit = 0) = 0;

  // Drops the history up to `revision` (events_since(r) then needs r >= revision; ranges at
  // revisions >= `revision` still work). Does not change the revision. A revision above the
  // current one answers kInvalidArgument; one at or below compacted_revision() the compacted
  // error (as etcd).
  virtual Status compact(std::int64_t revision) = 0;

  // 0 for an empty store; +1 per txn that wrote something.
  virtual std::int64_t revision() = 0;
  virtual std::int64_t compacted_revision() = 0;

  // Blocks until revision() > `revision` (true) or the timeout passes (false).
  virtual bool wait_for_revision(std::int64_t revision, std::chrono::milliseconds timeout) = 0;

  // `callback(revision)` runs after commits, on the committing thread, after the store's
  // lock is released (it may read the store; it must be quick and must not write to the
  // store). Calls are serialised and their revisions strictly increase, but racing commits
  // may be coalesced into one call with the newest revision: read events_since() for what
  // changed.
  virtual Subscription subscribe(std::function<void(std::int64_t)> callback) = 0;

  // Leases. A lease past its deadline counts as gone for put and keep_alive even before
  // expire_leases() has deleted its keys.
  virtual Result<LeaseId> grant(std::chrono::seconds ttl) = 0;
  // Restarts the lease's full TTL; answers the granted TTL. Unknown or expired: kNotFound.
  virtual Result<std::chrono::seconds> keep_alive(LeaseId id) = 0;
  // Deletes the lease and its keys in one revision (delete events); answers the store's
  // revision afterwards (unchanged when the lease had no keys). Unknown: kNotFound.
  virtual Result<std::int64_t> revoke(LeaseId id) = 0;
  virtual Result<LeaseStatus> time_to_live(LeaseId id) = 0;
  // Revokes every lease past its deadline (each in its own revision) and answers their ids.
  // The owner calls it periodically (e.g. every second from the control thread).
  virtual Result<std::vector<LeaseId>> expire_leases() = 0;

  // Conveniences built on txn().
  // Answers the revision of the write.
  Result<std::int64_t> put(std::string key, std::string value, LeaseId lease = 0);
  // A miss is std::nullopt, not an error.
  Result<std::optional<KeyValue>> get(std::string key);
  // Answers how many keys were deleted (0 on a miss; the revision is then unchanged).
  Result<std::int64_t> del(std::string key, bool prefix = false);
};

}  // namespace rampart::store
