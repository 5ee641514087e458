#pragma once
// A rollout policy (rollout/policy.hpp) as the JSON object stored with its service (schema 2 of
// the service record): durations in milliseconds, weights in basis points, days as names.

#include "common/result.hpp"
#include "rollout/policy.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace rampart::model {

boost::json::object to_json(const rollout::Policy& policy);

// `kind` names the object in messages ("service record: rollout").
Result<rollout::Policy> policy_from_json(const boost::json::object& object, std::string_view kind);

// Pieces the rollout record shares (model/rollout_codec.cpp).
namespace detail {
class Fields;
boost::json::array steps_json(const std::vector<rollout::Step>& steps);
boost::json::object analysis_json(const rollout::AnalysisPolicy& analysis);
// The "steps" array of `f`'s object.
std::vector<rollout::Step> read_steps(Fields& f, const std::string& kind);
rollout::AnalysisPolicy read_analysis(Fields& parent, const boost::json::object& o,
                                      const std::string& kind, rollout::JudgeKind absent);
}  // namespace detail

}  // namespace rampart::model
