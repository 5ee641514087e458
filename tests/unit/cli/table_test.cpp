#include "cli/table.hpp"

#include <gtest/gtest.h>

namespace rampart::cli {
namespace {

TEST(Table, AlignsColumnsWithTwoSpaces) {
  std::string t = render_table({"NAME", "ROUTES", "AGE"},
                               {{"shop", "/shop/", "12s"}, {"api-gateway", "/", "3h"}});
  EXPECT_EQ(t,
            "NAME         ROUTES  AGE\n"
            "shop         /shop/  12s\n"
            "api-gateway  /       3h\n");
}

TEST(Table, HeaderOnlyWhenNoRows) { EXPECT_EQ(render_table({"ID", "CAUSE"}, {}), "ID  CAUSE\n"); }

TEST(Table, NoTrailingSpacesAndShortRowsPadded) {
  std::string t = render_table({"A", "B", "C"}, {{"x"}, {"long", "", ""}});
  EXPECT_EQ(t,
            "A     B  C\n"
            "x\n"
            "long\n");
}

TEST(Table, CountsCodePointsAndFlattensControlCharacters) {
  std::string t = render_table({"NAME", "MESSAGE"}, {{"é", "two\nlines"}, {"ab", "tab\there"}});
  EXPECT_EQ(t,
            "NAME  MESSAGE\n"
            "é     two lines\n"
            "ab    tab here\n");
}

}  // namespace
}  // namespace rampart::cli
