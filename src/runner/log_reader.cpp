#include "runner/log_reader.hpp"

#include "common/time_text.hpp"

#include <boost/regex.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace rampart::runner {

namespace fs = std::filesystem;

namespace {

struct FileRef {
  fs::path path;
  uint64_t inode = 0;
  uint64_t size = 0;
};

struct InstanceFiles {
  std::string version;
  unsigned index = 0;
  std::vector<FileRef> files;  // oldest (.N) first, the current file last
  std::string key() const { return fmt::format("{}/{}", version, index); }
};

// Where an instance's read stopped: a file by inode, and the offset in it.
struct Position {
  uint64_t inode = 0;
  uint64_t offset = 0;
};

Error invalid(std::string message) { return Error{Errc::kInvalidArgument, std::move(message)}; }

bool plain_name(std::string_view s) {
  return !s.empty() && s.size() <= 255 && s != "." && s != ".." &&
         s.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc{} || p != end) {
    return std::nullopt;
  }
  return v;
}

std::optional<FileRef> stat_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return FileRef{path, static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size)};
}

// "instance-3.log" -> (3, 0); "instance-3.log.2" -> (3, 2); anything else -> nullopt.
std::optional<std::pair<unsigned, unsigned>> log_name(std::string_view name) {
  constexpr std::string_view kPrefix = "instance-";
  constexpr std::string_view kLog = ".log";
  if (!name.starts_with(kPrefix)) {
    return std::nullopt;
  }
  name.remove_prefix(kPrefix.size());
  const std::size_t dot = name.find(kLog);
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  auto index = number<unsigned>(name.substr(0, dot));
  std::string_view rest = name.substr(dot + kLog.size());
  if (!index) {
    return std::nullopt;
  }
  if (rest.empty()) {
    return std::pair{*index, 0u};
  }
  if (rest.front() != '.') {
    return std::nullopt;
  }
  auto rotation = number<unsigned>(rest.substr(1));
  if (!rotation || *rotation == 0) {
    return std::nullopt;
  }
  return std::pair{*index, *rotation};
}

Result<std::vector<InstanceFiles>> version_instances(const fs::path& dir,
                                                     const std::string& version) {
  std::error_code ec;
  // index -> rotation -> file; rotation 0 is the current file, the highest the oldest.
  std::map<unsigned, std::map<unsigned, FileRef, std::greater<>>> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto name = log_name(entry.path().filename().string());
    if (!name) {
      continue;
    }
    if (auto ref = stat_file(entry.path())) {
      found[name->first][name->second] = std::move(*ref);
    }
  }
  if (ec) {
    return Error{Errc::kIo, fmt::format("cannot list {}: {}", dir.string(), ec.message())};
  }
  std::vector<InstanceFiles> out;
  for (auto& [index, files] : found) {
    InstanceFiles inst{version, index, {}};
    for (auto& [rotation, ref] : files) {
      inst.files.push_back(std::move(ref));
    }
    out.push_back(std::move(inst));
  }
  return out;
}

// "v2/0:INODE:OFFSET,v2/1:INODE:OFFSET" <-> instance key -> position.
using Cursor = std::map<std::string, Position, std::less<>>;

std::string format_cursor(const Cursor& cursor) {
  std::string out;
  for (const auto& [key, pos] : cursor) {
    if (!out.empty()) {
      out += ',';
    }
    out += fmt::format("{}:{}:{}", key, pos.inode, pos.offset);
  }
  return out;
}

Result<Cursor> parse_cursor(std::string_view text) {
  Cursor cursor;
  const auto bad = [] { return invalid("cursor: not one this server gave; start without it"); };
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const std::size_t second = entry.rfind(':');
    const std::size_t first =
        second == std::string_view::npos || second == 0 ? second : entry.rfind(':', second - 1);
    if (first == std::string_view::npos || first == 0) {
      return bad();
    }
    auto inode = number<uint64_t>(entry.substr(first + 1, second - first - 1));
    auto offset = number<uint64_t>(entry.substr(second + 1));
    if (!inode || !offset) {
      return bad();
    }
    cursor[std::string(entry.substr(0, first))] = Position{*inode, *offset};
  }
  return cursor;
}

// Where an instance's read begins: (file index, offset), and whether the offset may fall in
// the middle of a line (the partial line is then skipped).
struct Start {
  std::size_t file = 0;
  uint64_t offset = 0;
  bool mid_line = false;
  bool truncated = false;
};

Start start_from(const InstanceFiles& inst, const std::optional<Position>& pos,
                 std::size_t budget) {
  Start s;
  if (pos) {
    for (std::size_t k = 0; k < inst.files.size(); ++k) {
      if (inst.files[k].inode == pos->inode) {
        s.file = k;
        s.offset = pos->offset <= inst.files[k].size ? pos->offset : 0;
        return s;
      }
    }
    return s;  // its file was rotated away: everything there is now is after it
  }
  uint64_t left = budget;
  for (std::size_t k = inst.files.size(); k-- > 0;) {
    const uint64_t size = inst.files[k].size;
    if (size >= left) {
      s.file = k;
      s.offset = size - left;
      s.mid_line = s.offset > 0;
      s.truncated = s.offset > 0 || k > 0;
      return s;
    }
    left -= size;
  }
  return s;
}

std::string read_range(const fs::path& path, uint64_t offset, std::size_t n) {
  std::string data;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return data;  // rotated away since it was listed
  }
  data.resize(n);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, data.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r <= 0) {
      break;
    }
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

struct Collected {
  std::vector<LogLine> lines;
  Position end;
  bool truncated = false;
};

// Turns "TIME text" into a LogLine; a line without a time prefix keeps `last_ms`.
LogLine parse_line(const InstanceFiles& inst, std::string_view line, std::int64_t& last_ms) {
  LogLine out{last_ms, inst.version, inst.index, std::string(line)};
  const std::size_t space = line.find(' ');
  if (space != std::string_view::npos && space >= 10) {
    if (auto t = parse_rfc3339(line.substr(0, space))) {
      out.unix_ms = last_ms = *t;
      out.text = std::string(line.substr(space + 1));
    }
  }
  return out;
}

// Reads one instance's whole lines from `start` on, within `budget` bytes; keeps those that
// pass `keep`.
template <class Keep>
Collected read_instance(const InstanceFiles& inst, Start start, std::size_t budget, Keep&& keep) {
  Collected c;
  c.truncated = start.truncated;
  std::int64_t last_ms = 0;
  if (inst.files.empty()) {
    return c;
  }
  c.end = Position{inst.files[start.file].inode, start.offset};
  for (std::size_t k = start.file; k < inst.files.size() && budget > 0; ++k) {
    const FileRef& f = inst.files[k];
    const uint64_t from = k == start.file ? start.offset : 0;
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(f.size - from, budget));
    std::string data = read_range(f.path, from, n);
    budget -= std::min(budget, data.size());
    std::string_view rest = data;
    std::size_t used = 0;
    if (k == start.file && start.mid_line) {
      const std::size_t nl = rest.find('\n');
      used = nl == std::string_view::npos ? rest.size() : nl + 1;
      rest.remove_prefix(used);
    }
    for (std::size_t nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
      LogLine line = parse_line(inst, rest.substr(0, nl), last_ms);
      if (keep(line)) {
        c.lines.push_back(std::move(line));
      }
      used += nl + 1;
      rest.remove_prefix(nl + 1);
    }
    c.end = Position{f.inode, from + used};
    if (from + used < f.size) {
      break;  // the budget ended, or a line is still being written: go on from here next time
    }
  }
  return c;
}

// Boost.Regex searches without recursion (a long line cannot exhaust the stack) and throws
// rather than backtrack without bound; such a line counts as not matching.
bool matches(const std::string& text, const boost::regex& re) {
  try {
    return boost::regex_search(text, re);
  } catch (const std::runtime_error&) {
    return false;
  }
}

Result<std::optional<boost::regex>> compile_grep(const std::string& grep) {
  if (grep.empty()) {
    return std::optional<boost::regex>{};
  }
  if (grep.size() > kMaxGrepBytes) {
    return invalid(fmt::format("grep: longer than {} bytes", kMaxGrepBytes));
  }
  try {
    return std::optional<boost::regex>(boost::regex(grep, boost::regex::ECMAScript));
  } catch (const boost::regex_error& e) {
    return invalid(
        fmt::format("grep: \"{}\" is not a valid regular expression: {}", grep, e.what()));
  }
}

Result<std::vector<InstanceFiles>> selected_instances(const fs::path& service_dir,
                                                      const std::vector<std::string>& versions) {
  std::vector<InstanceFiles> all;
  for (const auto& v : versions) {
    auto found = version_instances(service_dir / v, v);
    if (!found) {
      return found.error();
    }
    for (auto& inst : *found) {
      all.push_back(std::move(inst));
    }
  }
  return all;
}

}  // namespace

Result<std::vector<std::string>> log_versions(const fs::path& log_root,
                                              const std::string& service) {
  if (!plain_name(service)) {
    return invalid(fmt::format("\"{}\" is not a service name", service));
  }
  const fs::path dir = log_root / service;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Error{Errc::kNotFound, fmt::format("service \"{}\" has no instance logs", service)};
  }
  std::vector<std::string> versions;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) {
      versions.push_back(entry.path().filename().string());
    }
  }
  if (ec) {
    return Error{Errc::kIo, fmt::format("cannot list {}: {}", dir.string(), ec.message())};
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

Result<LogPage> read_logs(const fs::path& log_root, const std::string& service,
                          const LogQuery& query) {
  auto regex = compile_grep(query.grep);
  if (!regex) {
    return regex.error();
  }
  auto cursor = parse_cursor(query.cursor);
  if (!cursor) {
    return cursor.error();
  }
  auto versions = log_versions(log_root, service);
  if (!versions) {
    return versions.error();
  }
  std::vector<std::string> chosen = query.versions.empty() ? *versions : query.versions;
  for (const auto& v : chosen) {
    if (!plain_name(v) || !std::binary_search(versions->begin(), versions->end(), v)) {
      return Error{Errc::kNotFound,
                   fmt::format("version \"{}\" of \"{}\" has no instance logs", v, service)};
    }
  }
  auto instances = selected_instances(log_root / service, chosen);
  if (!instances) {
    return instances.error();
  }
  const auto keep = [&](const LogLine& line) {
    return line.unix_ms >= query.since_ms && (!*regex || matches(line.text, **regex));
  };
  const std::size_t budget =
      std::max<std::size_t>(query.max_bytes / std::max<std::size_t>(instances->size(), 1), 4096);
  LogPage page;
  Cursor next;
  for (const auto& inst : *instances) {
    std::optional<Position> pos;
    if (!query.cursor.empty()) {
      auto it = cursor->find(inst.key());
      pos = it == cursor->end() ? Position{} : it->second;  // a new instance: from its start
    }
    Collected c = read_instance(inst, start_from(inst, pos, budget), budget, keep);
    page.truncated = page.truncated || c.truncated;
    next[inst.key()] = c.end;
    std::move(c.lines.begin(), c.lines.end(), std::back_inserter(page.lines));
  }
  std::stable_sort(page.lines.begin(), page.lines.end(),
                   [](const LogLine& a, const LogLine& b) { return a.unix_ms < b.unix_ms; });
  const std::size_t limit = std::min(query.limit, kMaxLogLines);
  if (page.lines.size() > limit) {
    page.skipped = page.lines.size() - limit;
    page.lines.erase(page.lines.begin(),
                     page.lines.begin() + static_cast<std::ptrdiff_t>(page.skipped));
  }
  page.cursor = format_cursor(next);
  return page;
}

}  // namespace rampart::runner
