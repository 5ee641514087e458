#pragma once
// Internal to src/control: what the store holds of one service, read for a mutation, and the
// writes every mutation that makes a deployment shares (deployment_service.cpp,
// rollout_service.cpp).

#include "common/result.hpp"
#include "control/mutation.hpp"
#include "model/codec.hpp"
#include "model/keys.hpp"
#include "model/records.hpp"
#include "store/store.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::control::detail {

inline store::RangeOp key_op(std::string key) { return store::RangeOp{.key = std::move(key)}; }

inline store::RangeOp prefix_op(std::string prefix) {
  return store::RangeOp{.key = std::move(prefix), .options = {.prefix = true}};
}

inline Error unknown_service(std::string_view service) {
  return make_error(Errc::kNotFound, fmt::format("service \"{}\" does not exist", service));
}

// Writes deployment `d` and makes it its service's latest, which must still be at
// `seen_latest` (0: the service has no deployment yet).
inline void put_deployment(Plan& plan, const model::Deployment& d, std::int64_t seen_latest) {
  const std::string encoded = model::encode(d);
  plan.put(model::keys::deployment(d.service, d.id), encoded, 0);
  plan.put(model::keys::latest(d.service), encoded, seen_latest);
}

// What the store holds of one service, with the mod_revisions the mutations compare.
struct StoredVersion {
  model::Version version;
  std::int64_t mod_revision = 0;
};

struct StoredService {
  std::optional<model::Service> service;
  std::int64_t mod_revision = 0;
  std::vector<StoredVersion> versions;  // by ordinal
  // latest->revision is the mod_revision of /rampart/latest/{service} (and of the deployment).
  std::optional<model::Deployment> latest;

  std::string unreadable;  // with collect()'s `problems`: why a record of it cannot be read

  std::int64_t latest_mod_revision() const { return latest ? latest->revision : 0; }

  std::vector<model::Version> version_records() const {
    std::vector<model::Version> out;
    out.reserve(versions.size());
    for (const auto& v : versions) {
      out.push_back(v.version);
    }
    return out;
  }

  // The ordinal a new version of the service gets: one past the last.
  std::int64_t next_ordinal() const {
    return versions.empty() ? 1 : versions.back().version.ordinal + 1;
  }

  const StoredVersion* find_version(std::string_view name) const {
    for (const auto& v : versions) {
      if (v.version.name == name) {
        return &v;
      }
    }
    return nullptr;
  }
};

using StoredState = std::map<std::string, StoredService, std::less<>>;

// Groups three ranges (services, versions, latest deployments; any of them may be narrowed to
// one service) by service name. A record that cannot be decoded fails the whole read, unless
// `tolerant`: then it marks its service (by its key) `unreadable` and the others are kept.
Result<StoredState> collect(const store::RangeResponse& services,
                            const store::RangeResponse& versions,
                            const store::RangeResponse& latest, bool tolerant = false);

// The ranges collect() groups, narrowed to one service.
inline std::vector<store::RangeOp> service_ranges(std::string_view service) {
  return {key_op(model::keys::service(service)), prefix_op(model::keys::versions_prefix(service)),
          key_op(model::keys::latest(service))};
}

inline Result<StoredService> collect_one(std::string_view service,
                                         const std::vector<store::RangeResponse>& r) {
  auto state = collect(r[0], r[1], r[2]);
  if (!state) {
    return state.error();
  }
  auto it = state->find(service);
  if (it == state->end() || !it->second.service) {
    return unknown_service(service);
  }
  return std::move(it->second);
}

}  // namespace rampart::control::detail
