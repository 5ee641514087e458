#pragma once
// How a rollout moves traffic: a list of steps, each a weight for the new version and a pause
// (a duration, or until someone promotes it) during which the analysis runs. Presets shaped
// like CodeDeploy's and AppConfig's expand into explicit steps, so `status` and `report` show
// exactly what will happen.

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::rollout {

struct Step {
  uint32_t weight_bp = 0;  // the new version's share, in basis points (10000 = 100%)
  std::chrono::milliseconds pause{0};
  bool until_promoted = false;  // wait for `rampart promote` instead of `pause`

  friend bool operator==(const Step&, const Step&) = default;
};

enum class StrategyKind { kCanary, kBlueGreen };

struct Strategy {
  StrategyKind kind = StrategyKind::kCanary;
  std::vector<Step> steps;  // canary: ends at 10000 bp; blue-green: empty (one cut-over)

  friend bool operator==(const Strategy&, const Strategy&) = default;
};

// A strategy by name:
//   "canary"                  the default steps: 10% for 5m, 50% for 5m, 100%;
//   "canaryP-D"               P% for D, then 100% (CodeDeploy's Canary10Percent5Minutes);
//   "linearP-D"               P%, 2P%, ... each for D, up to 100% (Linear10PercentEvery1Minute);
//   "exponential", "exponential-D"  1%, 2%, 4%, ... 64%, each for D (default 1m), then 100%;
//   "all-at-once"             100% at once;
//   "blue-green"              the new version at 0% until verified, then one cut-over.
// kInvalidArgument naming the forms otherwise.
Result<Strategy> strategy_from_name(std::string_view name);

// Explicit steps from `--steps 10,50,100` and `--pause 5m`: each percent (0 < p <= 100, rising,
// ending at 100) with `pause` (the last step has none). kInvalidArgument otherwise.
Result<std::vector<Step>> steps_from_percents(std::string_view percents,
                                              std::chrono::milliseconds pause);

// Checks steps from a config file or the API: not empty, weights rising, each 1..10000 bp, the
// last 10000 bp. `field` starts the message.
Status validate_steps(std::string_view field, const std::vector<Step>& steps);

// Basis points as a percentage: "10%", "12.5%", "0.01%".
std::string percent_text(uint32_t bp);

// "10% for 5m, 50% for 5m, 100%", as status and report print a plan.
std::string describe(const std::vector<Step>& steps);

}  // namespace rampart::rollout
