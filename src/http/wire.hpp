#pragma once
// Writing HTTP/1.1 message heads and chunk framing straight into a caller's buffer.
//
// The proxy relays a message as: head, then body pieces. Writing the head into the same
// buffer the first body piece is read into lets the first write be one contiguous buffer,
// instead of the dozens of small pieces a generic serializer gathers.

#include <boost/beast/http/message.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace rampart::http {

// Writes the request line, every field, and the blank line into `out`. Returns the bytes
// written, or 0 when `out` is too small (the caller falls back to head_string). The version
// written is always HTTP/1.1. (Responses are written while they are parsed:
// http/upstream_response.hpp.)
std::size_t write_head(const boost::beast::http::request_header<>& head, std::span<char> out);
std::string head_string(const boost::beast::http::request_header<>& head);

// "1a2b\r\n": the size line of a chunk of `size` bytes. `out` must hold 18 bytes.
std::size_t write_chunk_size(std::size_t size, char* out);

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace rampart::http
