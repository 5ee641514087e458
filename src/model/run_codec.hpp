#pragma once
// A version's RunSpec (model/run_spec.hpp) as the JSON object stored in its version record
// (schema 3, field "run"; absent for a version served by upstream URLs) and shown by the API.

#include "common/result.hpp"
#include "model/run_spec.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace rampart::model {

boost::json::object to_json(const RunSpec& run);

// `kind` names the object in messages ("version record: run").
Result<RunSpec> run_spec_from_json(const boost::json::object& object, std::string_view kind);

}  // namespace rampart::model
