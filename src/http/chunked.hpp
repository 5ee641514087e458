#pragma once
// Limits on the framing of a chunked body, which Beast's parser does not bound.
//
// Beast's parser keeps a chunk-size line (with its extensions) and the last chunk's trailer
// section unconsumed until the whole of it has arrived, and puts no limit on either: a line
// that never ends is buffered without bound. Its chunk-extension parser also reads a quoted
// string past the end of the line (CR and LF are not allowed in one, RFC 9110 §5.6.4), and
// scans the buffered bytes again from the start on every read, which is quadratic. Callers
// check what the parser left unconsumed each time it asks for more input of a chunked body
// (only then: the common path does not pay), with check_pending_chunk_framing.

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string_view>
#include <type_traits>

namespace rampart::http {

enum class ChunkFramingError {
  kLineTooLong = 1,    // a chunk-size line with its extensions, leading zeros included
  kTrailerTooLarge,    // the last chunk's line and its trailer section
  kLineBreakInQuoted,  // CR or LF inside a quoted chunk extension
};

const boost::system::error_category& chunk_framing_category();
inline boost::system::error_code make_error_code(ChunkFramingError e) {
  return {static_cast<int>(e), chunk_framing_category()};
}

// `pending`: the bytes of a chunked body the parser has left unconsumed when it asks for more
// input, which begin where a chunk-size line does (after the CRLF ending the chunk data
// before it, if that is there). An error when they can never become valid framing, or are
// more than `limit` bytes (a line not ended yet, or the last chunk's line and the trailer
// section); else none: read more.
boost::system::error_code check_pending_chunk_framing(std::string_view pending, std::size_t limit);

}  // namespace rampart::http

template <>
struct boost::system::is_error_code_enum<rampart::http::ChunkFramingError> : std::true_type {};
