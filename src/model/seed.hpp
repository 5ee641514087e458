#pragma once
// Conversions between the config file's model (config::Config) and the records:
//   - seed_from_config: a parsed config file as records, what `rampart apply -f` (and
//     `rampart server --config` at first start) writes into the store;
//   - to_config: the state the gateway serves (a Snapshot) back as a config::Config, so that
//     the gateway compiles its routes from the store exactly as it did from a file.

#include "common/result.hpp"
#include "config/config.hpp"
#include "model/records.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rampart::model {

// One [[service]] of a config file as records.
struct SeedService {
  Service service;
  // In declaration order. ordinal and created_at are 0: apply assigns them to new versions
  // and keeps those of versions the store already has.
  std::vector<Version> versions;
  // As parsed: one entry per version, in declaration order (0 bp for a version the file's
  // [service.split] does not name). apply stores it in ordinal order (canonical_split).
  std::vector<SplitEntry> split;
};

// Every service of `config`, in file order. parse_config() has validated the config, so the
// records are valid too.
std::vector<SeedService> seed_from_config(const config::Config& config);

// What the gateway needs of one service: the service, its versions (by ordinal) and its latest
// deployment (none only for a service that was never deployed).
struct ServiceState {
  Service service;
  std::vector<Version> versions;
  std::optional<Deployment> latest;

  friend bool operator==(const ServiceState&, const ServiceState&) = default;
};

// A service the gateway cannot serve as stored, and why ("deployment 4 names version \"v9\",
// which it lacks").
struct ServiceProblem {
  std::string service;
  std::string problem;

  friend bool operator==(const ServiceProblem&, const ServiceProblem&) = default;
};

// Everything the gateway serves, read at one store revision.
struct Snapshot {
  std::int64_t revision = 0;
  std::vector<ServiceState> services;  // by name
  // Services with a stored record that could not be read (not in `services`).
  std::vector<ServiceProblem> problems;
};

// What to_config() makes of a snapshot: the services it can serve, and the others.
struct ServedConfig {
  config::Config config;
  std::vector<ServiceProblem> problems;  // the snapshot's, then to_config()'s, by service
};

// The snapshot as a config: server and limits are taken from `base`; each service with a latest
// deployment becomes a config::Service whose versions are exactly the versions of that
// deployment's split, in split order (a version outside the split is not served, not even
// with the X-Rampart-Version header), and whose split is the deployment's. Services never
// deployed are left out. A service that breaks the model's invariants (no route or a route
// that is not a path, a split that validate_split() refuses, a version without upstreams or
// with an upstream URL that does not parse, a sticky header or cookie without a name) is left
// out too and named in `problems`: one service's data never keeps the others from being served.
//
// A version that rampart runs (Version::run) is served at `instances(service, version)`: the
// base URLs of its instances that are ready now (none: that version's share is answered 503).
using InstanceAddresses =
    std::function<std::vector<std::string>(const std::string& service, const std::string& version)>;
ServedConfig to_config(const Snapshot& snapshot, const config::Config& base,
                       const InstanceAddresses& instances = {});

}  // namespace rampart::model
