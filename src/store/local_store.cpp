#include "store/local_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>
#include <utility>

namespace rampart::store {

namespace {

// A key as it may appear in a message: printable ASCII kept, other bytes as \xNN, long keys
// cut after 64 bytes.
std::string describe_key(std::string_view key) {
  constexpr std::size_t kShown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < key.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  out.push_back('"');
  if (key.size() > kShown) {
    out += fmt::format("... ({} bytes)", key.size());
  }
  return out;
}

Status check_key(std::string_view key, bool prefix, std::string_view what) {
  if (key.empty() && !prefix) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: the key is empty (only a prefix may be empty)", what));
  }
  if (key.size() > kMaxKeyBytes) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: key {} is {} bytes; the limit is {} bytes (kMaxKeyBytes)",
                                  what, describe_key(key), key.size(), kMaxKeyBytes));
  }
  return {};
}

Status check_value(std::string_view key, std::string_view value, std::string_view what) {
  if (value.size() > kMaxValueBytes) {
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("{}: the value of {} is {} bytes; the limit is {} bytes (kMaxValueBytes)", what,
                    describe_key(key), value.size(), kMaxValueBytes));
  }
  return {};
}

Status check_count(std::size_t count, std::string_view what) {
  if (count > kMaxOpsPerTxn) {
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("txn has {} {}; the limit is {} (kMaxOpsPerTxn)", count, what, kMaxOpsPerTxn));
  }
  return {};
}

Status check_revision_option(std::int64_t revision, std::string_view what) {
  if (revision < 0) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: revision {} is negative", what, revision));
  }
  return {};
}

// Checks one branch of a txn: each op on its own, then that no key is written twice.
Status check_branch(const std::vector<Op>& ops, std::string_view branch) {
  if (auto s = check_count(ops.size(), fmt::format("{} ops", branch)); !s) {
    return s;
  }
  std::set<std::string_view> put_keys;
  std::vector<KeySpan> deleted;
  for (const Op& op : ops) {
    if (const auto* put = std::get_if<PutOp>(&op)) {
      if (auto s = check_key(put->key, false, "put"); !s) {
        return s;
      }
      if (auto s = check_value(put->key, put->value, "put"); !s) {
        return s;
      }
      if (put->lease < 0) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("put: lease {} is negative", put->lease));
      }
      if (!put_keys.insert(put->key).second) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("txn {} branch puts key {} twice; one txn may write a key "
                                      "at most once",
                                      branch, describe_key(put->key)));
      }
    } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
      if (auto s = check_key(del->key, del->prefix, "delete"); !s) {
        return s;
      }
      deleted.push_back(make_span(del->key, del->prefix));
    } else {
      const auto& range = std::get<RangeOp>(op);
      if (auto s = check_key(range.key, range.options.prefix, "range"); !s) {
        return s;
      }
      if (auto s = check_revision_option(range.options.revision, "range"); !s) {
        return s;
      }
    }
  }
  for (std::string_view key : put_keys) {
    for (const KeySpan& span : deleted) {
      if (span.contains(key)) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("txn {} branch both puts and deletes key {}; one txn may "
                                      "write a key at most once",
                                      branch, describe_key(key)));
      }
    }
  }
  return {};
}

Status check_txn(const TxnRequest& request) {
  if (auto s = check_count(request.compares.size(), "compares"); !s) {
    return s;
  }
  for (const Compare& compare : request.compares) {
    if (auto s = check_key(compare.key, false, "compare"); !s) {
      return s;
    }
    if (auto s = check_value(compare.key, compare.value, "compare"); !s) {
      return s;
    }
  }
  if (auto s = check_branch(request.success, "success"); !s) {
    return s;
  }
  return check_branch(request.failure, "failure");
}

bool compare_holds(const KeyValue& kv, const Compare& compare) {
  int order = 0;
  if (compare.target == CompareTarget::kValue) {
    const int c = kv.value.compare(compare.value);
    order = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    std::int64_t field = 0;
    switch (compare.target) {
      case CompareTarget::kCreateRevision:
        field = kv.create_revision;
        break;
      case CompareTarget::kModRevision:
        field = kv.mod_revision;
        break;
      case CompareTarget::kVersion:
        field = kv.version;
        break;
      case CompareTarget::kLease:
        field = kv.lease;
        break;
      case CompareTarget::kValue:
        break;
    }
    order = field < compare.number ? -1 : (field > compare.number ? 1 : 0);
  }
  switch (compare.op) {
    case CompareOp::kEqual:
      return order == 0;
    case CompareOp::kNotEqual:
      return order != 0;
    case CompareOp::kLess:
      return order < 0;
    case CompareOp::kGreater:
      return order > 0;
  }
  return false;
}

Event delete_event(const std::string& key, std::int64_t revision) {
  Event event;
  event.type = EventType::kDelete;
  event.kv.key = key;
  event.kv.mod_revision = revision;
  return event;
}

Error lease_not_found(LeaseId id) {
  return make_error(Errc::kNotFound, fmt::format("lease {} not found (never granted, revoked "
                                                 "or expired)",
                                                 id));
}

}  // namespace

std::optional<std::string> prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

KeySpan make_span(std::string_view key, bool prefix) {
  if (prefix) {
    return KeySpan{std::string(key), prefix_end(key)};
  }
  std::string end(key);
  end.push_back('\0');
  return KeySpan{std::string(key), std::move(end)};
}

LocalStore::LocalStore(std::unique_ptr<Storage> storage, StoreOptions options)
    : storage_(std::move(storage)), clock_(std::move(options.clock)) {
  if (!clock_) {
    clock_ = [] { return std::chrono::steady_clock::now(); };
  }
}

LocalStore::~LocalStore() = default;

Status LocalStore::load() {
  std::lock_guard lock(mutex_);
  auto meta = storage_->load_meta();
  if (!meta) {
    return meta.error();
  }
  auto leases = storage_->load_leases();
  if (!leases) {
    return leases.error();
  }
  meta_ = *meta;
  notified_revision_ = meta_.revision;
  const auto now = clock_();
  leases_.clear();
  for (const StoredLease& lease : *leases) {
    leases_[lease.id] = Lease{lease.ttl, now + lease.ttl};
  }
  return {};
}

Result<RangeResponse> LocalStore::range(std::string_view key, const RangeOptions& options) {
  if (auto s = check_key(key, options.prefix, "range"); !s) {
    return s.error();
  }
  if (auto s = check_revision_option(options.revision, "range"); !s) {
    return s.error();
  }
  std::lock_guard lock(mutex_);
  return range_locked(key, options, false);
}

Result<RangeResponse> LocalStore::range_locked(std::string_view key, const RangeOptions& options,
                                               bool in_txn) {
  if (options.revision > meta_.revision) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("range: revision {} is in the future (the store is at {})",
                                  options.revision, meta_.revision));
  }
  if (options.revision != 0 && options.revision < meta_.compacted_revision) {
    return make_compacted_error(options.revision, meta_.compacted_revision);
  }
  const KeySpan span = make_span(key, options.prefix);
  // One more than asked for tells whether the limit cut the answer.
  const std::size_t fetch = options.limit == 0 ? 0 : options.limit + 1;
  // Inside a txn the current view already holds the txn's own writes, so any explicit
  // revision is read from the history.
  const bool current = options.revision == 0 || (!in_txn && options.revision == meta_.revision);
  auto kvs =
      current ? storage_->range(span, fetch) : storage_->range_at(span, options.revision, fetch);
  if (!kvs) {
    return kvs.error();
  }
  RangeResponse response;
  response.kvs = std::move(*kvs);
  if (options.limit != 0 && response.kvs.size() > options.limit) {
    response.kvs.resize(options.limit);
    response.more = true;
  }
  response.revision = meta_.revision;
  return response;
}

Result<TxnResponse> LocalStore::txn(const TxnRequest& request) {
  if (auto s = check_txn(request); !s) {
    return s.error();
  }
  Result<TxnResponse> response = make_error(Errc::kInternal, "txn did not run");
  std::int64_t before = 0;
  {
    std::lock_guard lock(mutex_);
    before = meta_.revision;
    response = apply_txn_locked(request);
  }
  if (response && response->revision != before) {
    notify_subscribers(response->revision);
  }
  return response;
}

Result<bool> LocalStore::compares_hold_locked(const std::vector<Compare>& compares) {
  for (const Compare& compare : compares) {
    auto kv = storage_->get(compare.key);
    if (!kv) {
      return kv.error();
    }
    if (!*kv) {
      // etcd: a value compare on a missing key fails; other targets compare against 0.
      if (compare.target == CompareTarget::kValue || !compare_holds(KeyValue{}, compare)) {
        return false;
      }
      continue;
    }
    if (!compare_holds(**kv, compare)) {
      return false;
    }
  }
  return true;
}

Result<TxnResponse> LocalStore::apply_txn_locked(const TxnRequest& request) {
  // A txn that cannot write (only ranges in both branches) needs no write transaction: the
  // store's mutex already keeps every writer out, so its reads see one revision. It also keeps
  // serving reads when writes are refused (a removed file, a full disk).
  const auto writes = [](const std::vector<Op>& ops) {
    return std::any_of(ops.begin(), ops.end(),
                       [](const Op& op) { return !std::holds_alternative<RangeOp>(op); });
  };
  const bool read_only = !writes(request.success) && !writes(request.failure);
  if (!read_only) {
    if (auto s = storage_->begin(); !s) {
      return s.error();
    }
  }
  // Any early return below rolls the storage back; a commit disarms it.
  bool open = !read_only;
  struct RollbackGuard {
    Storage& storage;
    bool& open;
    ~RollbackGuard() {
      if (open) {
        storage.rollback();
      }
    }
  } guard{*storage_, open};

  auto holds = compares_hold_locked(request.compares);
  if (!holds) {
    return holds.error();
  }
  const std::vector<Op>& ops = *holds ? request.success : request.failure;

  const auto now = clock_();
  for (const Op& op : ops) {
    const auto* put = std::get_if<PutOp>(&op);
    if (put != nullptr && put->lease != 0 && !lease_alive_locked(put->lease, now)) {
      return lease_not_found(put->lease);
    }
  }

  const std::int64_t revision = meta_.revision + 1;
  std::int64_t events = 0;
  TxnResponse response;
  response.succeeded = *holds;
  response.responses.reserve(ops.size());
  for (const Op& op : ops) {
    if (const auto* put = std::get_if<PutOp>(&op)) {
      auto prev = storage_->get(put->key);
      if (!prev) {
        return prev.error();
      }
      KeyValue kv{.key = put->key,
                  .value = put->value,
                  .create_revision = *prev ? (*prev)->create_revision : revision,
                  .mod_revision = revision,
                  .version = *prev ? (*prev)->version + 1 : 1,
                  .lease = put->lease};
      if (auto s = storage_->put(kv); !s) {
        return s.error();
      }
      if (auto s = storage_->append_event(events++, Event{EventType::kPut, std::move(kv)}); !s) {
        return s.error();
      }
      PutResponse put_response;
      if (put->prev_kv && *prev) {
        put_response.prev_kv = std::move(**prev);
      }
      response.responses.emplace_back(std::move(put_response));
    } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
      auto victims = storage_->range(make_span(del->key, del->prefix), 0);
      if (!victims) {
        return victims.error();
      }
      for (const KeyValue& victim : *victims) {
        if (auto s = storage_->erase(victim.key); !s) {
          return s.error();
        }
        if (auto s = storage_->append_event(events++, delete_event(victim.key, revision)); !s) {
          return s.error();
        }
      }
      DeleteResponse del_response;
      del_response.deleted = static_cast<std::int64_t>(victims->size());
      if (del->prev_kv) {
        del_response.prev_kvs = std::move(*victims);
      }
      response.responses.emplace_back(std::move(del_response));
    } else {
      const auto& range = std::get<RangeOp>(op);
      auto range_response = range_locked(range.key, range.options, true);
      if (!range_response) {
        return range_response.error();
      }
      response.responses.emplace_back(std::move(*range_response));
    }
  }

  if (events == 0) {
    // Nothing written: no revision, nothing to make durable (the guard rolls back).
    response.revision = meta_.revision;
  } else {
    StorageMeta next = meta_;
    next.revision = revision;
    if (auto s = storage_->save_meta(next); !s) {
      return s.error();
    }
    if (auto s = storage_->commit(); !s) {
      return s.error();
    }
    open = false;
    meta_ = next;
    committed_locked(revision);
    response.revision = revision;
  }
  for (OpResponse& op_response : response.responses) {
    if (auto* range_response = std::get_if<RangeResponse>(&op_response)) {
      range_response->revision = response.revision;
    }
  }
  return response;
}

Result<EventBatch> LocalStore::events_since(std::string_view prefix, std::int64_t after_revision,
                                            std::size_t limit) {
  if (auto s = check_key(prefix, true, "events_since"); !s) {
    return s.error();
  }
  if (after_revision < 0) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("events_since: revision {} is negative", after_revision));
  }
  std::lock_guard lock(mutex_);
  if (after_revision < meta_.compacted_revision) {
    return make_compacted_error(after_revision, meta_.compacted_revision);
  }
  const KeySpan span = make_span(prefix, true);
  constexpr auto kAll = std::numeric_limits<std::int64_t>::max();
  auto events = storage_->events(span, after_revision, kAll, limit);
  if (!events) {
    return events.error();
  }
  EventBatch batch;
  batch.revision = meta_.revision;
  if (limit != 0 && events->size() >= limit) {
    // The limit may have cut the last revision: replace its events by all of them.
    const std::int64_t last = events->back().revision();
    std::erase_if(*events, [last](const Event& e) { return e.revision() == last; });
    auto tail = storage_->events(span, last - 1, last, 0);
    if (!tail) {
      return tail.error();
    }
    std::move(tail->begin(), tail->end(), std::back_inserter(*events));
    batch.more = last < meta_.revision;
  }
  batch.events = std::move(*events);
  return batch;
}

Status LocalStore::compact(std::int64_t revision) {
  std::lock_guard lock(mutex_);
  if (revision > meta_.revision) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("compact: revision {} is in the future (the store is at {})",
                                  revision, meta_.revision));
  }
  if (revision <= meta_.compacted_revision) {
    return make_compacted_error(revision, meta_.compacted_revision);
  }
  if (auto s = storage_->begin(); !s) {
    return s;
  }
  StorageMeta next = meta_;
  next.compacted_revision = revision;
  Status status = storage_->compact_history(revision);
  if (status) {
    status = storage_->save_meta(next);
  }
  if (status) {
    status = storage_->commit();
  }
  if (!status) {
    storage_->rollback();
    return status;
  }
  meta_ = next;
  return {};
}

std::int64_t LocalStore::revision() {
  std::lock_guard lock(mutex_);
  return meta_.revision;
}

std::int64_t LocalStore::compacted_revision() {
  std::lock_guard lock(mutex_);
  return meta_.compacted_revision;
}

bool LocalStore::wait_for_revision(std::int64_t revision, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return revision_changed_.wait_for(lock, timeout, [&] { return meta_.revision > revision; });
}

void LocalStore::committed_locked(std::int64_t revision) {
  meta_.revision = revision;
  revision_changed_.notify_all();
}

Subscription LocalStore::subscribe(std::function<void(std::int64_t)> callback) {
  std::lock_guard lock(subscribers_mutex_);
  const std::uint64_t id = next_subscriber_++;
  subscribers_.emplace(id, std::move(callback));
  return Subscription([this, id] { unsubscribe(id); });
}

void LocalStore::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.erase(id);
}

void LocalStore::notify_subscribers(std::int64_t revision) {
  std::lock_guard lock(subscribers_mutex_);
  if (revision <= notified_revision_) {
    return;  // a racing commit already announced a newer revision
  }
  notified_revision_ = revision;
  for (auto& [id, callback] : subscribers_) {
    callback(revision);
  }
}

bool LocalStore::lease_alive_locked(LeaseId id, std::chrono::steady_clock::time_point now) const {
  auto it = leases_.find(id);
  return it != leases_.end() && now < it->second.deadline;
}

Result<LeaseId> LocalStore::grant(std::chrono::seconds ttl) {
  if (ttl <= std::chrono::seconds::zero() || ttl > kMaxLeaseTtl) {
    return make_error(Errc::kInvalidArgument, fmt::format("grant: ttl {}s is outside 1s..{}s",
                                                          ttl.count(), kMaxLeaseTtl.count()));
  }
  std::lock_guard lock(mutex_);
  if (auto s = storage_->begin(); !s) {
    return s.error();
  }
  const LeaseId id = meta_.next_lease_id;
  StorageMeta next = meta_;
  next.next_lease_id = id + 1;
  Status status = storage_->put_lease(StoredLease{id, ttl});
  if (status) {
    status = storage_->save_meta(next);
  }
  if (status) {
    status = storage_->commit();
  }
  if (!status) {
    storage_->rollback();
    return status.error();
  }
  meta_ = next;
  leases_[id] = Lease{ttl, clock_() + ttl};
  return id;
}

Result<std::chrono::seconds> LocalStore::keep_alive(LeaseId id) {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  if (!lease_alive_locked(id, now)) {
    return lease_not_found(id);
  }
  Lease& lease = leases_[id];
  lease.deadline = now + lease.ttl;
  return lease.ttl;
}

Result<LeaseStatus> LocalStore::time_to_live(LeaseId id) {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  if (!lease_alive_locked(id, now)) {
    return lease_not_found(id);
  }
  const Lease& lease = leases_[id];
  return LeaseStatus{
      .id = id,
      .granted_ttl = lease.ttl,
      .remaining = std::chrono::duration_cast<std::chrono::milliseconds>(lease.deadline - now)};
}

Result<std::int64_t> LocalStore::revoke(LeaseId id) {
  Result<std::int64_t> revision = make_error(Errc::kInternal, "revoke did not run");
  std::int64_t before = 0;
  {
    std::lock_guard lock(mutex_);
    before = meta_.revision;
    if (!leases_.contains(id)) {
      return lease_not_found(id);
    }
    revision = revoke_locked(id);
  }
  if (revision && *revision != before) {
    notify_subscribers(*revision);
  }
  return revision;
}

Result<std::int64_t> LocalStore::revoke_locked(LeaseId id) {
  if (auto s = storage_->begin(); !s) {
    return s.error();
  }
  const std::int64_t revision = meta_.revision + 1;
  StorageMeta next = meta_;
  auto keys = storage_->keys_with_lease(id);
  Status status = keys ? Status{} : Status{keys.error()};
  for (std::size_t i = 0; status && i < keys->size(); ++i) {
    status = storage_->erase((*keys)[i]);
    if (status) {
      status =
          storage_->append_event(static_cast<std::int64_t>(i), delete_event((*keys)[i], revision));
    }
  }
  if (status) {
    status = storage_->erase_lease(id);
  }
  if (status && !keys->empty()) {
    next.revision = revision;
    status = storage_->save_meta(next);
  }
  if (status) {
    status = storage_->commit();
  }
  if (!status) {
    storage_->rollback();
    return status.error();
  }
  leases_.erase(id);
  if (!keys->empty()) {
    meta_ = next;
    committed_locked(revision);
  }
  return meta_.revision;
}

Result<std::vector<LeaseId>> LocalStore::expire_leases() {
  std::vector<LeaseId> expired;
  Status status;
  std::int64_t before = 0;
  std::int64_t after = 0;
  {
    std::lock_guard lock(mutex_);
    before = meta_.revision;
    const auto now = clock_();
    std::vector<LeaseId> due;
    for (const auto& [id, lease] : leases_) {
      if (lease.deadline <= now) {
        due.push_back(id);
      }
    }
    for (LeaseId id : due) {
      auto revoked = revoke_locked(id);
      if (!revoked) {
        status = revoked.error();
        break;
      }
      expired.push_back(id);
    }
    after = meta_.revision;
  }
  if (after != before) {
    notify_subscribers(after);
  }
  if (!status) {
    return status.error();
  }
  return expired;
}

Status LocalStore::check_integrity() {
  std::lock_guard lock(mutex_);
  auto broken = [](const std::string& what) {
    return make_error(Errc::kInternal, "store integrity: " + what);
  };
  auto stored = storage_->load_meta();
  if (!stored) {
    return stored.error();
  }
  if (stored->revision != meta_.revision ||
      stored->compacted_revision != meta_.compacted_revision ||
      stored->next_lease_id != meta_.next_lease_id) {
    return broken(
        fmt::format("stored counters (revision {}, compacted {}, next lease {}) differ "
                    "from memory ({}, {}, {})",
                    stored->revision, stored->compacted_revision, stored->next_lease_id,
                    meta_.revision, meta_.compacted_revision, meta_.next_lease_id));
  }
  auto stored_leases = storage_->load_leases();
  if (!stored_leases) {
    return stored_leases.error();
  }
  if (stored_leases->size() != leases_.size() ||
      !std::all_of(stored_leases->begin(), stored_leases->end(), [&](const StoredLease& l) {
        auto it = leases_.find(l.id);
        return it != leases_.end() && it->second.ttl == l.ttl;
      })) {
    return broken("stored leases differ from memory");
  }
  const KeySpan all = make_span("", true);
  auto kvs = storage_->range(all, 0);
  if (!kvs) {
    return kvs.error();
  }
  for (const KeyValue& kv : *kvs) {
    if (kv.version < 1 || kv.create_revision < 1 || kv.create_revision > kv.mod_revision ||
        kv.mod_revision > meta_.revision) {
      return broken(fmt::format("key {} has create {} mod {} version {} at revision {}",
                                describe_key(kv.key), kv.create_revision, kv.mod_revision,
                                kv.version, meta_.revision));
    }
    if (kv.lease != 0 && !leases_.contains(kv.lease)) {
      return broken(fmt::format("key {} names unknown lease {}", describe_key(kv.key), kv.lease));
    }
  }
  auto rebuilt = storage_->range_at(all, meta_.revision, 0);
  if (!rebuilt) {
    return rebuilt.error();
  }
  if (*rebuilt != *kvs) {
    return broken("the keys differ from the state rebuilt from the history");
  }
  constexpr auto kAll = std::numeric_limits<std::int64_t>::max();
  auto events = storage_->events(all, meta_.compacted_revision, kAll, 0);
  if (!events) {
    return events.error();
  }
  std::int64_t expected = meta_.compacted_revision;
  for (const Event& event : *events) {
    if (event.revision() == expected + 1) {
      ++expected;
    } else if (event.revision() != expected) {
      return broken(
          fmt::format("history jumps from revision {} to {}", expected, event.revision()));
    }
  }
  if (expected != meta_.revision) {
    return broken(
        fmt::format("history ends at revision {}, the store is at {}", expected, meta_.revision));
  }
  return storage_->check_integrity();
}

}  // namespace rampart::store
