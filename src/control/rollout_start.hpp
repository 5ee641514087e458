#pragma once
// Internal to src/control: the pieces of RolloutService::start() that concern its gates and
// what it records of them: the version a deploy declares (--upstream), the pre results and
// --skip-checks, and how the start is audited.

#include "common/result.hpp"
#include "control/rollout_service.hpp"
#include "control/stored_state.hpp"
#include "model/records.hpp"
#include "model/rollout_record.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace rampart::control::detail {

// The version `req` declares with its upstreams (normalized as apply stores them): nullopt when
// it exists with the same upstreams (nothing to write), the new record otherwise. kConflict
// when it exists with other upstreams, naming both; kInvalidArgument "upstreams: ..." for a
// URL apply would refuse.
Result<std::optional<model::Version>> declared_version(const DeployRequest& req,
                                                       const StoredService& stored,
                                                       std::int64_t now);

// The created event's reason: "v2 from v1: 10% for 5m, 100%", then what was declared, the pre
// results (or that they were skipped) and the forced deploy window.
std::string created_reason(const DeployRequest& req, const model::Rollout& r, bool declared,
                           const std::optional<std::string>& refused);

// The start's audit details: the rollout, "pre", "skip_checks", "forced", "declared_version".
boost::json::object start_details(const DeployRequest& req, const model::Rollout& r,
                                  const std::optional<model::Version>& declared,
                                  const std::optional<std::string>& refused);

// "rollout.start", "rollout.start.unchecked" (--skip-checks) or "rollout.start.forced" (a
// denied deploy window; it wins over unchecked, the details say both).
std::string start_action(const DeployRequest& req, bool forced);

}  // namespace rampart::control::detail
