#include "control/stored_state.hpp"

#include <algorithm>

namespace rampart::control::detail {

namespace keys = model::keys;

// Groups three ranges (services, versions, latest deployments; any of them may be narrowed to
// one service) by service name. A record that cannot be decoded fails the whole read, unless
// `tolerant`: then it marks its service (by its key) `unreadable` and the others are kept.
Result<StoredState> collect(const store::RangeResponse& services,
                            const store::RangeResponse& versions,
                            const store::RangeResponse& latest, bool tolerant) {
  StoredState state;
  auto unreadable = [&](const store::KeyValue& kv, const Error& e) {
    auto key = keys::parse(kv.key);
    StoredService& stored = state[key ? key->service : kv.key];
    if (stored.unreadable.empty()) {
      stored.unreadable = e.message;
    }
  };
  for (const auto& kv : services.kvs) {
    auto s = detail::decode_service(kv);
    if (!s) {
      if (!tolerant) {
        return s.error();
      }
      unreadable(kv, s.error());
      continue;
    }
    StoredService& stored = state[s->name];
    stored.mod_revision = kv.mod_revision;
    stored.service = std::move(*s);
  }
  for (const auto& kv : versions.kvs) {
    auto v = detail::decode_version(kv);
    if (!v) {
      if (!tolerant) {
        return v.error();
      }
      unreadable(kv, v.error());
      continue;
    }
    StoredService& stored = state[v->service];
    stored.versions.push_back(StoredVersion{std::move(*v), kv.mod_revision});
  }
  for (const auto& kv : latest.kvs) {
    auto d = detail::decode_deployment(kv);
    if (!d) {
      if (!tolerant) {
        return d.error();
      }
      unreadable(kv, d.error());
      continue;
    }
    state[d->service].latest = std::move(*d);
  }
  for (auto& [name, stored] : state) {
    std::sort(stored.versions.begin(), stored.versions.end(),
              [](const StoredVersion& a, const StoredVersion& b) {
                return a.version.ordinal < b.version.ordinal;
              });
  }
  return state;
}

}  // namespace rampart::control::detail
