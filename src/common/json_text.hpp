#pragma once
// JSON text for people to read as well as programs: like boost::json::serialize, except that
// a double is written in the shortest form that reads back exactly ("0.5", "12.5") instead of
// Boost's "5E-1", "1.25E1". Used for every JSON the admin API and the CLI print.

#include <boost/json/value.hpp>

#include <string>

namespace rampart {

std::string to_json_text(const boost::json::value& value);

}  // namespace rampart
