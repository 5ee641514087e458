#pragma once
// Reading the rollout endpoints' JSON for human output (deploy, status, report, the live view):
// a member that is missing or of another type shows as "-", never as an error, so an older or
// newer server's answer still prints.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace rampart::cli::rollout_text {

// `v[key]`, or null when `v` is no object or has no such member.
const boost::json::value& member(const boost::json::value& v, std::string_view key);
// A string as it is, a number or a bool as JSON writes it, null, an object or an array as "-".
std::string text(const boost::json::value& v);
std::string text(const boost::json::value& v, std::string_view key);
// A measured value in 4 significant digits (0.20198675 -> 0.202), "-" when there is none.
std::string value_text(const boost::json::value& v);
// 10 -> "10%"; "-" for a non-number.
std::string percent_text(const boost::json::value& v);
// `v[key]` as an array; an empty one otherwise.
const boost::json::array& array_of(const boost::json::value& v, std::string_view key);
// A number as a double, also when JSON holds it as an integer.
bool number(const boost::json::value& v, double& out);

bool is_final(std::string_view phase);
// A plan's check: "max 0.01, critical 0.05, ratio to stable 1.2"; "-" without thresholds.
std::string thresholds(const boost::json::value& check);
// The thresholds of the rollout's check on `metric`.
std::string thresholds_of(const boost::json::value& rollout, std::string_view metric);
// How the rollout is judged, in one line: the sequential judge's alpha, the dwell's minimum
// traffic and how inconclusive steps go; or the threshold judge's window, minimum traffic and
// failure limit (also for a rollout that names no judge: an older server's).
std::string analysis_text(const boost::json::value& rollout);
// "step 2 of 3".
std::string step_of_total(const boost::json::value& rollout);

}  // namespace rampart::cli::rollout_text
