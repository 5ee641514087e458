#pragma once
// Plain aligned columns, as kubectl prints them: a header in capitals, two spaces between
// columns, no colours, no trailing spaces.

#include <string>
#include <vector>

namespace rampart::cli {

using Row = std::vector<std::string>;

// One line per row (header first), each ending in '\n'. Widths count UTF-8 code points, so a
// name with non-ASCII letters still lines up. A row shorter than the header is padded with
// empty cells; control characters in a cell become spaces. The header is printed even when
// there are no rows.
std::string render_table(const Row& header, const std::vector<Row>& rows);

}  // namespace rampart::cli
