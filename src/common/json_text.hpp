#pragma once
// JSON text for people to read as well as programs: like boost::json::serialize, except that
// a double is written in the shortest form that reads back exactly ("0.5", "12.5") instead of
// Boost's "5E-1", "1.25E1". Used for every JSON the admin API and the CLI print.

#include "common/result.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace rampart {

std::string to_json_text(const boost::json::value& value);

// Parses JSON text, refusing what boost::json::parse would accept silently: an object that
// names a key twice (Boost keeps the last). Errors are kInvalidArgument, one line:
//   "split.v1: the key \"v1\" appears twice; give each key once" (the key's path: object keys
//   joined by '.', array positions as [N]), or "not valid JSON: REASON".
Result<boost::json::value> parse_json(std::string_view text);

}  // namespace rampart
