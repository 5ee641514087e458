#pragma once
// Times as the API, the log and the CLI write them: RFC 3339 in UTC
// ("2026-11-23T15:20:01.123Z").

#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart {

// "2026-11-23T15:20:01.123Z", "2026-11-23t15:20:01z", "2026-11-23 15:20:01+02:00" (any number
// of fraction digits; milliseconds are kept) and a bare date "2026-11-23" (midnight UTC) ->
// unix milliseconds. kInvalidArgument for anything else, including impossible dates.
Result<std::int64_t> parse_rfc3339(std::string_view text);

// Unix milliseconds -> "2026-11-23T15:20:01.123Z" (UTC).
std::string format_rfc3339(std::int64_t unix_ms);

}  // namespace rampart
