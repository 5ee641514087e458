#include "runner/log_reader.hpp"

#include "common/time_text.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace rampart::runner {
namespace {

namespace fs = std::filesystem;

class LogReaderTest : public ::testing::Test {
 protected:
  // Appends `text` to {root}/shop/{version}/{file}.
  void append(const std::string& version, const std::string& file, const std::string& text) {
    const fs::path dir = tmp_.path() / "shop" / version;
    fs::create_directories(dir);
    std::ofstream(dir / file, std::ios::app) << text;
  }
  Result<LogPage> read(LogQuery q = {}) { return read_logs(tmp_.path(), "shop", q); }
  static std::vector<std::string> texts(const LogPage& page) {
    std::vector<std::string> out;
    for (const auto& l : page.lines) {
      out.push_back(l.text);
    }
    return out;
  }

  testing::TempDir tmp_;
};

using Texts = std::vector<std::string>;

Result<std::int64_t> parse_time(std::string_view text) { return parse_rfc3339(text); }

std::string fmt_line(int i) {
  return "2026-11-23T15:00:00.000Z line " + std::to_string(i) + " " + std::string(40, 'x') + "\n";
}

TEST_F(LogReaderTest, RotatedFilesAreReadOldestFirst) {
  append("v1", "instance-0.log.2", "2026-11-23T15:00:00.000Z oldest\n");
  append("v1", "instance-0.log.1", "2026-11-23T15:00:01.000Z older\n");
  append("v1", "instance-0.log", "2026-11-23T15:00:02.000Z newest\n");
  auto page = read();
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(texts(*page), (Texts{"oldest", "older", "newest"}));
  EXPECT_EQ(page->lines[0].version, "v1");
  EXPECT_EQ(page->lines[0].instance, 0u);
  EXPECT_FALSE(page->truncated);
}

TEST_F(LogReaderTest, MergesInstancesAndVersionsByTime) {
  append("v1", "instance-0.log", "2026-11-23T15:00:00.000Z a\n2026-11-23T15:00:03.000Z d\n");
  append("v1", "instance-1.log", "2026-11-23T15:00:01.000Z b\n");
  append("v2", "instance-0.log", "2026-11-23T15:00:02.000Z c\n");
  auto page = read();
  ASSERT_TRUE(page);
  EXPECT_EQ(texts(*page), (Texts{"a", "b", "c", "d"}));
  EXPECT_EQ(page->lines[1].instance, 1u);
  EXPECT_EQ(page->lines[2].version, "v2");

  LogQuery only_v2;
  only_v2.versions = {"v2"};
  auto canary = read(only_v2);
  ASSERT_TRUE(canary);
  EXPECT_EQ(texts(*canary), (Texts{"c"}));
}

TEST_F(LogReaderTest, SinceAndGrepAndLimit) {
  append("v1", "instance-0.log",
         "2026-11-23T15:00:00.000Z GET /a 200\n2026-11-23T15:00:01.000Z GET /b 500\n"
         "2026-11-23T15:00:02.000Z GET /c 503\n2026-11-23T15:00:03.000Z GET /d 200\n");
  LogQuery since;
  since.since_ms = *parse_time("2026-11-23T15:00:02.000Z");
  EXPECT_EQ(texts(*read(since)), (Texts{"GET /c 503", "GET /d 200"}));
  LogQuery grep;
  grep.grep = " 5\\d\\d$";
  EXPECT_EQ(texts(*read(grep)), (Texts{"GET /b 500", "GET /c 503"}));
  LogQuery last;
  last.limit = 1;
  auto page = read(last);
  EXPECT_EQ(texts(*page), (Texts{"GET /d 200"}));
  EXPECT_EQ(page->skipped, 3u);
}

TEST_F(LogReaderTest, ALineWithoutAPrefixKeepsTheTimeBeforeIt) {
  append("v1", "instance-0.log", "2026-11-23T15:00:05.000Z first\nno prefix here\n");
  auto page = read();
  ASSERT_EQ(page->lines.size(), 2u);
  EXPECT_EQ(page->lines[1].text, "no prefix here");
  EXPECT_EQ(page->lines[1].unix_ms, page->lines[0].unix_ms);
}

TEST_F(LogReaderTest, BadInputIsRefusedByName) {
  append("v1", "instance-0.log", "2026-11-23T15:00:00.000Z a\n");
  LogQuery bad;
  bad.grep = "(unclosed";
  auto r = read(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find("(unclosed"), std::string::npos);

  LogQuery long_grep;
  long_grep.grep = std::string(kMaxGrepBytes + 1, 'a');
  EXPECT_EQ(read(long_grep).error().code, Errc::kInvalidArgument);

  LogQuery cursor;
  cursor.cursor = "garbage";
  EXPECT_EQ(read(cursor).error().code, Errc::kInvalidArgument);

  LogQuery version;
  version.versions = {".."};
  EXPECT_EQ(read(version).error().code, Errc::kNotFound);
  EXPECT_EQ(read_logs(tmp_.path(), "../etc", {}).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(read_logs(tmp_.path(), "other", {}).error().code, Errc::kNotFound);
}

TEST_F(LogReaderTest, AFollowGetsOnlyWhatCameAfterItsCursorAcrossARotation) {
  append("v1", "instance-0.log", "2026-11-23T15:00:00.000Z one\n");
  auto first = read();
  ASSERT_TRUE(first);
  EXPECT_EQ(texts(*first), (Texts{"one"}));

  LogQuery follow;
  follow.cursor = first->cursor;
  EXPECT_TRUE(read(follow)->lines.empty());

  append("v1", "instance-0.log", "2026-11-23T15:00:01.000Z two\n2026-11-23T15:00:02.000Z thr");
  auto second = read(follow);
  EXPECT_EQ(texts(*second), (Texts{"two"}));  // the unfinished line waits

  // The runner rotates: the current file becomes .1, a new one starts.
  append("v1", "instance-0.log", "ee\n");
  const fs::path dir = tmp_.path() / "shop" / "v1";
  fs::rename(dir / "instance-0.log", dir / "instance-0.log.1");
  append("v1", "instance-0.log", "2026-11-23T15:00:03.000Z four\n");
  append("v1", "instance-1.log", "2026-11-23T15:00:04.000Z new instance\n");
  follow.cursor = second->cursor;
  auto third = read(follow);
  EXPECT_EQ(texts(*third), (Texts{"three", "four", "new instance"}));
  follow.cursor = third->cursor;
  EXPECT_TRUE(read(follow)->lines.empty());
}

TEST_F(LogReaderTest, TheByteBudgetKeepsTheNewestLinesAndAFollowContinues) {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text += fmt_line(i);
  }
  append("v1", "instance-0.log", text);
  LogQuery small;
  small.max_bytes = 4096;
  auto page = read(small);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->truncated);
  ASSERT_FALSE(page->lines.empty());
  EXPECT_EQ(page->lines.back().text, "line 99 " + std::string(40, 'x'));
  EXPECT_LT(page->lines.size(), 100u);

  // From an old cursor, a follow with a small budget reads in pieces, each ending at a line.
  append("v1", "instance-0.log", text);
  LogQuery follow = small;
  follow.cursor = page->cursor;
  std::size_t got = 0;
  for (int calls = 0; calls < 10; ++calls) {
    auto more = read(follow);
    ASSERT_TRUE(more);
    got += more->lines.size();
    follow.cursor = more->cursor;
  }
  EXPECT_EQ(got, 100u);
}

}  // namespace
}  // namespace rampart::runner
