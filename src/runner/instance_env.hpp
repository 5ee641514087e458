#pragma once
// The environment of a version's instances, from its RunSpec, rampart's own environment and the
// service's secrets — what they get at each start, and what a deploy's environment check
// (runner/env_check.hpp) looks at:
//   1. the version's `env`;
//   2. each variable its EnvSpec declares (required or optional) that `env` does not set, taken
//      from rampart's own environment when it is set there (nothing else of it is passed on);
//   3. the service's secrets: every one, or the version's `secrets` list (a listed secret that
//      does not exist is an error naming it). A secret wins over a variable of its name.

#include "common/result.hpp"
#include "model/run_spec.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rampart::secrets {
class SecretStore;
}

namespace rampart::runner {

// The service's secrets by name with their values: all of them, or only `names`.
using SecretValues = std::function<Result<std::map<std::string, std::string>>(
    const std::string& service, const std::optional<std::vector<std::string>>& names)>;

// The values of `store` (SecretStore::list and get). REQUIRES: `store` outlives the function.
SecretValues secret_values(secrets::SecretStore& store);

// The variables above; an empty `secrets` gives none of the service's secrets.
Result<std::map<std::string, std::string>> instance_env(const std::string& service,
                                                        const model::RunSpec& run,
                                                        const SecretValues& secrets);

}  // namespace rampart::runner
