// What only the SQLite backend promises: durability across reopen and kill -9, one owner per
// file, and clean failure when the file or the disk under it stops cooperating.

#include "store/sqlite_store.hpp"
#include "fault_vfs.hpp"
#include "store/store.hpp"
#include "store_test_support.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rampart::store {
namespace {

using namespace std::chrono_literals;
using testing::fails_with;
using testing::FakeClock;
using testing::faults;
using testing::kFaultVfsName;
using testing::register_fault_vfs;
using testing::succeeded;
using testing::TempDir;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void TearDown() override {
    faults().fail_writes = false;
    faults().fail_syncs = false;
  }

  std::string path() const { return (dir_.path() / "store.db").string(); }

  std::unique_ptr<SqliteStore> open(SqliteOptions options = {}) {
    if (!options.store.clock) {
      options.store.clock = clock_.as_clock();
    }
    auto store = SqliteStore::open(path(), std::move(options));
    EXPECT_TRUE(succeeded(store));
    return store ? std::move(*store) : nullptr;
  }

  // Runs raw SQL on the file with a connection of its own (for preparing odd files).
  void run_sql(const std::string& file, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &message), SQLITE_OK)
        << (message != nullptr ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
  }

  FakeClock clock_;
  TempDir dir_;
};

TEST_F(SqliteStoreTest, ReopenKeepsRevisionKeysHistoryAndLeases) {
  LeaseId lease = 0;
  std::int64_t revision = 0;
  std::vector<KeyValue> kvs;
  std::vector<Event> events;
  {
    auto store = open();
    ASSERT_TRUE(store);
    store->put("a", "1").value();  // 1
    store->put("b", "1").value();  // 2
    store->put("a", "2").value();  // 3
    store->del("b").value();       // 4
    lease = store->grant(30s).value();
    store->put("leased", "x", lease).value();  // 5
    const LeaseId spent = store->grant(20s).value();
    store->revoke(spent).value();
    ASSERT_TRUE(succeeded(store->compact(2)));
    store->put("c", std::string("\0\xff", 2)).value();  // 6
    EXPECT_TRUE(std::filesystem::exists(path() + "-wal"));
    EXPECT_FALSE(std::filesystem::exists(path() + "-shm"));  // exclusive: WAL index in memory
    revision = store->revision();
    kvs = store->range("", {.prefix = true}).value().kvs;
    events = store->events_since("", 2).value().events;
  }
  FakeClock later;
  later.advance(1h);
  auto store = open({.store = {.clock = later.as_clock()}});
  ASSERT_TRUE(store);
  EXPECT_TRUE(succeeded(store->check_integrity()));
  EXPECT_EQ(store->revision(), revision);
  EXPECT_EQ(store->compacted_revision(), 2);
  EXPECT_EQ(store->range("", {.prefix = true}).value().kvs, kvs);
  EXPECT_EQ(store->events_since("", 2).value().events, events);
  EXPECT_TRUE(is_compacted(store->events_since("", 1).error()));
  EXPECT_EQ(store->range("a", {.revision = 3}).value().kvs.at(0).value, "2");
  // A lease restarts with its full TTL; ids are not reused.
  const auto ttl = store->time_to_live(lease).value();
  EXPECT_EQ(ttl.granted_ttl, 30s);
  EXPECT_EQ(ttl.remaining, 30s);
  EXPECT_EQ(store->get("leased").value()->lease, lease);
  EXPECT_EQ(store->grant(5s).value(), lease + 2);
  EXPECT_EQ(store->put("d", "1").value(), revision + 1);
  later.advance(30s);
  auto expired = store->expire_leases().value();
  EXPECT_TRUE(std::find(expired.begin(), expired.end(), lease) != expired.end());
  EXPECT_EQ(store->get("leased").value(), std::nullopt);
  EXPECT_TRUE(succeeded(store->check_integrity()));
}

TEST_F(SqliteStoreTest, OneOwnerPerFile) {
  auto first = open();
  ASSERT_TRUE(first);
  first->put("a", "1").value();
  auto second = SqliteStore::open(path(), SqliteOptions{.busy_timeout = 50ms});
  EXPECT_TRUE(fails_with(second, Errc::kUnavailable, "locked"));
  first.reset();
  auto third = open();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->revision(), 1);
}

TEST_F(SqliteStoreTest, OpenRefusesFilesItCannotUse) {
  const std::string missing_dir = (dir_.path() / "no-such-dir" / "store.db").string();
  EXPECT_TRUE(fails_with(SqliteStore::open(missing_dir), Errc::kUnavailable, missing_dir));

  const std::string junk = (dir_.path() / "junk.db").string();
  {
    std::ofstream out(junk);
    for (int i = 0; i < 200; ++i) {
      out << "this is not a database file. ";
    }
  }
  EXPECT_TRUE(fails_with(SqliteStore::open(junk), Errc::kUnavailable, "not a database"));

  const std::string foreign = (dir_.path() / "foreign.db").string();
  run_sql(foreign, "CREATE TABLE t (x)");
  EXPECT_TRUE(fails_with(SqliteStore::open(foreign), Errc::kUnavailable, "not a rampart store"));

  {
    auto store = open();
    ASSERT_TRUE(store);
    store->put("a", "1").value();
  }
  run_sql(path(), "PRAGMA user_version = 99");
  EXPECT_TRUE(fails_with(SqliteStore::open(path()), Errc::kUnavailable, "newer"));
}

TEST_F(SqliteStoreTest, OpenRefusesAReadOnlyFileOrDirectory) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root writes through file permissions";
  }
  {
    auto store = open();
    ASSERT_TRUE(store);
    store->put("a", "1").value();
  }
  namespace fs = std::filesystem;
  fs::permissions(path(), fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  EXPECT_TRUE(fails_with(SqliteStore::open(path()), Errc::kUnavailable, "read-only"));
  fs::permissions(path(), fs::perms::owner_write, fs::perm_options::add);
  fs::permissions(dir_.path(),
                  fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  EXPECT_TRUE(fails_with(SqliteStore::open(path()), Errc::kUnavailable, "readonly"));
}

TEST_F(SqliteStoreTest, WritesFailCleanlyWhileTheDiskRefusesThemAndReadsGoOn) {
  register_fault_vfs();
  auto store = open({.vfs = kFaultVfsName});
  ASSERT_TRUE(store);
  store->put("a", "1").value();  // 1
  const LeaseId lease = store->grant(30s).value();
  store->put("leased", "1", lease).value();  // 2
  const auto kvs = store->range("", {.prefix = true}).value().kvs;
  const auto events = store->events_since("", 0).value().events;

  faults().fail_writes = true;
  EXPECT_TRUE(fails_with(store->put("b", "1"), Errc::kUnavailable, "I/O error"));
  EXPECT_TRUE(fails_with(store->put("c", std::string(300000, 'x')), Errc::kUnavailable));
  EXPECT_TRUE(fails_with(store->del("a"), Errc::kUnavailable));
  EXPECT_TRUE(fails_with(
      store->txn({.success = {PutOp{.key = "x", .value = "1"}, PutOp{.key = "y", .value = "1"}}}),
      Errc::kUnavailable));
  EXPECT_TRUE(fails_with(store->grant(10s), Errc::kUnavailable));
  EXPECT_TRUE(fails_with(store->revoke(lease), Errc::kUnavailable));
  EXPECT_TRUE(fails_with(store->compact(1), Errc::kUnavailable));
  // Nothing changed, and everything it had is still served.
  EXPECT_EQ(store->revision(), 2);
  EXPECT_EQ(store->compacted_revision(), 0);
  EXPECT_EQ(store->range("", {.prefix = true}).value().kvs, kvs);
  EXPECT_EQ(store->events_since("", 0).value().events, events);
  EXPECT_EQ(store->keep_alive(lease).value(), 30s);  // in memory only
  EXPECT_FALSE(store->wait_for_revision(2, 0ms));
  EXPECT_TRUE(succeeded(store->check_integrity()));

  faults().fail_writes = false;  // the disk is back: the same store carries on
  EXPECT_EQ(store->put("b", "1").value(), 3);
  EXPECT_EQ(store->revoke(lease).value(), 4);
  store.reset();

  auto reopened = open();
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(succeeded(reopened->check_integrity()));
  EXPECT_EQ(reopened->revision(), 4);
  EXPECT_EQ(reopened->get("b").value()->mod_revision, 3);
  EXPECT_EQ(reopened->get("c").value(), std::nullopt);
  EXPECT_EQ(reopened->get("leased").value(), std::nullopt);
}

TEST_F(SqliteStoreTest, FailedFsyncAtCommitIsReportedAndLeavesMemoryAsOnDisk) {
  register_fault_vfs();
  auto store = open({.vfs = kFaultVfsName});
  ASSERT_TRUE(store);
  store->put("a", "1").value();  // 1
  faults().fail_syncs = true;
  EXPECT_TRUE(fails_with(store->put("b", "1"), Errc::kUnavailable));
  EXPECT_EQ(store->revision(), 1);
  EXPECT_EQ(store->get("b").value(), std::nullopt);
  EXPECT_TRUE(store->events_since("", 1).value().events.empty());
  EXPECT_TRUE(succeeded(store->check_integrity()));
  faults().fail_syncs = false;
  EXPECT_EQ(store->put("c", "1").value(), 2);
  store.reset();
  auto reopened = open();
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(succeeded(reopened->check_integrity()));
  EXPECT_EQ(reopened->revision(), 2);
  EXPECT_EQ(reopened->get("b").value(), std::nullopt);
  EXPECT_EQ(reopened->get("c").value()->mod_revision, 2);
}

// A write whose fsync failed has an unknown outcome if the process then dies (as a timed-out
// etcd request): it may be found after restart. Either way the store is consistent: the
// write is wholly there at the next revision, or wholly absent.
TEST_F(SqliteStoreTest, FailedFsyncThenCrashLeavesAConsistentStore) {
  register_fault_vfs();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = SqliteStore::open(path(), SqliteOptions{.vfs = kFaultVfsName});
    if (!store || !(*store)->put("a", "1")) {
      ::_exit(2);
    }
    faults().fail_syncs = true;
    auto failed = (*store)->txn(
        {.success = {PutOp{.key = "b", .value = "1"}, PutOp{.key = "c", .value = "1"}}});
    ::_exit(!failed && failed.error().code == Errc::kUnavailable ? 0 : 3);  // no clean close
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(succeeded(store->check_integrity()));
  const std::int64_t revision = store->revision();
  ASSERT_TRUE(revision == 1 || revision == 2) << revision;
  const bool found = revision == 2;
  EXPECT_EQ(store->get("b").value().has_value(), found);
  EXPECT_EQ(store->get("c").value().has_value(), found);
  EXPECT_EQ(store->put("d", "1").value(), revision + 1);
}

TEST_F(SqliteStoreTest, RemovedFileRefusesWritesAndKeepsServingReads) {
  auto store = open();
  ASSERT_TRUE(store);
  store->put("a", "1").value();
  ASSERT_TRUE(std::filesystem::remove(path()));
  EXPECT_TRUE(fails_with(store->put("b", "1"), Errc::kUnavailable, "removed"));
  EXPECT_TRUE(fails_with(store->grant(10s), Errc::kUnavailable, "removed"));
  EXPECT_EQ(store->revision(), 1);
  EXPECT_EQ(store->get("a").value()->value, "1");
  EXPECT_EQ(store->events_since("", 0).value().events.size(), 1u);
  // A txn that only reads (what the control layer's reads are) still answers.
  TxnRequest read;
  read.compares.push_back({.key = "a", .target = CompareTarget::kModRevision, .number = 1});
  read.success.emplace_back(RangeOp{.key = "a"});
  auto r = store->txn(read);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(std::get<RangeResponse>(r->responses.at(0)).kvs.at(0).value, "1");
}

TEST_F(SqliteStoreTest, FullDiskFailsTheWriteAndTheStoreRecoversWhenSpaceReturns) {
  auto store = open();
  ASSERT_TRUE(store);
  store->put("small", "1").value();  // 1
  const auto size_of = [](const std::string& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    return ec ? std::uintmax_t{0} : size;
  };
  const auto limit = std::max(size_of(path()), size_of(path() + "-wal")) + 16 * 1024;
  // The kernel refuses to grow any file past RLIMIT_FSIZE (EFBIG), as on a full disk.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = static_cast<rlim_t>(limit);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto failed = store->put("big", std::string(512 * 1024, 'x'));
  auto failed_revision = store->revision();
  auto small_read = store->get("small");
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);

  EXPECT_TRUE(fails_with(failed, Errc::kUnavailable, path()));
  EXPECT_EQ(failed_revision, 1);
  ASSERT_TRUE(succeeded(small_read));
  EXPECT_EQ((*small_read)->value, "1");
  EXPECT_TRUE(succeeded(store->check_integrity()));
  EXPECT_EQ(store->put("big", std::string(512 * 1024, 'x')).value(), 2);
  store.reset();
  auto reopened = open();
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(succeeded(reopened->check_integrity()));
  EXPECT_EQ(reopened->revision(), 2);
}

TEST_F(SqliteStoreTest, CheckpointsDoNotDisturbTheStore) {
  auto store = open();
  ASSERT_TRUE(store);
  // Well past the WAL's auto-checkpoint threshold (1000 pages).
  for (int i = 0; i < 8; ++i) {
    store->put("big/" + std::to_string(i % 3), std::string(kMaxValueBytes, 'a' + i)).value();
  }
  EXPECT_EQ(store->put("after", "1").value(), 9);
  EXPECT_EQ(store->get("big/1").value()->value, std::string(kMaxValueBytes, 'a' + 7));
  store.reset();
  auto reopened = open();
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(succeeded(reopened->check_integrity()));
  EXPECT_EQ(reopened->revision(), 9);
}

struct Ack {
  std::int64_t index;
  std::int64_t revision;
};

bool read_ack(int fd, Ack& ack) {
  auto* out = reinterpret_cast<char*>(&ack);
  std::size_t got = 0;
  while (got < sizeof ack) {
    const ssize_t n = ::read(fd, out + got, sizeof ack - got);
    if (n <= 0) {
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// A child writes puts and reports each acknowledged revision; it is killed with SIGKILL at a
// random moment; the reopened file must hold every acknowledged write, without gaps. Three
// rounds on the same file, each recovering what the last one left.
TEST_F(SqliteStoreTest, KillDashNineLosesNoAcknowledgedWrite) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto store = SqliteStore::open(path());
      if (!store) {
        ::_exit(2);
      }
      for (std::int64_t i = 0; i < 100000; ++i) {
        auto revision = (*store)->put("dur/" + std::to_string(round) + "/" + std::to_string(i),
                                      std::to_string(i));
        if (!revision) {
          ::_exit(3);
        }
        const Ack ack{i, *revision};
        if (::write(fds[1], &ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) {
          ::_exit(4);
        }
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    std::vector<Ack> acks;
    const std::size_t kill_after = 1 + random() % 60;
    Ack ack{};
    while (acks.size() < kill_after && read_ack(fds[0], ack)) {
      acks.push_back(ack);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 3000));
    ::kill(pid, SIGKILL);
    while (read_ack(fds[0], ack)) {  // acknowledged before the kill
      acks.push_back(ack);
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    ASSERT_FALSE(acks.empty());

    auto store = open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(succeeded(store->check_integrity()));  // includes a gapless history
    for (const Ack& a : acks) {
      const std::string key = "dur/" + std::to_string(round) + "/" + std::to_string(a.index);
      auto kv = store->get(key).value();
      ASSERT_TRUE(kv) << key << " acknowledged at " << a.revision << " is missing";
      EXPECT_EQ(kv->mod_revision, a.revision);
      EXPECT_EQ(kv->value, std::to_string(a.index));
    }
    // Every revision is one put of a new key: as many keys as revisions, each at its own.
    const auto kvs = store->range("dur/", {.prefix = true}).value().kvs;
    const std::int64_t revision = store->revision();
    EXPECT_GE(revision, acks.back().revision);
    ASSERT_EQ(static_cast<std::int64_t>(kvs.size()), revision);
    std::set<std::int64_t> revisions;
    for (const KeyValue& kv : kvs) {
      revisions.insert(kv.mod_revision);
    }
    EXPECT_EQ(static_cast<std::int64_t>(revisions.size()), revision);
    EXPECT_EQ(*revisions.rbegin(), revision);
  }
}

}  // namespace
}  // namespace rampart::store
