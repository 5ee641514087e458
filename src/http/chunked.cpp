#include "http/chunked.hpp"

#include <string>

namespace rampart::http {

namespace {

class ChunkFramingCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "rampart.chunk_framing"; }
  std::string message(int ev) const override {
    switch (static_cast<ChunkFramingError>(ev)) {
      case ChunkFramingError::kLineTooLong:
        return "a chunk-size line (with its extensions) longer than the limit";
      case ChunkFramingError::kTrailerTooLarge:
        return "a trailer section larger than the limit";
      case ChunkFramingError::kLineBreakInQuoted:
        return "CR or LF inside a quoted chunk extension";
    }
    return "bad chunk framing";
  }
};

// True when `extensions` leave a quoted string open at their end.
bool opens_a_quote(std::string_view extensions) {
  bool quoted = false;
  for (std::size_t i = 0; i < extensions.size(); ++i) {
    if (quoted && extensions[i] == '\\') {
      ++i;  // a quoted-pair
    } else if (extensions[i] == '"') {
      quoted = !quoted;
    }
  }
  return quoted;
}

}  // namespace

const boost::system::error_category& chunk_framing_category() {
  static const ChunkFramingCategory category;
  return category;
}

boost::system::error_code check_pending_chunk_framing(std::string_view pending, std::size_t limit) {
  std::string_view line = pending;
  if (line.starts_with("\r\n")) {
    line.remove_prefix(2);  // the end of the chunk data before
  }
  const std::size_t eol = line.find("\r\n");
  if (eol == std::string_view::npos) {
    return line.size() > limit ? ChunkFramingError::kLineTooLong : boost::system::error_code{};
  }
  // The line is whole, and yet the parser wants more: it waits for the trailer section after
  // the last chunk ("0", any number of zeros), or it is reading a quoted extension past the
  // line's end. A size that is not hexadecimal fails in the parser before it gets here.
  const std::size_t digits = line.find_first_not_of("0123456789abcdefABCDEF");
  const bool last_chunk =
      digits != 0 && line.substr(0, digits).find_first_not_of('0') == std::string_view::npos;
  if (!last_chunk || opens_a_quote(line.substr(digits, eol - digits))) {
    return ChunkFramingError::kLineBreakInQuoted;
  }
  return line.size() > limit ? ChunkFramingError::kTrailerTooLarge : boost::system::error_code{};
}

}  // namespace rampart::http
