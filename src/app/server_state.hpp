#pragma once
// What the running server's own admin endpoints (/health, /metrics, /reload) share with its
// wiring in server.cpp. The admin handlers run on the blocking pool: `state` is behind a mutex,
// the rest is thread-safe on its own.

#include "admin/admin_server.hpp"
#include "admin/api.hpp"
#include "config/config.hpp"
#include "control/deployment_service.hpp"
#include "control/rollout_service.hpp"
#include "control/route_publisher.hpp"
#include "gateway/gateway.hpp"
#include "metrics/registry.hpp"
#include "runner/fleet.hpp"
#include "secrets/secret_store.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace rampart::app {

struct ServerOptions;

struct ReloadState {
  mutable std::mutex mutex;
  std::string last_error;  // GUARDED_BY(mutex)
  uint64_t reloads = 0;    // GUARDED_BY(mutex)
};

struct Server {
  const ServerOptions& options;
  // The config file that reload re-reads: --config, else the one the last start was given
  // (remembered in the data directory); empty when there never was one.
  std::string config_path;
  std::string db_path;
  gateway::Gateway& gw;
  metrics::Registry& registry;
  control::DeploymentService& service;
  control::RoutePublisher& publisher;
  admin::Api& api;
  admin::AdminServer& admin_server;
  control::RolloutService& rollouts;
  // The service's secrets, sealed under the master key; get() answers a value (for the runner).
  secrets::SecretStore& secrets;
  // The versions rampart runs (their instances, restarts and churn for /metrics).
  runner::Fleet& fleet;
  ReloadState reload;
};

// The --listen, --admin and --workers flags over `cfg`.
Status apply_overrides(config::Config& cfg, const ServerOptions& options);

// Re-reads the config file: its limits replace the served ones and its services are applied
// to the store (as `rampart apply`) by `actor`.
Status reload(Server& server, std::string_view actor);

// /health, /metrics and POST /reload, then the API's /api/v1 routes; 404 for anything else.
admin::Response handle_admin(const admin::Request& req, Server& server);

}  // namespace rampart::app
