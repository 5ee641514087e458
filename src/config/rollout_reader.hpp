#pragma once
// Internal to src/config: [service.rollout] and its sub-tables -> rollout::Policy.

#include "config/reader.hpp"
#include "rollout/policy.hpp"

namespace rampart::config {

// Reads the rollout table of service scope `s` (its "rollout" key) into `out`, which starts as
// rollout::default_policy(); problems are reported to `r`.
void read_rollout(Reader& r, const Scope& s, rollout::Policy& out);

}  // namespace rampart::config
