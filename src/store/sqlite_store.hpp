#pragma once
// The embedded, durable Store: one SQLite file in WAL mode with synchronous=FULL. A write
// returns only after its SQLite transaction (one per store txn, BEGIN IMMEDIATE) has been
// committed and fsync'd. The revision, the history and the leases are recovered from the
// file on open. docs/store.md has the schema.
//
// One process owns the file: it is opened with locking_mode=EXCLUSIVE, so a second open
// (from this or another process) fails with kUnavailable ("database is locked") instead of
// two writers racing. Thread-safe (LocalStore).
//
// When the file becomes unusable at run time (I/O error, disk full, file removed), writes
// answer kUnavailable with SQLite's message, the transaction is rolled back and nothing in
// memory changes; reads keep serving what the file holds. The store retries the file on
// every later write, so it recovers by itself once space is freed.

#include "store/local_store.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace rampart::store {

struct SqliteOptions {
  StoreOptions store{};
  // How long a statement waits for a lock held by someone else before failing.
  std::chrono::milliseconds busy_timeout{5000};
  // The SQLite VFS to open the file with; empty: SQLite's default. Tests name a
  // fault-injecting one.
  std::string vfs{};
};

class SqliteStore final : public LocalStore {
 public:
  // Opens (creating if missing, with its schema) the store at `path`; the directory must
  // exist. Fails with kUnavailable naming the path and SQLite's reason: cannot open or
  // create, read-only, locked by another owner, not a rampart store, or a schema newer than
  // this binary knows.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   SqliteOptions options = {});

  const std::string& path() const { return path_; }

 private:
  SqliteStore(std::unique_ptr<Storage> storage, StoreOptions options, std::string path);

  std::string path_;
};

}  // namespace rampart::store
