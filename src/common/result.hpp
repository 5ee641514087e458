#pragma once
// One small error type for the whole program, and Result<T> over boost::system::result.
//
// Untrusted input, the environment and third-party return codes are reported as values;
// call sites read top to bottom: `auto r = f(); if (!r) return r.error();`.

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace rampart {

enum class Errc {
  kInvalidArgument,  // the caller's input is wrong: API 400, CLI exit 2
  kNotFound,         // API 404
  kConflict,         // stale revision or duplicate: API 409
  kUnavailable,      // a dependency is down (store, upstream): API 503
  kIo,               // file system or socket failure
  kInternal,         // a bug: API 500
};

std::string_view to_string(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

// Found by ADL when Result<T>::value() is called on an error.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

// For functions that return nothing on success.
using Status = boost::system::result<void, Error>;

}  // namespace rampart
