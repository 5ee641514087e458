#pragma once
// A rollout policy (rollout/policy.hpp) as the JSON object stored with its service (schema 2 of
// the service record): durations in milliseconds, weights in basis points, days as names.

#include "common/result.hpp"
#include "rollout/policy.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace rampart::model {

boost::json::object to_json(const rollout::Policy& policy);

// `kind` names the object in messages ("service record: rollout").
Result<rollout::Policy> policy_from_json(const boost::json::object& object, std::string_view kind);

}  // namespace rampart::model
