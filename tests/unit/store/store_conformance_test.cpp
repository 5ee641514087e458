// The conformance suite: the Store contract, run against every backend. A new backend (etcd)
// joins by adding itself to kBackends.

#include "store/local_store.hpp"
#include "store/memory_store.hpp"
#include "store/sqlite_store.hpp"
#include "store/store.hpp"
#include "store/watcher.hpp"
#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace rampart::store {
namespace {

using namespace std::chrono_literals;
using testing::fails_with;
using testing::FakeClock;
using testing::succeeded;
using testing::TempDir;

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::filesystem::path& dir, Clock clock)> open;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

const Backend kBackends[] = {
    {"memory",
     [](const std::filesystem::path&, Clock clock) -> std::unique_ptr<Store> {
       return std::make_unique<MemoryStore>(StoreOptions{.clock = std::move(clock)});
     }},
    {"sqlite",
     [](const std::filesystem::path& dir, Clock clock) -> std::unique_ptr<Store> {
       auto store = SqliteStore::open((dir / "store.db").string(),
                                      SqliteOptions{.store = {.clock = std::move(clock)}});
       if (!store) {
         ADD_FAILURE() << store.error().message;
         return nullptr;
       }
       return std::move(*store);
     }},
};

// (type, key, revision, value) of an event: what the tests compare.
struct Seen {
  EventType type;
  std::string key;
  std::int64_t revision;
  std::string value;
  friend bool operator==(const Seen&, const Seen&) = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << (s.type == EventType::kPut ? "put " : "delete ") << s.key << "@" << s.revision
            << (s.type == EventType::kPut ? "=" + s.value : "");
}

std::vector<Seen> seen(const std::vector<Event>& events) {
  std::vector<Seen> out;
  for (const Event& e : events) {
    out.push_back(Seen{e.type, e.kv.key, e.revision(), e.kv.value});
  }
  return out;
}

Seen put_seen(std::string key, std::int64_t revision, std::string value) {
  return Seen{EventType::kPut, std::move(key), revision, std::move(value)};
}
Seen del_seen(std::string key, std::int64_t revision) {
  return Seen{EventType::kDelete, std::move(key), revision, ""};
}

std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : kvs) {
    keys.push_back(kv.key);
  }
  return keys;
}

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_.path(), clock_.as_clock());
    ASSERT_NE(store_, nullptr);
  }

  // Every test ends with the data model's invariants checked (gapless history, keys equal
  // to the state rebuilt from the history, counters as stored).
  void TearDown() override {
    if (auto* local = dynamic_cast<LocalStore*>(store_.get())) {
      EXPECT_TRUE(succeeded(local->check_integrity()));
    }
  }

  Store& store() { return *store_; }

  TxnResponse txn(TxnRequest request) { return store().txn(request).value(); }

  std::vector<Seen> history(std::string_view prefix = "", std::int64_t after = 0) {
    return seen(store().events_since(prefix, after).value().events);
  }

  FakeClock clock_;
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, EmptyStoreIsAtRevisionZero) {
  EXPECT_EQ(store().revision(), 0);
  EXPECT_EQ(store().compacted_revision(), 0);
  auto all = store().range("", {.prefix = true}).value();
  EXPECT_TRUE(all.kvs.empty());
  EXPECT_EQ(all.revision, 0);
  EXPECT_FALSE(all.more);
  EXPECT_EQ(store().get("missing").value(), std::nullopt);
  auto batch = store().events_since("", 0).value();
  EXPECT_TRUE(batch.events.empty());
  EXPECT_EQ(batch.revision, 0);
}

TEST_P(StoreConformance, EveryWriteTxnAddsExactlyOneRevision) {
  EXPECT_EQ(store().put("a", "1").value(), 1);
  EXPECT_EQ(store().put("b", "1").value(), 2);
  EXPECT_EQ(store().put("a", "2").value(), 3);
  EXPECT_EQ(store().del("b").value(), 1);
  EXPECT_EQ(store().revision(), 4);
  EXPECT_EQ(store().del("never-there").value(), 0);
  EXPECT_EQ(store().revision(), 4);
  auto response =
      txn({.success = {PutOp{.key = "c", .value = "1"}, PutOp{.key = "d", .value = "1"}}});
  EXPECT_EQ(response.revision, 5);
  EXPECT_EQ(store().revision(), 5);
  EXPECT_EQ(store().range("a").value().revision, 5);
}

TEST_P(StoreConformance, KeysCarryCreateAndModRevisionAndVersion) {
  store().put("k", "v1").value();     // 1
  store().put("other", "x").value();  // 2
  store().put("k", "v2").value();     // 3
  auto k = store().get("k").value();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, (KeyValue{.key = "k",
                          .value = "v2",
                          .create_revision = 1,
                          .mod_revision = 3,
                          .version = 2,
                          .lease = 0}));
  store().del("k").value();  // 4
  EXPECT_EQ(store().get("k").value(), std::nullopt);
  store().put("k", "v3").value();  // 5: created anew
  k = store().get("k").value();
  ASSERT_TRUE(k);
  EXPECT_EQ(k->create_revision, 5);
  EXPECT_EQ(k->mod_revision, 5);
  EXPECT_EQ(k->version, 1);
  auto other = store().get("other").value();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->create_revision, 2);
  EXPECT_EQ(other->version, 1);
}

TEST_P(StoreConformance, RangeIsSortedByteWiseAndHonoursPrefixAndLimit) {
  const std::vector<std::string> keys = {"app/2", "app/10", "app/1", "apq",     "ap",
                                         "app",   "b",      "app0",  "app/\xff"};
  for (const auto& key : keys) {
    store().put(key, "v:" + key).value();
  }
  auto prefixed = store().range("app/", {.prefix = true}).value();
  EXPECT_EQ(keys_of(prefixed.kvs),
            (std::vector<std::string>{"app/1", "app/10", "app/2", "app/\xff"}));
  EXPECT_FALSE(prefixed.more);
  EXPECT_EQ(prefixed.revision, 9);
  EXPECT_EQ(prefixed.kvs[0].value, "v:app/1");

  auto limited = store().range("app/", {.prefix = true, .limit = 2}).value();
  EXPECT_EQ(keys_of(limited.kvs), (std::vector<std::string>{"app/1", "app/10"}));
  EXPECT_TRUE(limited.more);
  auto exact_limit = store().range("app/", {.prefix = true, .limit = 4}).value();
  EXPECT_EQ(exact_limit.kvs.size(), 4u);
  EXPECT_FALSE(exact_limit.more);

  auto single = store().range("app").value();
  EXPECT_EQ(keys_of(single.kvs), (std::vector<std::string>{"app"}));

  auto all = store().range("", {.prefix = true}).value();
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(keys_of(all.kvs), sorted);
}

TEST_P(StoreConformance, RangeHandlesBinaryKeys) {
  const std::string nul_key("a\0b", 3);
  store().put("a", "plain").value();
  store().put(nul_key, "with nul").value();
  store().put("\xff", "ff").value();
  store().put("\xff\xff", "ffff").value();
  store().put("\xfe", "fe").value();
  EXPECT_EQ(store().get("a").value()->value, "plain");
  EXPECT_EQ(store().get(nul_key).value()->value, "with nul");
  EXPECT_EQ(keys_of(store().range("a", {.prefix = true}).value().kvs),
            (std::vector<std::string>{"a", nul_key}));
  // A prefix of 0xff bytes has no end: everything from it on.
  EXPECT_EQ(keys_of(store().range("\xff", {.prefix = true}).value().kvs),
            (std::vector<std::string>{"\xff", "\xff\xff"}));
}

TEST_P(StoreConformance, RangeReadsPastRevisionsUntilCompacted) {
  store().put("a", "1").value();  // 1
  store().put("a", "2").value();  // 2
  store().del("a").value();       // 3
  store().put("b", "1").value();  // 4
  auto at1 = store().range("a", {.revision = 1}).value();
  ASSERT_EQ(at1.kvs.size(), 1u);
  EXPECT_EQ(at1.kvs[0].value, "1");
  EXPECT_EQ(at1.kvs[0].mod_revision, 1);
  EXPECT_EQ(at1.revision, 4);
  EXPECT_EQ(store().range("a", {.revision = 2}).value().kvs.at(0).value, "2");
  EXPECT_TRUE(store().range("a", {.revision = 3}).value().kvs.empty());
  EXPECT_EQ(keys_of(store().range("", {.prefix = true, .revision = 2}).value().kvs),
            (std::vector<std::string>{"a"}));
  EXPECT_EQ(keys_of(store().range("", {.prefix = true, .revision = 4}).value().kvs),
            (std::vector<std::string>{"b"}));
  EXPECT_TRUE(fails_with(store().range("a", {.revision = 5}), Errc::kInvalidArgument, "future"));

  ASSERT_TRUE(succeeded(store().compact(2)));
  auto compacted = store().range("a", {.revision = 1});
  EXPECT_TRUE(fails_with(compacted, Errc::kNotFound, "compacted"));
  EXPECT_TRUE(is_compacted(compacted.error()));
  // The compaction point itself stays readable.
  EXPECT_EQ(store().range("a", {.revision = 2}).value().kvs.at(0).value, "2");
  EXPECT_TRUE(store().range("a", {.revision = 3}).value().kvs.empty());
  EXPECT_EQ(keys_of(store().range("", {.prefix = true, .revision = 4}).value().kvs),
            (std::vector<std::string>{"b"}));
}

struct CompareCase {
  const char* name;
  Compare compare;
  bool holds;
};

TEST_P(StoreConformance, TxnCompareEveryTargetAndOp) {
  const LeaseId lease = store().grant(60s).value();
  store().put("k", "m").value();              // 1
  store().put("other", "x").value();          // 2
  store().put("k", "m").value();              // 3: k create 1, mod 3, version 2
  store().put("leased", "x", lease).value();  // 4
  using T = CompareTarget;
  using O = CompareOp;
  auto value = [](std::string key, O op, std::string v) {
    return Compare{.key = std::move(key), .target = T::kValue, .op = op, .value = std::move(v)};
  };
  auto number = [](std::string key, T target, O op, std::int64_t n) {
    return Compare{.key = std::move(key), .target = target, .op = op, .number = n};
  };
  const std::vector<CompareCase> cases = {
      {"value = m", value("k", O::kEqual, "m"), true},
      {"value = n", value("k", O::kEqual, "n"), false},
      {"value != n", value("k", O::kNotEqual, "n"), true},
      {"value != m", value("k", O::kNotEqual, "m"), false},
      {"value < n", value("k", O::kLess, "n"), true},
      {"value < a", value("k", O::kLess, "a"), false},
      {"value > a", value("k", O::kGreater, "a"), true},
      {"value > mm", value("k", O::kGreater, "mm"), false},
      {"create = 1", number("k", T::kCreateRevision, O::kEqual, 1), true},
      {"create = 2", number("k", T::kCreateRevision, O::kEqual, 2), false},
      {"create != 2", number("k", T::kCreateRevision, O::kNotEqual, 2), true},
      {"create < 2", number("k", T::kCreateRevision, O::kLess, 2), true},
      {"create < 1", number("k", T::kCreateRevision, O::kLess, 1), false},
      {"create > 0", number("k", T::kCreateRevision, O::kGreater, 0), true},
      {"create > 1", number("k", T::kCreateRevision, O::kGreater, 1), false},
      {"mod = 3", number("k", T::kModRevision, O::kEqual, 3), true},
      {"mod != 3", number("k", T::kModRevision, O::kNotEqual, 3), false},
      {"mod < 3", number("k", T::kModRevision, O::kLess, 3), false},
      {"mod < 4", number("k", T::kModRevision, O::kLess, 4), true},
      {"mod > 2", number("k", T::kModRevision, O::kGreater, 2), true},
      {"version = 2", number("k", T::kVersion, O::kEqual, 2), true},
      {"version = 1", number("k", T::kVersion, O::kEqual, 1), false},
      {"version != 1", number("k", T::kVersion, O::kNotEqual, 1), true},
      {"version > 1", number("k", T::kVersion, O::kGreater, 1), true},
      {"version < 2", number("k", T::kVersion, O::kLess, 2), false},
      {"lease = 0", number("k", T::kLease, O::kEqual, 0), true},
      {"lease of leased", number("leased", T::kLease, O::kEqual, lease), true},
      {"lease != granted", number("leased", T::kLease, O::kNotEqual, lease), false},
      {"missing create = 0", number("nope", T::kCreateRevision, O::kEqual, 0), true},
      {"missing mod = 0", number("nope", T::kModRevision, O::kEqual, 0), true},
      {"missing mod < 1", number("nope", T::kModRevision, O::kLess, 1), true},
      {"missing version = 0", number("nope", T::kVersion, O::kEqual, 0), true},
      {"missing version > 0", number("nope", T::kVersion, O::kGreater, 0), false},
      {"missing lease = 0", number("nope", T::kLease, O::kEqual, 0), true},
      {"missing value = empty", value("nope", O::kEqual, ""), false},
      {"missing value != x", value("nope", O::kNotEqual, "x"), false},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const std::string mark = std::to_string(i);
    auto response = txn({.compares = {cases[i].compare},
                         .success = {PutOp{.key = "ran", .value = "success " + mark}},
                         .failure = {PutOp{.key = "ran", .value = "failure " + mark}}});
    EXPECT_EQ(response.succeeded, cases[i].holds);
    EXPECT_EQ(store().get("ran").value()->value, (cases[i].holds ? "success " : "failure ") + mark);
  }
  // Several compares: all must hold.
  auto mixed = txn({.compares = {cases[0].compare, cases[1].compare},
                    .success = {PutOp{.key = "ran", .value = "both"}}});
  EXPECT_FALSE(mixed.succeeded);
  EXPECT_NE(store().get("ran").value()->value, "both");
}

TEST_P(StoreConformance, TxnRunsOneBranchAndAnswersPerOp) {
  store().put("x", "1").value();
  store().put("y", "9").value();
  const TxnRequest request{
      .compares = {Compare{.key = "x", .target = CompareTarget::kValue, .value = "1"}},
      .success = {PutOp{.key = "x", .value = "2", .prev_kv = true}, RangeOp{.key = "x"},
                  DeleteOp{.key = "y", .prev_kv = true}},
      .failure = {RangeOp{.key = "x"}}};
  auto first = txn(request);
  EXPECT_TRUE(first.succeeded);
  EXPECT_EQ(first.revision, 3);
  ASSERT_EQ(first.responses.size(), 3u);
  const auto& put = std::get<PutResponse>(first.responses[0]);
  ASSERT_TRUE(put.prev_kv);
  EXPECT_EQ(put.prev_kv->value, "1");
  EXPECT_EQ(put.prev_kv->mod_revision, 1);
  // A range inside the txn sees the put before it.
  const auto& range = std::get<RangeResponse>(first.responses[1]);
  ASSERT_EQ(range.kvs.size(), 1u);
  EXPECT_EQ(range.kvs[0].value, "2");
  EXPECT_EQ(range.kvs[0].mod_revision, 3);
  EXPECT_EQ(range.revision, 3);
  const auto& del = std::get<DeleteResponse>(first.responses[2]);
  EXPECT_EQ(del.deleted, 1);
  ASSERT_EQ(del.prev_kvs.size(), 1u);
  EXPECT_EQ(del.prev_kvs[0].value, "9");

  auto second = txn(request);  // x is "2" now: the failure branch, a read only
  EXPECT_FALSE(second.succeeded);
  EXPECT_EQ(second.revision, 3);
  ASSERT_EQ(second.responses.size(), 1u);
  EXPECT_EQ(std::get<RangeResponse>(second.responses[0]).kvs.at(0).value, "2");
  EXPECT_EQ(store().revision(), 3);
}

TEST_P(StoreConformance, AllOpsOfOneTxnShareOneRevision) {
  store().put("c", "old").value();  // 1
  auto response = txn({.success = {PutOp{.key = "a", .value = "1"}, PutOp{.key = "b", .value = "1"},
                                   DeleteOp{.key = "c"}, PutOp{.key = "d", .value = "1"}}});
  EXPECT_EQ(response.revision, 2);
  EXPECT_EQ(store().revision(), 2);
  for (const char* key : {"a", "b", "d"}) {
    EXPECT_EQ(store().get(key).value()->mod_revision, 2) << key;
  }
  EXPECT_EQ(history("", 1), (std::vector<Seen>{put_seen("a", 2, "1"), put_seen("b", 2, "1"),
                                               del_seen("c", 2), put_seen("d", 2, "1")}));
}

TEST_P(StoreConformance, TxnThatWritesNothingKeepsTheRevision) {
  store().put("a", "1").value();
  auto reads =
      txn({.success = {RangeOp{.key = "a"}, RangeOp{.key = "", .options = {.prefix = true}}}});
  EXPECT_EQ(reads.revision, 1);
  auto failed =
      txn({.compares = {Compare{.key = "a", .target = CompareTarget::kVersion, .number = 7}},
           .success = {PutOp{.key = "b", .value = "1"}}});
  EXPECT_FALSE(failed.succeeded);
  EXPECT_EQ(failed.revision, 1);
  auto missing =
      txn({.success = {DeleteOp{.key = "nope"}, DeleteOp{.key = "zz/", .prefix = true}}});
  EXPECT_EQ(std::get<DeleteResponse>(missing.responses[0]).deleted, 0);
  EXPECT_EQ(missing.revision, 1);
  EXPECT_EQ(txn({}).revision, 1);
  EXPECT_EQ(store().revision(), 1);
  EXPECT_TRUE(history("", 1).empty());
}

TEST_P(StoreConformance, TxnFailingMidwayLeavesNothingBehind) {
  store().put("a", "1").value();  // 1
  store().put("b", "1").value();  // 2
  ASSERT_TRUE(succeeded(store().compact(2)));
  // The writes before the failing op are undone with it.
  auto compacted = store().txn({.success = {PutOp{.key = "a", .value = "2"}, DeleteOp{.key = "b"},
                                            RangeOp{.key = "a", .options = {.revision = 1}}}});
  EXPECT_TRUE(is_compacted(compacted.error()));
  auto future = store().txn({.success = {PutOp{.key = "c", .value = "1"},
                                         RangeOp{.key = "a", .options = {.revision = 9}}}});
  EXPECT_TRUE(fails_with(future, Errc::kInvalidArgument, "future"));
  EXPECT_EQ(store().revision(), 2);
  EXPECT_EQ(store().get("a").value()->value, "1");
  EXPECT_TRUE(store().get("b").value());
  EXPECT_EQ(store().get("c").value(), std::nullopt);
  EXPECT_TRUE(history("", 2).empty());
  EXPECT_EQ(store().put("d", "1").value(), 3);
}

TEST_P(StoreConformance, TxnMayWriteAKeyOnlyOnce) {
  store().put("p/x", "1").value();
  auto twice =
      store().txn({.success = {PutOp{.key = "a", .value = "1"}, PutOp{.key = "a", .value = "2"}}});
  EXPECT_TRUE(fails_with(twice, Errc::kInvalidArgument, "at most once"));
  auto put_and_delete = store().txn(
      {.success = {PutOp{.key = "p/y", .value = "1"}, DeleteOp{.key = "p/", .prefix = true}}});
  EXPECT_TRUE(fails_with(put_and_delete, Errc::kInvalidArgument, "at most once"));
  // The failure branch is checked too, even when the success branch would run.
  auto bad_failure =
      store().txn({.success = {PutOp{.key = "a", .value = "1"}},
                   .failure = {PutOp{.key = "b", .value = "1"}, PutOp{.key = "b", .value = "2"}}});
  EXPECT_TRUE(fails_with(bad_failure, Errc::kInvalidArgument, "failure"));
  EXPECT_EQ(store().revision(), 1);
  EXPECT_EQ(store().get("a").value(), std::nullopt);
  // Overlapping deletes are fine (as in etcd): one event per key.
  auto deletes = txn({.success = {DeleteOp{.key = "p/", .prefix = true}, DeleteOp{.key = "p/x"}}});
  EXPECT_EQ(deletes.revision, 2);
  EXPECT_EQ(history("", 1), (std::vector<Seen>{del_seen("p/x", 2)}));
}

TEST_P(StoreConformance, DeleteByKeyAndByPrefixEmitsAnEventPerKey) {
  for (const char* key : {"p/a", "p/b", "p/c", "q"}) {
    store().put(key, "v").value();
  }  // revisions 1..4
  auto by_prefix = txn({.success = {DeleteOp{.key = "p/", .prefix = true, .prev_kv = true}}});
  EXPECT_EQ(by_prefix.revision, 5);
  const auto& del = std::get<DeleteResponse>(by_prefix.responses[0]);
  EXPECT_EQ(del.deleted, 3);
  EXPECT_EQ(keys_of(del.prev_kvs), (std::vector<std::string>{"p/a", "p/b", "p/c"}));
  EXPECT_EQ(store().del("q").value(), 1);
  EXPECT_EQ(history("", 4), (std::vector<Seen>{del_seen("p/a", 5), del_seen("p/b", 5),
                                               del_seen("p/c", 5), del_seen("q", 6)}));
  const auto events = store().events_since("", 4).value().events;
  EXPECT_EQ(events[0].kv.create_revision, 0);
  EXPECT_EQ(events[0].kv.version, 0);
  EXPECT_TRUE(store().range("", {.prefix = true}).value().kvs.empty());
}

TEST_P(StoreConformance, EventsSinceFromZeroFromTheMiddleAndByPrefix) {
  store().put("a/1", "x").value();                                                           // 1
  store().put("b/1", "x").value();                                                           // 2
  store().put("a/2", "y").value();                                                           // 3
  store().del("a/1").value();                                                                // 4
  txn({.success = {PutOp{.key = "a/3", .value = "z"}, PutOp{.key = "b/2", .value = "w"}}});  // 5
  const std::vector<Seen> all = {put_seen("a/1", 1, "x"), put_seen("b/1", 2, "x"),
                                 put_seen("a/2", 3, "y"), del_seen("a/1", 4),
                                 put_seen("a/3", 5, "z"), put_seen("b/2", 5, "w")};
  EXPECT_EQ(history(), all);
  EXPECT_EQ(history("", 3), (std::vector<Seen>(all.begin() + 3, all.end())));
  EXPECT_EQ(history("a/", 0), (std::vector<Seen>{all[0], all[2], all[3], all[4]}));
  EXPECT_EQ(history("b/", 2), (std::vector<Seen>{all[5]}));
  auto batch = store().events_since("", 0).value();
  EXPECT_EQ(batch.revision, 5);
  EXPECT_FALSE(batch.more);
  // A put event carries the key as written.
  EXPECT_EQ(batch.events[4].kv, *store().get("a/3").value());
  EXPECT_TRUE(history("", 5).empty());
  EXPECT_TRUE(history("", 100).empty());  // watching from the future is allowed
}

TEST_P(StoreConformance, EventsSinceLimitNeverSplitsARevision) {
  txn({.success = {PutOp{.key = "a", .value = "1"}, PutOp{.key = "b", .value = "1"},
                   PutOp{.key = "c", .value = "1"}}});  // 1
  store().put("d", "1").value();                        // 2
  store().put("e", "1").value();                        // 3
  auto first = store().events_since("", 0, 2).value();
  EXPECT_EQ(seen(first.events), (std::vector<Seen>{put_seen("a", 1, "1"), put_seen("b", 1, "1"),
                                                   put_seen("c", 1, "1")}));
  EXPECT_TRUE(first.more);
  auto second = store().events_since("", 1, 1).value();
  EXPECT_EQ(seen(second.events), (std::vector<Seen>{put_seen("d", 2, "1")}));
  EXPECT_TRUE(second.more);
  auto last = store().events_since("", 2, 1).value();
  EXPECT_EQ(seen(last.events), (std::vector<Seen>{put_seen("e", 3, "1")}));
  EXPECT_FALSE(last.more);  // revision 3 is the newest: nothing can follow
}

TEST_P(StoreConformance, CompactionDropsHistoryAndSaysSo) {
  for (int i = 1; i <= 5; ++i) {
    store().put("k" + std::to_string(i), "v").value();
  }
  ASSERT_TRUE(succeeded(store().compact(3)));
  EXPECT_EQ(store().compacted_revision(), 3);
  EXPECT_EQ(store().revision(), 5);
  auto old = store().events_since("", 2);
  EXPECT_TRUE(fails_with(old, Errc::kNotFound, "compacted"));
  EXPECT_TRUE(is_compacted(old.error()));
  EXPECT_EQ(history("", 3), (std::vector<Seen>{put_seen("k4", 4, "v"), put_seen("k5", 5, "v")}));
  EXPECT_TRUE(is_compacted(store().compact(3).error()));
  EXPECT_TRUE(fails_with(store().compact(6), Errc::kInvalidArgument, "future"));
  EXPECT_EQ(store().range("", {.prefix = true}).value().kvs.size(), 5u);
  Watcher late(store(), "", 0);
  auto next = late.next(0ms);
  ASSERT_FALSE(next);
  EXPECT_TRUE(is_compacted(next.error()));
  EXPECT_FALSE(is_compacted(make_error(Errc::kNotFound, "lease 1 not found")));
}

TEST_P(StoreConformance, ManyWritesGiveEveryEventOnceInOrder) {
  std::mt19937 random(12345);
  std::vector<Seen> expected;
  std::map<std::string, std::string> live;
  for (int i = 0; i < 150; ++i) {
    const std::string key = "k" + std::to_string(random() % 12);
    const int kind = static_cast<int>(random() % 4);
    if (kind == 0 && live.count(key) != 0) {
      const std::int64_t revision = txn({.success = {DeleteOp{.key = key}}}).revision;
      expected.push_back(del_seen(key, revision));
      live.erase(key);
    } else if (kind == 1) {
      const std::string second = "z" + std::to_string(i);
      const std::int64_t revision = txn({.success = {PutOp{.key = key, .value = std::to_string(i)},
                                                     PutOp{.key = second, .value = "pair"}}})
                                        .revision;
      expected.push_back(put_seen(key, revision, std::to_string(i)));
      expected.push_back(put_seen(second, revision, "pair"));
      live[key] = std::to_string(i);
    } else {
      const std::int64_t revision = store().put(key, std::to_string(i)).value();
      expected.push_back(put_seen(key, revision, std::to_string(i)));
      live[key] = std::to_string(i);
    }
  }
  EXPECT_EQ(history(), expected);
  // In small batches through a watcher: the same sequence, no gap, no repeat.
  Watcher watcher(store(), "", 0, 7);
  std::vector<Seen> got;
  while (true) {
    auto batch = watcher.next(0ms).value();
    if (batch.empty()) {
      break;
    }
    auto part = seen(batch);
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(watcher.last_revision(), store().revision());
  std::vector<Seen> k1;
  std::copy_if(expected.begin(), expected.end(), std::back_inserter(k1),
               [](const Seen& s) { return s.key.starts_with("k1"); });
  EXPECT_EQ(history("k1"), k1);
}

TEST_P(StoreConformance, LateWatcherGetsTheWholeHistoryThenLiveEvents) {
  for (int i = 1; i <= 30; ++i) {
    store().put("w/" + std::to_string(i), "v").value();
  }
  Watcher watcher(store(), "w/", 0);
  auto backlog = watcher.next(0ms).value();
  ASSERT_EQ(backlog.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(backlog[i].revision(), i + 1);
  }
  std::thread writer([this] {
    for (int i = 31; i <= 35; ++i) {
      std::this_thread::sleep_for(2ms);
      store().put("w/" + std::to_string(i), "v").value();
    }
  });
  std::vector<std::int64_t> live;
  while (live.size() < 5) {
    auto batch = watcher.next(5s).value();
    ASSERT_FALSE(batch.empty()) << "timed out";
    for (const Event& event : batch) {
      live.push_back(event.revision());
    }
  }
  writer.join();
  EXPECT_EQ(live, (std::vector<std::int64_t>{31, 32, 33, 34, 35}));
}

TEST_P(StoreConformance, WatcherTimesOutEmptyAndSkipsOtherPrefixes) {
  store().put("mine/a", "1").value();
  Watcher watcher(store(), "mine/", store().revision());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(watcher.next(30ms).value().empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  std::thread writer([this] {
    std::this_thread::sleep_for(5ms);
    store().put("theirs/a", "1").value();
  });
  EXPECT_TRUE(watcher.next(100ms).value().empty());
  writer.join();
  EXPECT_TRUE(watcher.next(0ms).value().empty());
  EXPECT_EQ(watcher.last_revision(), 2);  // moved past the event it does not watch
  store().put("mine/b", "1").value();
  EXPECT_EQ(seen(watcher.next(0ms).value()), (std::vector<Seen>{put_seen("mine/b", 3, "1")}));
}

TEST_P(StoreConformance, WaitForRevisionWakesOnACommitFromAnotherThread) {
  EXPECT_TRUE(store().wait_for_revision(-1, 0ms));  // already past
  const std::int64_t before = store().revision();
  std::thread writer([this] {
    std::this_thread::sleep_for(30ms);
    store().put("a", "1").value();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(store().wait_for_revision(before, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(store().revision(), before + 1);
  writer.join();
}

TEST_P(StoreConformance, WaitForRevisionTimesOutWithoutACommit) {
  store().put("a", "1").value();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(store().wait_for_revision(store().revision(), 40ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
}

TEST_P(StoreConformance, SubscribersHearEveryCommitAfterItIsVisible) {
  std::mutex mutex;
  std::vector<std::int64_t> heard;
  std::vector<bool> visible;
  Subscription subscription = store().subscribe([&](std::int64_t revision) {
    // Runs without the store's lock: reading is allowed and sees the commit.
    const bool seen_it = store().revision() >= revision;
    std::lock_guard lock(mutex);
    heard.push_back(revision);
    visible.push_back(seen_it);
  });
  EXPECT_TRUE(subscription.active());
  store().put("a", "1").value();
  store().put("b", "1").value();
  store().del("a").value();
  store().del("a").value();  // no write, no call
  txn({.success = {RangeOp{.key = "b"}}});
  const LeaseId lease = store().grant(10s).value();
  store().put("l", "1", lease).value();
  store().revoke(lease).value();
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(heard, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(visible, std::vector<bool>(5, true));
  }
  subscription.reset();
  EXPECT_FALSE(subscription.active());
  store().put("c", "1").value();
  std::lock_guard lock(mutex);
  EXPECT_EQ(heard.size(), 5u);
}

TEST_P(StoreConformance, LeaseKeysGoWithTheLeaseInOneRevision) {
  const LeaseId lease = store().grant(10s).value();
  EXPECT_GT(lease, 0);
  store().put("a", "1", lease).value();  // 1
  store().put("b", "1", lease).value();  // 2
  store().put("c", "1").value();         // 3
  EXPECT_EQ(store().get("a").value()->lease, lease);
  EXPECT_EQ(store().get("c").value()->lease, 0);
  EXPECT_EQ(store().revoke(lease).value(), 4);
  EXPECT_EQ(store().get("a").value(), std::nullopt);
  EXPECT_EQ(store().get("b").value(), std::nullopt);
  EXPECT_TRUE(store().get("c").value());
  EXPECT_EQ(history("", 3), (std::vector<Seen>{del_seen("a", 4), del_seen("b", 4)}));
  EXPECT_TRUE(fails_with(store().revoke(lease), Errc::kNotFound, "lease"));
  EXPECT_TRUE(fails_with(store().put("d", "1", lease), Errc::kNotFound, "lease"));
  // Lease ids are never reused.
  EXPECT_GT(store().grant(10s).value(), lease);
}

TEST_P(StoreConformance, KeepAliveExtendsAndExpiryDeletesTheKeys) {
  const LeaseId lease = store().grant(10s).value();
  store().put("k", "1", lease).value();  // 1
  clock_.advance(6s);
  EXPECT_EQ(store().keep_alive(lease).value(), 10s);
  clock_.advance(6s);  // 12s after the grant, 6s after the keep-alive
  EXPECT_TRUE(store().expire_leases().value().empty());
  EXPECT_TRUE(store().get("k").value());
  auto ttl = store().time_to_live(lease).value();
  EXPECT_EQ(ttl.granted_ttl, 10s);
  EXPECT_EQ(ttl.remaining, 4s);
  EXPECT_EQ(store().revision(), 1);

  clock_.advance(5s);  // past the deadline; not yet expired by the store
  EXPECT_TRUE(fails_with(store().keep_alive(lease), Errc::kNotFound, "lease"));
  EXPECT_TRUE(fails_with(store().put("k2", "1", lease), Errc::kNotFound, "lease"));
  EXPECT_TRUE(store().get("k").value());
  EXPECT_EQ(store().expire_leases().value(), std::vector<LeaseId>{lease});
  EXPECT_EQ(store().get("k").value(), std::nullopt);
  EXPECT_EQ(history("", 1), (std::vector<Seen>{del_seen("k", 2)}));
  EXPECT_TRUE(store().expire_leases().value().empty());
  EXPECT_TRUE(fails_with(store().time_to_live(lease), Errc::kNotFound));
}

TEST_P(StoreConformance, ExpiryRevokesEachDueLeaseInItsOwnRevision) {
  const LeaseId short_lease = store().grant(5s).value();
  const LeaseId other_short = store().grant(5s).value();
  const LeaseId long_lease = store().grant(50s).value();
  store().put("s1", "1", short_lease).value();  // 1
  store().put("s2", "1", other_short).value();  // 2
  store().put("l", "1", long_lease).value();    // 3
  clock_.advance(5s);
  auto expired = store().expire_leases().value();
  std::sort(expired.begin(), expired.end());
  EXPECT_EQ(expired, (std::vector<LeaseId>{short_lease, other_short}));
  EXPECT_EQ(history("", 3), (std::vector<Seen>{del_seen("s1", 4), del_seen("s2", 5)}));
  EXPECT_TRUE(store().get("l").value());
  EXPECT_EQ(store().time_to_live(long_lease).value().remaining, 45s);
}

TEST_P(StoreConformance, UnknownLeasesAndBadTtlsAreRejected) {
  EXPECT_TRUE(fails_with(store().put("a", "1", 12345), Errc::kNotFound, "12345"));
  EXPECT_EQ(store().revision(), 0);
  EXPECT_EQ(store().get("a").value(), std::nullopt);
  // Only the branch that runs is checked for leases (as etcd).
  auto other_branch =
      txn({.compares = {Compare{.key = "a", .target = CompareTarget::kVersion, .number = 0}},
           .success = {PutOp{.key = "a", .value = "1"}},
           .failure = {PutOp{.key = "a", .value = "1", .lease = 12345}}});
  EXPECT_TRUE(other_branch.succeeded);
  EXPECT_TRUE(fails_with(store().keep_alive(12345), Errc::kNotFound));
  EXPECT_TRUE(fails_with(store().revoke(12345), Errc::kNotFound));
  EXPECT_TRUE(fails_with(store().time_to_live(12345), Errc::kNotFound));
  EXPECT_TRUE(fails_with(store().grant(0s), Errc::kInvalidArgument, "ttl"));
  EXPECT_TRUE(fails_with(store().grant(-5s), Errc::kInvalidArgument, "ttl"));
  EXPECT_TRUE(fails_with(store().grant(kMaxLeaseTtl + 1s), Errc::kInvalidArgument, "ttl"));
}

TEST_P(StoreConformance, PutWithoutLeaseDetachesAndEmptyLeasesRevokeQuietly) {
  const LeaseId lease = store().grant(10s).value();
  store().put("k", "1", lease).value();  // 1
  store().put("k", "2").value();         // 2: no longer the lease's
  EXPECT_EQ(store().get("k").value()->lease, 0);
  EXPECT_EQ(store().revoke(lease).value(), 2);  // nothing to delete: no new revision
  EXPECT_EQ(store().get("k").value()->value, "2");
  EXPECT_EQ(store().revision(), 2);
}

TEST_P(StoreConformance, LimitsAreEnforcedAndNamed) {
  EXPECT_TRUE(succeeded(store().put(std::string(kMaxKeyBytes, 'k'), "v")));
  EXPECT_TRUE(fails_with(store().put(std::string(kMaxKeyBytes + 1, 'k'), "v"),
                         Errc::kInvalidArgument, "4096"));
  EXPECT_TRUE(fails_with(store().range(std::string(kMaxKeyBytes + 1, 'k')), Errc::kInvalidArgument,
                         "4096"));
  EXPECT_TRUE(succeeded(store().put("big", std::string(kMaxValueBytes, 'v'))));
  EXPECT_EQ(store().get("big").value()->value.size(), kMaxValueBytes);
  EXPECT_TRUE(fails_with(store().put("big", std::string(kMaxValueBytes + 1, 'v')),
                         Errc::kInvalidArgument, "1048576"));
  TxnRequest most;
  for (std::size_t i = 0; i < kMaxOpsPerTxn; ++i) {
    most.success.push_back(PutOp{.key = "op/" + std::to_string(i), .value = "v"});
  }
  EXPECT_EQ(txn(most).revision, 3);
  EXPECT_EQ(store().range("op/", {.prefix = true}).value().kvs.size(), kMaxOpsPerTxn);
  TxnRequest too_many = most;
  too_many.success.push_back(PutOp{.key = "op/extra", .value = "v"});
  EXPECT_TRUE(fails_with(store().txn(too_many), Errc::kInvalidArgument, "128"));
  TxnRequest too_many_compares;
  too_many_compares.compares.assign(kMaxOpsPerTxn + 1, Compare{.key = "a"});
  EXPECT_TRUE(fails_with(store().txn(too_many_compares), Errc::kInvalidArgument, "compares"));
  TxnRequest too_many_failure;
  too_many_failure.failure = too_many.success;
  EXPECT_TRUE(fails_with(store().txn(too_many_failure), Errc::kInvalidArgument, "failure ops"));
  EXPECT_TRUE(fails_with(store().put("", "v"), Errc::kInvalidArgument, "empty"));
  EXPECT_TRUE(fails_with(store().range(""), Errc::kInvalidArgument, "empty"));
  EXPECT_TRUE(fails_with(store().events_since("", -1), Errc::kInvalidArgument));
  EXPECT_EQ(store().revision(), 3);
}

TEST_P(StoreConformance, ConcurrentWritersGetAGaplessRevisionSequence) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &revisions] {
      for (int i = 0; i < kPerThread; ++i) {
        revisions[t].push_back(
            store().put("t" + std::to_string(t) + "/" + std::to_string(i), "v").value());
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::vector<std::int64_t> all;
  for (const auto& per_thread : revisions) {
    EXPECT_TRUE(std::is_sorted(per_thread.begin(), per_thread.end()));
    all.insert(all.end(), per_thread.begin(), per_thread.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(kThreads * kPerThread);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(all, expected);
  std::vector<std::int64_t> events;
  for (const Event& event : store().events_since("", 0).value().events) {
    events.push_back(event.revision());
  }
  EXPECT_EQ(events, expected);
}

TEST_P(StoreConformance, CompareAndSwapCountsEveryIncrementUnderContention) {
  store().put("counter", "0").value();
  constexpr int kThreads = 4;
  constexpr int kIncrements = 15;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, &conflicts] {
      for (int i = 0; i < kIncrements;) {
        const KeyValue current = *store().get("counter").value();
        const std::string next = std::to_string(std::stoi(current.value) + 1);
        auto response = txn({.compares = {Compare{.key = "counter",
                                                  .target = CompareTarget::kModRevision,
                                                  .number = current.mod_revision}},
                             .success = {PutOp{.key = "counter", .value = next}}});
        if (response.succeeded) {
          ++i;
        } else {
          ++conflicts;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const KeyValue counter = *store().get("counter").value();
  EXPECT_EQ(counter.value, std::to_string(kThreads * kIncrements));
  EXPECT_EQ(counter.version, kThreads * kIncrements + 1);
  EXPECT_EQ(store().revision(), kThreads * kIncrements + 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace rampart::store
