#pragma once
// The change path's last step: the store's state → a config::Config → the gateway's workers.
//
// RoutePublisher subscribes to the store. After every commit (on the committing thread, before
// the writer's txn() returns) it reads the snapshot (model::Snapshot, one read at one
// revision), and when the served state changed, turns it into a config (model::to_config over
// the base server settings) and hands it to the sink, which compiles it and swaps it into every
// worker with one atomic pointer store. So a mutation is acknowledged only once the gateway
// serves it, and nothing is served before it is durable.
//
// One service's data never stops the publication of the others. A service the gateway cannot
// serve as stored (a record that does not decode, a split naming a missing version, ...; see
// model::to_config) keeps being served as it was last published, if it was, and is reported
// in stats().problems; every other service is published as usual. Only a store that cannot be
// read at all leaves the last published state in place, remembered as last_error (the health
// endpoint's "degraded"); the next commit tries again.
//
// Thread safety: every method may be called from any thread; publications are serialised by
// one mutex, so the sink is never called concurrently.

#include "common/result.hpp"
#include "config/config.hpp"
#include "metrics/latency_histogram.hpp"
#include "model/seed.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rampart::control {

class RoutePublisher {
 public:
  // Compiles and swaps in a config (Gateway::publish).
  using Sink = std::function<void(const config::Config&)>;

  struct Stats {
    std::int64_t revision = 0;       // the store revision the gateway serves
    std::uint64_t publications = 0;  // configs handed to the sink successfully
    std::string last_error{};        // empty when the last attempt succeeded
    // Services served from an earlier revision, or not at all, and why (by service).
    std::vector<model::ServiceProblem> problems{};
    metrics::LatencyHistogram durations;  // notification → swapped, per publication
  };

  // REQUIRES: `store` outlives this object.
  RoutePublisher(store::Store& store, config::Config base, Sink sink);
  ~RoutePublisher();

  RoutePublisher(const RoutePublisher&) = delete;
  RoutePublisher& operator=(const RoutePublisher&) = delete;

  // Publishes the store's current state, then follows every commit. An error (the store could
  // not be read) leaves the subscription off: the caller decides (start-up fails).
  Status start();

  // Replaces the server settings and limits the services are served with. Publishes nothing:
  // the next publication (after the next commit, or refresh()) serves them, even when the
  // services did not change. So a reload that also commits publishes once.
  void set_base(config::Config base);
  // The server settings and limits in use (services empty).
  config::Config base() const;

  // Where the versions that rampart runs are served (their ready instances): asked at every
  // publication. Call before start(); a change of its answers is published by refresh(true).
  void set_instances(model::InstanceAddresses instances);

  // Re-reads the store and publishes when the served state changed (force: publish anyway).
  Status refresh(bool force = false);

  Stats stats() const;

 private:
  Status refresh_locked(bool force);
  // Serves each broken service of `served` as last published, if it was; remembers the
  // others as published.
  void keep_last_good(model::ServedConfig& served);

  store::Store& store_;
  Sink sink_;
  mutable std::mutex mutex_;
  config::Config base_;
  model::InstanceAddresses instances_;
  bool base_changed_ = false;  // set_base() since the last publication
  std::optional<model::Snapshot> served_;
  std::uint64_t publications_ = 0;
  std::string last_error_;
  std::vector<model::ServiceProblem> problems_;
  std::map<std::string, config::Service, std::less<>> last_good_;  // by service name
  metrics::LatencyHistogram durations_;
  store::Subscription subscription_;
};

}  // namespace rampart::control
