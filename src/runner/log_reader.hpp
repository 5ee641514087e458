#pragma once
// Reads the instance logs the runner writes (runner/log_file.hpp) for `rampart logs`: a pure
// reader of the folder layout {log_root}/{service}/{version}/instance-{i}.log, each rotated to
// instance-{i}.log.1 (newer) ... .N (older), each line "2026-11-23T15:20:01.123Z text".
//
// A read takes the selected versions' instances, reads their files oldest to newest, keeps the
// lines at or after `since_ms` that match `grep`, merges them by time across instances and
// answers the last `limit` with a cursor. Given that cursor back, a read answers only the lines
// written after it (a follow), across a rotation in between: the cursor holds, per instance,
// the file (by inode) and the offset it stopped at. Lines of a file rotated away entirely before
// the follow came back are lost, and counted in `skipped` neither (they are unknown).
//
// Bounds: at most kMaxBytesPerRead bytes are read per call, shared by the instances; without a
// cursor each instance's budget is spent on its newest lines (`truncated` says older ones were
// left unread); with one, a follow that has more to read than its budget stops at a line
// boundary and the next call continues there. A line that does not end in a newline yet (being
// written) is left for the next call.
//
// Errors: kInvalidArgument for a bad regex (naming it), one longer than kMaxGrepBytes, a name
// that is not a plain folder name, or a cursor this reader did not give; kNotFound when the
// service has no logs folder; kIo when a folder cannot be listed. A file that vanishes while
// read (rotated away) is skipped.
//
// Thread safety: a pure function of the files; call it from any thread.

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rampart::runner {

inline constexpr std::size_t kMaxBytesPerRead = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxGrepBytes = 256;
inline constexpr std::size_t kMaxLogLines = 10000;

struct LogQuery {
  std::vector<std::string> versions{};       // empty: every version of the service
  std::int64_t since_ms = 0;                 // lines at or after this unix ms; 0: all
  std::string grep{};                        // ECMAScript regex searched in the text; empty: all
  std::size_t limit = 1000;                  // the last `limit` lines (at most kMaxLogLines)
  std::string cursor{};                      // a LogPage::cursor; empty: read from the start
  std::size_t max_bytes = kMaxBytesPerRead;  // a smaller budget (tests)
};

struct LogLine {
  std::int64_t unix_ms = 0;  // from the prefix; a line without one has the time of the one before
  std::string version;
  unsigned instance = 0;
  std::string text;  // without the time prefix and the newline
};

struct LogPage {
  std::vector<LogLine> lines;  // oldest first
  std::string cursor;          // where the next read (a follow) starts
  std::size_t skipped = 0;     // matching lines left out by `limit` (the oldest ones)
  bool truncated = false;      // the byte budget left older lines unread
};

// The versions that have a logs folder under `service`, sorted.
Result<std::vector<std::string>> log_versions(const std::filesystem::path& log_root,
                                              const std::string& service);

Result<LogPage> read_logs(const std::filesystem::path& log_root, const std::string& service,
                          const LogQuery& query);

}  // namespace rampart::runner
