#include "common/log.hpp"

#include <gtest/gtest.h>

namespace rampart::log {
namespace {

TEST(Log, LinesStartWithAnRfc3339TimeInUtc) {
  EXPECT_EQ(format_line(1795447201123, Level::kInfo, "listening"),
            "2026-11-23T15:20:01.123Z info listening\n");
  EXPECT_EQ(format_line(0, Level::kError, "x"), "1970-01-01T00:00:00.000Z error x\n");
  EXPECT_EQ(format_line(1700000000005, Level::kWarn, "w"), "2023-11-14T22:13:20.005Z warn w\n");
}

}  // namespace
}  // namespace rampart::log
