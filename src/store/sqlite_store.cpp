#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

namespace rampart::store {

namespace {

// The schema this binary writes (PRAGMA user_version). Readers of a newer file refuse it.
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  revision INTEGER NOT NULL,
  compacted_revision INTEGER NOT NULL,
  next_lease_id INTEGER NOT NULL);
INSERT INTO meta (id, revision, compacted_revision, next_lease_id) VALUES (0, 0, 0, 1);
CREATE TABLE kv (
  key BLOB NOT NULL PRIMARY KEY,
  value BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL);
CREATE INDEX kv_by_lease ON kv (lease);
CREATE TABLE events (
  revision INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  type INTEGER NOT NULL,
  key BLOB NOT NULL,
  value BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  PRIMARY KEY (revision, idx));
CREATE INDEX events_by_key ON events (key, revision);
CREATE TABLE leases (
  id INTEGER PRIMARY KEY,
  ttl_seconds INTEGER NOT NULL);
PRAGMA user_version = 1;
)sql";

constexpr int kPutEvent = 0;
constexpr int kDeleteEvent = 1;

constexpr const char* kKvColumns = "key, value, create_revision, mod_revision, version, lease";

struct StatementDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

struct DatabaseDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Database = std::unique_ptr<sqlite3, DatabaseDeleter>;

// Binds parameters 1, 2, ... in order for one use of a statement and resets the statement
// (dropping the bindings, which may point into the caller's strings) when it goes away.
class Use {
 public:
  explicit Use(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // The data must outlive this Use (bound without a copy).
  Use& blob(std::string_view data) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_blob64(stmt_, ++index_, data.empty() ? "" : data.data(), data.size(),
                                SQLITE_STATIC);
    }
    return *this;
  }
  Use& integer(std::int64_t value) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_int64(stmt_, ++index_, value);
    }
    return *this;
  }
  // SQLite's "no limit" is -1.
  Use& limit(std::size_t limit) {
    return integer(limit == 0 ? -1 : static_cast<std::int64_t>(limit));
  }
  // The first binding failure, else the result of sqlite3_step.
  int step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
  sqlite3_stmt* stmt() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  int index_ = 0;
  int rc_ = SQLITE_OK;
};

std::string column_blob(sqlite3_stmt* stmt, int column) {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, column));
  const int size = sqlite3_column_bytes(stmt, column);
  return data == nullptr ? std::string() : std::string(data, static_cast<std::size_t>(size));
}

// A row of kKvColumns starting at column 0.
KeyValue read_kv(sqlite3_stmt* stmt) {
  return KeyValue{.key = column_blob(stmt, 0),
                  .value = column_blob(stmt, 1),
                  .create_revision = sqlite3_column_int64(stmt, 2),
                  .mod_revision = sqlite3_column_int64(stmt, 3),
                  .version = sqlite3_column_int64(stmt, 4),
                  .lease = sqlite3_column_int64(stmt, 5)};
}

// A row of (revision, type, key, value, create_revision, version, lease).
Event read_event(sqlite3_stmt* stmt) {
  Event event;
  event.type = sqlite3_column_int(stmt, 1) == kDeleteEvent ? EventType::kDelete : EventType::kPut;
  event.kv.mod_revision = sqlite3_column_int64(stmt, 0);
  event.kv.key = column_blob(stmt, 2);
  if (event.type == EventType::kPut) {
    event.kv.value = column_blob(stmt, 3);
    event.kv.create_revision = sqlite3_column_int64(stmt, 4);
    event.kv.version = sqlite3_column_int64(stmt, 5);
    event.kv.lease = sqlite3_column_int64(stmt, 6);
  }
  return event;
}

class SqliteStorage final : public Storage {
 public:
  static Result<std::unique_ptr<SqliteStorage>> open(const std::string& path,
                                                     const SqliteOptions& options) {
    std::unique_ptr<SqliteStorage> storage(new SqliteStorage(path));
    if (auto s = storage->open_database(options); !s) {
      return s.error();
    }
    return storage;
  }

  Result<StorageMeta> load_meta() override {
    Use use(load_meta_.get());
    const int rc = use.step();
    if (rc != SQLITE_ROW) {
      return failure(rc, "reading the meta row");
    }
    return StorageMeta{.revision = sqlite3_column_int64(use.stmt(), 0),
                       .compacted_revision = sqlite3_column_int64(use.stmt(), 1),
                       .next_lease_id = sqlite3_column_int64(use.stmt(), 2)};
  }

  Result<std::vector<StoredLease>> load_leases() override {
    Use use(load_leases_.get());
    std::vector<StoredLease> leases;
    int rc = SQLITE_OK;
    while ((rc = use.step()) == SQLITE_ROW) {
      leases.push_back(StoredLease{sqlite3_column_int64(use.stmt(), 0),
                                   std::chrono::seconds(sqlite3_column_int64(use.stmt(), 1))});
    }
    if (rc != SQLITE_DONE) {
      return failure(rc, "reading the leases");
    }
    return leases;
  }

  Status begin() override {
    // SQLite's own lock cannot see an unlinked or replaced file: writes would go to an
    // orphaned inode and vanish at close. Refuse them instead.
    int moved = 0;
    if (sqlite3_file_control(db_.get(), "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
        moved != 0) {
      return make_error(Errc::kUnavailable,
                        fmt::format("store {}: the database file was removed or replaced while "
                                    "open; writes are refused (reads serve what this process "
                                    "had) until the file is restored and rampart restarted",
                                    path_));
    }
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      // A failed commit or rollback left a transaction open: end it before a new one.
      rollback();
    }
    return run(begin_.get(), "BEGIN IMMEDIATE");
  }

  Status commit() override { return run(commit_.get(), "COMMIT"); }

  void rollback() override {
    // After an I/O error SQLite may already have rolled back; then there is nothing to do.
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      (void)run(rollback_.get(), "ROLLBACK");
    }
  }

  Result<std::optional<KeyValue>> get(std::string_view key) override {
    Use use(get_.get());
    const int rc = use.blob(key).step();
    if (rc == SQLITE_ROW) {
      return std::optional<KeyValue>{read_kv(use.stmt())};
    }
    if (rc == SQLITE_DONE) {
      return std::optional<KeyValue>{};
    }
    return failure(rc, "reading a key");
  }

  Result<std::vector<KeyValue>> range(const KeySpan& span, std::size_t limit) override {
    Use use(span.end ? range_bounded_.get() : range_open_.get());
    use.blob(span.begin);
    if (span.end) {
      use.blob(*span.end);
    }
    use.limit(limit);
    return collect_kvs(use, "reading a range");
  }

  Result<std::vector<KeyValue>> range_at(const KeySpan& span, std::int64_t revision,
                                         std::size_t limit) override {
    Use use(span.end ? range_at_bounded_.get() : range_at_open_.get());
    use.blob(span.begin);
    if (span.end) {
      use.blob(*span.end);
    }
    use.integer(revision).limit(limit);
    return collect_kvs(use, "reading a range at a past revision");
  }

  Result<std::vector<std::string>> keys_with_lease(LeaseId lease) override {
    Use use(keys_with_lease_.get());
    use.integer(lease);
    std::vector<std::string> keys;
    int rc = SQLITE_OK;
    while ((rc = use.step()) == SQLITE_ROW) {
      keys.push_back(column_blob(use.stmt(), 0));
    }
    if (rc != SQLITE_DONE) {
      return failure(rc, "reading the keys of a lease");
    }
    return keys;
  }

  Result<std::vector<Event>> events(const KeySpan& span, std::int64_t after, std::int64_t upto,
                                    std::size_t limit) override {
    Use use(span.end ? events_bounded_.get() : events_open_.get());
    use.integer(after).integer(upto).blob(span.begin);
    if (span.end) {
      use.blob(*span.end);
    }
    use.limit(limit);
    std::vector<Event> events;
    int rc = SQLITE_OK;
    while ((rc = use.step()) == SQLITE_ROW) {
      events.push_back(read_event(use.stmt()));
    }
    if (rc != SQLITE_DONE) {
      return failure(rc, "reading the history");
    }
    return events;
  }

  Status put(const KeyValue& kv) override {
    Use use(put_.get());
    use.blob(kv.key)
        .blob(kv.value)
        .integer(kv.create_revision)
        .integer(kv.mod_revision)
        .integer(kv.version)
        .integer(kv.lease);
    return done(use, "writing a key");
  }

  Status erase(std::string_view key) override {
    Use use(erase_.get());
    use.blob(key);
    return done(use, "deleting a key");
  }

  Status append_event(std::int64_t index, const Event& event) override {
    Use use(append_event_.get());
    use.integer(event.revision())
        .integer(index)
        .integer(event.type == EventType::kDelete ? kDeleteEvent : kPutEvent)
        .blob(event.kv.key)
        .blob(event.kv.value)
        .integer(event.kv.create_revision)
        .integer(event.kv.version)
        .integer(event.kv.lease);
    return done(use, "appending to the history");
  }

  Status save_meta(const StorageMeta& meta) override {
    Use use(save_meta_.get());
    use.integer(meta.revision).integer(meta.compacted_revision).integer(meta.next_lease_id);
    return done(use, "writing the meta row");
  }

  Status compact_history(std::int64_t revision) override {
    Use use(compact_.get());
    use.integer(revision);
    return done(use, "compacting the history");
  }

  Status put_lease(const StoredLease& lease) override {
    Use use(put_lease_.get());
    use.integer(lease.id).integer(lease.ttl.count());
    return done(use, "writing a lease");
  }

  Status erase_lease(LeaseId id) override {
    Use use(erase_lease_.get());
    use.integer(id);
    return done(use, "deleting a lease");
  }

  Status check_integrity() override {
    Statement stmt;
    if (auto s = prepare("PRAGMA integrity_check", stmt); !s) {
      return s;
    }
    Use use(stmt.get());
    std::string report;
    int rc = SQLITE_OK;
    while ((rc = use.step()) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(use.stmt(), 0));
      report += report.empty() ? "" : "; ";
      report += text == nullptr ? "" : text;
    }
    if (rc != SQLITE_DONE) {
      return failure(rc, "PRAGMA integrity_check");
    }
    if (report != "ok") {
      return make_error(Errc::kInternal,
                        fmt::format("store {}: integrity check failed: {}", path_, report));
    }
    return {};
  }

 private:
  explicit SqliteStorage(std::string path) : path_(std::move(path)) {}

  // Any SQLite failure: the file (or the disk under it) cannot serve, except for failures
  // that can only be bugs here.
  Error failure(int rc, std::string_view what) const {
    const int primary = rc & 0xff;
    const Errc code = (primary == SQLITE_CONSTRAINT || primary == SQLITE_MISUSE ||
                       primary == SQLITE_RANGE || primary == SQLITE_MISMATCH)
                          ? Errc::kInternal
                          : Errc::kUnavailable;
    std::string reason = db_ ? sqlite3_errmsg(db_.get()) : "";
    const std::string code_text = sqlite3_errstr(rc);
    if (reason.empty() || reason == "not an error") {
      reason = code_text;
    } else if (reason != code_text) {
      reason += fmt::format(" ({})", code_text);
    }
    // The extended code says which operation failed (778 = fsync); the OS error says why.
    reason += fmt::format(" [sqlite code {}", rc);
    const int os_error = db_ ? sqlite3_system_errno(db_.get()) : 0;
    if (os_error != 0 && (primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                          primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)) {
      reason += fmt::format(", os error {}: {}", os_error, std::strerror(os_error));
    }
    reason += "]";
    return make_error(code, fmt::format("store {}: {} failed: {}", path_, what, reason));
  }

  Status run(sqlite3_stmt* stmt, std::string_view what) {
    Use use(stmt);
    return done(use, what);
  }

  Status done(Use& use, std::string_view what) {
    const int rc = use.step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      return failure(rc, what);
    }
    return {};
  }

  Result<std::vector<KeyValue>> collect_kvs(Use& use, std::string_view what) {
    std::vector<KeyValue> kvs;
    int rc = SQLITE_OK;
    while ((rc = use.step()) == SQLITE_ROW) {
      kvs.push_back(read_kv(use.stmt()));
    }
    if (rc != SQLITE_DONE) {
      return failure(rc, what);
    }
    return kvs;
  }

  Status exec(const char* sql, std::string_view what) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message);
    sqlite3_free(message);  // failure() reads the same message from the connection
    if (rc != SQLITE_OK) {
      return failure(rc, what);
    }
    return {};
  }

  Status prepare(const char* sql, Statement& stmt) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    stmt.reset(raw);
    if (rc != SQLITE_OK) {
      return failure(rc, fmt::format("preparing \"{}\"", sql));
    }
    return {};
  }

  // Answers the single integer a pragma query returns.
  Result<std::int64_t> pragma_integer(const char* sql) {
    Statement stmt;
    if (auto s = prepare(sql, stmt); !s) {
      return s.error();
    }
    Use use(stmt.get());
    const int rc = use.step();
    if (rc != SQLITE_ROW) {
      return failure(rc, sql);
    }
    return sqlite3_column_int64(use.stmt(), 0);
  }

  Status open_database(const SqliteOptions& options) {
    std::error_code ec;
    const bool existed = std::filesystem::exists(path_, ec);
    sqlite3* raw = nullptr;
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(path_.c_str(), &raw, flags,
                                   options.vfs.empty() ? nullptr : options.vfs.c_str());
    db_.reset(raw);
    if (rc != SQLITE_OK) {
      return failure(rc, "opening");
    }
    sqlite3_extended_result_codes(db_.get(), 1);
    sqlite3_busy_timeout(db_.get(), static_cast<int>(options.busy_timeout.count()));
    if (sqlite3_db_readonly(db_.get(), "main") == 1) {
      return make_error(Errc::kUnavailable,
                        fmt::format("store {}: the database file is read-only", path_));
    }
    // EXCLUSIVE before WAL: the lock is taken at the first read and kept, and the WAL index
    // lives in heap memory (no -shm file).
    if (auto s = exec("PRAGMA locking_mode = EXCLUSIVE", "setting locking_mode"); !s) {
      return s;
    }
    if (auto s = exec("PRAGMA journal_mode = WAL", "setting journal_mode=WAL"); !s) {
      return s;
    }
    auto journal = pragma_journal_mode();
    if (!journal) {
      return journal.error();
    }
    if (*journal != "wal") {
      return make_error(
          Errc::kUnavailable,
          fmt::format("store {}: journal_mode is \"{}\", not \"wal\"", path_, *journal));
    }
    if (auto s = exec("PRAGMA synchronous = FULL", "setting synchronous=FULL"); !s) {
      return s;
    }
    // The WAL is kept open for the store's life (exclusive mode): after a checkpoint,
    // truncate it back to this size rather than keep its high-water mark.
    if (auto s = exec("PRAGMA journal_size_limit = 67108864", "setting journal_size_limit"); !s) {
      return s;
    }
    if (auto s = exec("BEGIN IMMEDIATE", "locking the file"); !s) {
      return s;
    }
    Status schema = ensure_schema();
    if (schema) {
      schema = exec("COMMIT", "committing the schema");
    }
    if (!schema) {
      (void)exec("ROLLBACK", "rolling back the schema");
      return schema;
    }
    if (!existed) {
      sync_directory();
    }
    return prepare_statements();
  }

  Result<std::string> pragma_journal_mode() {
    Statement stmt;
    if (auto s = prepare("PRAGMA journal_mode", stmt); !s) {
      return s.error();
    }
    Use use(stmt.get());
    const int rc = use.step();
    if (rc != SQLITE_ROW) {
      return failure(rc, "PRAGMA journal_mode");
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(use.stmt(), 0));
    return std::string(text == nullptr ? "" : text);
  }

  // REQUIRES: inside BEGIN IMMEDIATE.
  Status ensure_schema() {
    auto version = pragma_integer("PRAGMA user_version");
    if (!version) {
      return version.error();
    }
    if (*version > kSchemaVersion) {
      return make_error(Errc::kUnavailable,
                        fmt::format("store {}: schema version {} is newer than this rampart "
                                    "knows ({}); run the newer rampart",
                                    path_, *version, kSchemaVersion));
    }
    if (*version == kSchemaVersion) {
      return {};
    }
    auto tables = pragma_integer("SELECT count(*) FROM sqlite_schema");
    if (!tables) {
      return tables.error();
    }
    if (*tables != 0) {
      return make_error(Errc::kUnavailable,
                        fmt::format("store {}: the file holds other tables and is not a "
                                    "rampart store",
                                    path_));
    }
    return exec(kSchema, "creating the schema");
  }

  // Makes the new file's directory entry durable (SQLite syncs the directory for its WAL
  // file, not for the database file it creates).
  void sync_directory() {
    const auto dir = std::filesystem::absolute(path_).parent_path();
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }

  Status prepare_statements() {
    const std::string kv_columns = kKvColumns;
    const std::string range_at =
        "SELECT key, value, create_revision, revision, version, lease FROM events AS e "
        "WHERE key >= ?1 {} AND revision <= ?{} AND type = 0 AND revision = "
        "(SELECT MAX(revision) FROM events WHERE key = e.key AND revision <= ?{}) "
        "ORDER BY key LIMIT ?{}";
    const std::string events =
        "SELECT revision, type, key, value, create_revision, version, lease FROM events "
        "WHERE revision > ?1 AND revision <= ?2 AND key >= ?3 {} "
        "ORDER BY revision, idx LIMIT ?{}";
    const std::pair<Statement*, std::string> statements[] = {
        {&begin_, "BEGIN IMMEDIATE"},
        {&commit_, "COMMIT"},
        {&rollback_, "ROLLBACK"},
        {&load_meta_, "SELECT revision, compacted_revision, next_lease_id FROM meta WHERE id = 0"},
        {&save_meta_,
         "UPDATE meta SET revision = ?1, compacted_revision = ?2, next_lease_id = ?3 "
         "WHERE id = 0"},
        {&load_leases_, "SELECT id, ttl_seconds FROM leases ORDER BY id"},
        {&put_lease_, "INSERT INTO leases (id, ttl_seconds) VALUES (?1, ?2)"},
        {&erase_lease_, "DELETE FROM leases WHERE id = ?1"},
        {&get_, fmt::format("SELECT {} FROM kv WHERE key = ?1", kv_columns)},
        {&range_bounded_, fmt::format("SELECT {} FROM kv WHERE key >= ?1 AND key < ?2 "
                                      "ORDER BY key LIMIT ?3",
                                      kv_columns)},
        {&range_open_,
         fmt::format("SELECT {} FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?2", kv_columns)},
        {&range_at_bounded_, fmt::format(fmt::runtime(range_at), "AND key < ?2", 3, 3, 4)},
        {&range_at_open_, fmt::format(fmt::runtime(range_at), "", 2, 2, 3)},
        {&keys_with_lease_, "SELECT key FROM kv WHERE lease = ?1 ORDER BY key"},
        {&events_bounded_, fmt::format(fmt::runtime(events), "AND key < ?4", 5)},
        {&events_open_, fmt::format(fmt::runtime(events), "", 4)},
        {&put_, fmt::format("INSERT INTO kv ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                            "create_revision = excluded.create_revision, "
                            "mod_revision = excluded.mod_revision, "
                            "version = excluded.version, lease = excluded.lease",
                            kv_columns)},
        {&erase_, "DELETE FROM kv WHERE key = ?1"},
        {&append_event_,
         "INSERT INTO events (revision, idx, type, key, value, create_revision, version, lease) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
        // Keeps, at or below the compaction point, the latest event of each key when it is
        // a put: range_at(revision) rebuilds the state from it.
        {&compact_,
         "DELETE FROM events WHERE revision <= ?1 AND NOT (type = 0 AND revision = "
         "(SELECT MAX(e2.revision) FROM events AS e2 WHERE e2.key = events.key "
         "AND e2.revision <= ?1))"},
    };
    for (const auto& [stmt, sql] : statements) {
      if (auto s = prepare(sql.c_str(), *stmt); !s) {
        return s;
      }
    }
    return {};
  }

  std::string path_;
  // Declared before the statements: they are finalized first, then the connection closed.
  Database db_;
  Statement begin_, commit_, rollback_;
  Statement load_meta_, save_meta_, load_leases_, put_lease_, erase_lease_;
  Statement get_, range_bounded_, range_open_, range_at_bounded_, range_at_open_;
  Statement keys_with_lease_, events_bounded_, events_open_;
  Statement put_, erase_, append_event_, compact_;
};

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<Storage> storage, StoreOptions options, std::string path)
    : LocalStore(std::move(storage), std::move(options)), path_(std::move(path)) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       SqliteOptions options) {
  auto storage = SqliteStorage::open(path, options);
  if (!storage) {
    return storage.error();
  }
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(std::move(*storage), std::move(options.store), path));
  if (auto s = store->load(); !s) {
    return s.error();
  }
  return store;
}

}  // namespace rampart::store
