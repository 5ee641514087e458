#include "cli/table.hpp"

#include <algorithm>

namespace rampart::cli {
namespace {

// Code points in a UTF-8 string (continuation bytes are not counted).
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// A cell on one line: control characters (newlines, tabs, escape sequences) become spaces.
std::string one_line(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return out;
}

}  // namespace

std::string render_table(const Row& header, const std::vector<Row>& raw_rows) {
  std::vector<Row> rows = raw_rows;
  std::size_t columns = header.size();
  for (auto& row : rows) {
    for (auto& cell : row) {
      cell = one_line(cell);
    }
    columns = std::max(columns, row.size());
  }
  std::vector<std::size_t> width(columns, 0);
  auto measure = [&](const Row& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], display_width(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) {
    measure(row);
  }
  std::string out;
  const std::string empty;
  auto print = [&](const Row& row) {
    std::string line;
    for (std::size_t i = 0; i < columns; ++i) {
      const std::string& cell = i < row.size() ? row[i] : empty;
      line += cell;
      if (i + 1 < columns) {
        line.append(width[i] - display_width(cell) + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  };
  print(header);
  for (const auto& row : rows) {
    print(row);
  }
  return out;
}

}  // namespace rampart::cli
