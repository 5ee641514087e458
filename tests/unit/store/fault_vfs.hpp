#pragma once
// A SQLite VFS for tests that forwards to the default one and, while told to, fails the
// writes or the syncs of database and WAL files the way a dying or read-only disk does.

#include <atomic>

namespace rampart::store::testing {

inline constexpr const char* kFaultVfsName = "rampart-fault";

struct Faults {
  std::atomic<bool> fail_writes{false};  // xWrite/xTruncate: SQLITE_IOERR_WRITE/_TRUNCATE
  std::atomic<bool> fail_syncs{false};   // xSync: SQLITE_IOERR_FSYNC
};

// Process-wide; reset them at the end of each test.
Faults& faults();

// Registers kFaultVfsName (once; later calls do nothing). Not the default VFS.
void register_fault_vfs();

}  // namespace rampart::store::testing
