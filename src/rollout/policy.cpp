#include "rollout/policy.hpp"

namespace rampart::rollout {

Policy default_policy() {
  Policy p;
  p.strategy = *strategy_from_name(p.strategy_name);
  return p;
}

}  // namespace rampart::rollout
