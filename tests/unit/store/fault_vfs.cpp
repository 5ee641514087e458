#include "fault_vfs.hpp"

#include <sqlite3.h>

#include <cstdlib>
#include <mutex>

namespace rampart::store::testing {

namespace {

struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;  // the default VFS's file, allocated right after this struct
  bool injectable;     // a database or WAL file
};

sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs fault_vfs;
sqlite3_io_methods fault_methods;

sqlite3_file* real(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file)->real; }
bool injectable(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file)->injectable; }

int fault_close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
int fault_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return real(f)->pMethods->xRead(real(f), buf, amount, offset);
}
int fault_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  if (injectable(f) && faults().fail_writes) {
    return SQLITE_IOERR_WRITE;
  }
  return real(f)->pMethods->xWrite(real(f), buf, amount, offset);
}
int fault_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (injectable(f) && faults().fail_writes) {
    return SQLITE_IOERR_TRUNCATE;
  }
  return real(f)->pMethods->xTruncate(real(f), size);
}
int fault_sync(sqlite3_file* f, int flags) {
  if (injectable(f) && faults().fail_syncs) {
    return SQLITE_IOERR_FSYNC;
  }
  return real(f)->pMethods->xSync(real(f), flags);
}
int fault_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int fault_lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int fault_unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int fault_check_reserved(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int fault_file_control(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int fault_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int fault_device_characteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int fault_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
}
int fault_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void fault_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int fault_shm_unmap(sqlite3_file* f, int delete_flag) {
  return real(f)->pMethods->xShmUnmap(real(f), delete_flag);
}
int fault_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return real(f)->pMethods->xFetch(real(f), offset, amount, out);
}
int fault_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* page) {
  return real(f)->pMethods->xUnfetch(real(f), offset, page);
}

int fault_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* fault_file = reinterpret_cast<FaultFile*>(file);
  fault_file->real = reinterpret_cast<sqlite3_file*>(fault_file + 1);
  fault_file->injectable = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
  const int rc = real_vfs->xOpen(real_vfs, name, fault_file->real, flags, out_flags);
  // SQLite closes a file whose pMethods is set, even after a failed open.
  fault_file->base.pMethods = fault_file->real->pMethods != nullptr ? &fault_methods : nullptr;
  return rc;
}

}  // namespace

Faults& faults() {
  static Faults instance;
  return instance;
}

void register_fault_vfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    real_vfs = sqlite3_vfs_find(nullptr);
    if (real_vfs == nullptr) {
      std::abort();
    }
    fault_methods = sqlite3_io_methods{
        3,
        fault_close,
        fault_read,
        fault_write,
        fault_truncate,
        fault_sync,
        fault_file_size,
        fault_lock,
        fault_unlock,
        fault_check_reserved,
        fault_file_control,
        fault_sector_size,
        fault_device_characteristics,
        fault_shm_map,
        fault_shm_lock,
        fault_shm_barrier,
        fault_shm_unmap,
        fault_fetch,
        fault_unfetch,
    };
    fault_vfs = *real_vfs;
    fault_vfs.pNext = nullptr;
    fault_vfs.zName = kFaultVfsName;
    fault_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + real_vfs->szOsFile;
    fault_vfs.xOpen = fault_open;
    if (sqlite3_vfs_register(&fault_vfs, 0) != SQLITE_OK) {
      std::abort();
    }
  });
}

}  // namespace rampart::store::testing
