#pragma once
// Quoting of user text inside error messages (internal to src/config).

#include <string>
#include <string_view>

namespace rampart::config {

// `s` in double quotes, with '"', '\' and control characters escaped, so that an error message
// that quotes a TOML string (which may hold "\n") stays on one line.
std::string in_quotes(std::string_view s);

}  // namespace rampart::config
