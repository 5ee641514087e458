#include "app/server.hpp"

#include "app/data_dir.hpp"
#include "app/instances.hpp"
#include "app/rollout_seams.hpp"
#include "app/server_state.hpp"

#include "admin/admin_server.hpp"
#include "admin/api.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "control/deployment_service.hpp"
#include "control/rollout_controller.hpp"
#include "control/rollout_service.hpp"
#include "control/route_publisher.hpp"
#include "control/webhook_notifier.hpp"
#include "gateway/gateway.hpp"
#include "metrics/prometheus.hpp"
#include "metrics/registry.hpp"
#include "secrets/master_key.hpp"
#include "secrets/secret_store.hpp"
#include "store/sqlite_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace rampart::app {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

constexpr std::string_view kVersion = "0.1.0";
constexpr std::string_view kStoreFile = "rampart.db";
constexpr std::string_view kTokenFile = "admin.token";
constexpr std::string_view kAddressFile = "admin.addr";
constexpr std::string_view kServerFile = "server.toml";
// How long start-up waits for the versions rampart runs before it accepts connections.
constexpr std::chrono::seconds kFirstStartWait{5};

Result<tcp::endpoint> to_endpoint(const config::Endpoint& e) {
  std::string host = e.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument,
                      "listen address \"" + e.host + "\" is not an IP address: " + ec.message());
  }
  return tcp::endpoint(address, e.port);
}

std::string endpoint_text(const tcp::endpoint& e) {
  if (e.address().is_v6()) {
    return "[" + e.address().to_string() + "]:" + std::to_string(e.port());
  }
  return e.address().to_string() + ":" + std::to_string(e.port());
}

std::string endpoint_text(const config::Endpoint& e) {
  return e.host + ":" + std::to_string(e.port);
}

}  // namespace

Status apply_overrides(config::Config& cfg, const ServerOptions& options) {
  if (options.listen) {
    auto e = config::parse_endpoint(*options.listen);
    if (!e) {
      return make_error(Errc::kInvalidArgument, "--listen: " + e.error().message);
    }
    cfg.server.listen = *e;
  }
  if (options.admin) {
    auto e = config::parse_endpoint(*options.admin);
    if (!e) {
      return make_error(Errc::kInvalidArgument, "--admin: " + e.error().message);
    }
    cfg.server.admin = *e;
  }
  if (options.workers) {
    if (*options.workers < 1 || *options.workers > 256) {
      return make_error(Errc::kInvalidArgument, "--workers must be between 1 and 256");
    }
    cfg.server.workers = *options.workers;
  }
  return {};
}

namespace {

// The [server] and [limits] tables of `cfg` as TOML that parse_config() reads back.
std::string server_toml(const config::Config& cfg) {
  const auto& s = cfg.server;
  const auto& l = cfg.limits;
  return fmt::format(
      "# Written by rampart server at every start: the settings a restart with only --data\n"
      "# uses. A --config file given at start-up replaces them.\n"
      "[server]\nlisten = \"{}\"\nadmin = \"{}\"\nworkers = {}\nmax_connections = {}\n"
      "drain_timeout_ms = {}\ndns_refresh_ms = {}\n\n[limits]\nmax_header_bytes = "
      "{}\nmax_body_bytes = {}\n"
      "header_timeout_ms = {}\nidle_timeout_ms = {}\nconnect_timeout_ms = {}\n"
      "response_timeout_ms = {}\n",
      endpoint_text(s.listen), endpoint_text(s.admin), s.workers, s.max_connections,
      s.drain_timeout_ms, s.dns_refresh_ms, l.max_header_bytes, l.max_body_bytes,
      l.header_timeout_ms, l.idle_timeout_ms, l.connect_timeout_ms, l.response_timeout_ms);
}

// The server settings: the --config file's, else those saved by the last start, else the
// defaults; then the flags.
Result<config::Config> load_base(const ServerOptions& options, const std::string& saved_path) {
  config::Config cfg;
  if (!options.config_path.empty()) {
    auto loaded = config::load_config(options.config_path);
    if (!loaded) {
      return loaded.error();
    }
    cfg = std::move(*loaded);
  } else if (std::filesystem::exists(saved_path)) {
    auto loaded = config::load_config(saved_path);
    if (!loaded) {
      return loaded.error();
    }
    cfg = std::move(*loaded);
  } else {
    auto defaults = config::parse_config("", "defaults");
    if (!defaults) {
      return defaults.error();
    }
    cfg = std::move(*defaults);
  }
  if (auto s = apply_overrides(cfg, options); !s) {
    return s.error();
  }
  return cfg;
}

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

std::optional<FileId> file_id(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return FileId{st.st_dev, st.st_ino};
}

}  // namespace

namespace {

constexpr std::string_view kConfigPathFile = "config.path";
// How often the rollout controller looks at its rollouts: a window that ends is judged at most
// this late, so a rollback takes at most one analysis interval and this long.
constexpr std::chrono::milliseconds kRolloutTick{100};

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "rampart: %s\n", message.c_str());
  return code;
}

// The config file reload re-reads: --config (made absolute, and remembered), else the one the
// last start remembered.
Result<std::string> config_source(const ServerOptions& options, const DataDir& dir) {
  const std::string remembered = dir.file(kConfigPathFile);
  if (options.config_path.empty()) {
    std::ifstream in(remembered);
    std::string path;
    std::getline(in, path);
    return path;
  }
  std::error_code ec;
  std::string path = std::filesystem::absolute(options.config_path, ec).string();
  if (ec) {
    path = options.config_path;
  }
  if (auto s = write_file_atomically(remembered, path + "\n", 0600); !s) {
    return s.error();
  }
  return path;
}

// First start with --config: its services seed the store. Later starts leave the store alone.
Status seed(control::DeploymentService& service, const config::Config& base,
            const ServerOptions& options) {
  if (options.config_path.empty()) {
    return {};
  }
  auto services = service.services();
  if (!services) {
    return services.error();
  }
  if (services->empty()) {
    auto applied = service.apply(base, control::kSystemActor, "seed from " + options.config_path);
    if (!applied) {
      return applied.error();
    }
    log::info("seeded the store from {}: {} service(s)", options.config_path, base.services.size());
  } else if (!base.services.empty()) {
    log::info(
        "the store already holds {} service(s); the services of {} are not applied "
        "(use `rampart apply -f {}`)",
        services->size(), options.config_path, options.config_path);
  }
  return {};
}

// Reports the store file removed or replaced under us (writes would fail) before writes do,
// once a second.
class StoreFileWatch {
 public:
  StoreFileWatch(asio::io_context& ioc, std::string path, admin::Api& api)
      : timer_(ioc), path_(std::move(path)), id_(file_id(path_)), api_(api) {}

  void start() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      check();
      start();
    });
  }
  void stop() { timer_.cancel(); }

 private:
  void check() {
    if (file_id(path_) == id_) {
      return;
    }
    const std::string reason =
        "the store file " + path_ + " was removed or replaced; restart the server";
    if (api_.store_error() != reason) {
      log::error("{}; the gateway keeps serving the last published state", reason);
      api_.note_store_error(reason);
    }
  }

  asio::steady_timer timer_;
  std::string path_;
  std::optional<FileId> id_;
  admin::Api& api_;
};

// SIGHUP reloads (on the blocking pool); SIGTERM and SIGINT stop the control loop, after which
// run_server drains.
class Signals {
 public:
  Signals(asio::io_context& control, asio::thread_pool& blocking, Server& server,
          std::function<void(int)> on_stop)
      : hup_(control, SIGHUP),
        stop_(control, SIGTERM, SIGINT),
        blocking_(blocking),
        server_(server),
        on_stop_(std::move(on_stop)) {}

  void start() {
    wait_hup();
    stop_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (!ec) {
        hup_.cancel();
        on_stop_(sig);
      }
    });
  }

 private:
  void wait_hup() {
    hup_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) {
        return;
      }
      asio::post(blocking_, [this] {
        if (auto s = reload(server_, control::kSystemActor); !s) {
          log::error("reload refused, the previous configuration stays: {}", s.error().message);
        } else {
          log::info("configuration reloaded (generation {})", server_.gw.generation());
        }
      });
      wait_hup();
    });
  }

  asio::signal_set hup_;
  asio::signal_set stop_;
  asio::thread_pool& blocking_;
  Server& server_;
  std::function<void(int)> on_stop_;
};

// Takes the fleet's instances out of the publisher's view when the server's parts are taken
// down (in reverse order of declaration).
struct Unjoin {
  control::RoutePublisher& publisher;
  ~Unjoin() { publisher.set_instances({}); }
};

// Whether no route lists `addresses` ("http://127.0.0.1:PORT") and none has a request in flight.
bool drained(gateway::Gateway& gw, const std::vector<std::string>& addresses) {
  for (const auto& url : addresses) {
    auto up = config::parse_upstream(url);
    if (!up) {
      continue;
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(up->host, ec);
    if (!ec && !gw.drained(tcp::endpoint(address, up->port))) {
      return false;
    }
  }
  return true;
}

void block_signals() {
  // Signals are handled on the control thread; block them everywhere else first. A full disk
  // seen as RLIMIT_FSIZE must fail the write (EFBIG), not kill the process.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  std::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace

// Start-up, in order: own the data directory, then both listening addresses (nothing is
// accepted yet), then open the store, seed it, publish it, and only then accept. A failure at
// any step exits before anything is served or written that another server relies on.
int run_server(const ServerOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  auto dir = DataDir::open(options.data_dir);
  if (!dir) {
    return fail(1, dir.error().message);
  }
  auto base = load_base(options, dir->file(kServerFile));
  if (!base) {
    std::fprintf(stderr, "%s\n", base.error().message.c_str());
    return 2;
  }
  auto listen = to_endpoint(base->server.listen);
  auto admin_at = listen ? to_endpoint(base->server.admin) : listen;
  if (!listen || !admin_at) {
    return fail(2, (!listen ? listen.error() : admin_at.error()).message);
  }
  block_signals();

  metrics::Registry registry(base->server.workers);
  gateway::Gateway gw(
      {.workers = base->server.workers, .max_connections = base->server.max_connections}, registry);
  auto bound = gw.listen(*listen);
  if (!bound) {
    return fail(1, bound.error().message);
  }
  asio::io_context control(1);
  std::unique_ptr<Server> server;  // a pointer: Server is an aggregate with references and a mutex
  admin::AdminServer admin_server(
      control, [&](const admin::Request& req) { return handle_admin(req, *server); });
  auto admin_bound = admin_server.listen(*admin_at);
  if (!admin_bound) {
    return fail(1, admin_bound.error().message);
  }

  const std::string db_path = dir->file(kStoreFile);
  auto store = store::SqliteStore::open(db_path);
  if (!store) {
    return fail(1, store.error().message);
  }
  control::DeploymentService service(**store);
  // The secrets' master key: RAMPART_MASTER_KEY, else DATA/master.key (0600, made at first
  // start). A key that cannot be loaded stops the start; one that does not open the stored
  // secrets (another key) is said at once, and the secrets can still be listed and put again.
  auto master_key =
      secrets::load_master_key(dir->path(), std::getenv(secrets::kMasterKeyVariable.data()));
  if (!master_key) {
    return fail(1, "cannot load the master key: " + master_key.error().message);
  }
  secrets::SecretStore secret_store(**store, *master_key);
  if (auto s = secret_store.check_key(); !s) {
    log::warn("the stored secrets do not open: {}", s.error().message);
  }
  auto token = service.ensure_bootstrap_token(dir->file(kTokenFile));
  if (!token) {
    return fail(1, token.error().message);
  }
  if (*token) {
    log::info("created the admin token \"bootstrap\"; its secret is in {}", dir->file(kTokenFile));
  }
  if (auto s = seed(service, *base, options); !s) {
    return fail(1, s.error().message);
  }
  auto config_path = config_source(options, *dir);
  if (!config_path) {
    return fail(1, config_path.error().message);
  }
  if (auto s = write_file_atomically(dir->file(kServerFile), server_toml(*base), 0600); !s) {
    return fail(1, s.error().message);
  }

  control::RoutePublisher publisher(**store, *base,
                                    [&gw](const config::Config& cfg) { gw.publish(cfg); });
  // The versions rampart runs: their instances join the routes as they become ready, and
  // leave them (drained through the gateway) before they stop.
  runner::Fleet fleet(
      {.changed = [&publisher] { (void)publisher.refresh(/*force=*/true); },
       .drained =
           [&gw](const std::vector<std::string>& addresses) { return drained(gw, addresses); }});
  publisher.set_instances(
      [&fleet](const std::string& s, const std::string& v) { return fleet.addresses(s, v); });
  // Destroyed before the fleet: no publication asks it once it is gone.
  const Unjoin unjoin{publisher};
  if (auto s = publisher.start(); !s) {
    return fail(1, "cannot read the store's state: " + s.error().message);
  }
  const auto loaded_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
  const auto pub = publisher.stats();
  log::info("state at store revision {} loaded in {:.1f} ms: {} service(s) served, {} not",
            pub.revision, loaded_us / 1000.0, gw.routes() ? gw.routes()->services.size() : 0,
            pub.problems.size());

  control::RolloutService rollouts(**store);
  InstanceSync instances(**store, rollouts, fleet,
                         {.log_root = std::filesystem::path(dir->path()) / "logs",
                          .secrets = runner::secret_values(secret_store)});
  if (auto s = instances.start(); !s) {
    return fail(1, "cannot read which versions to run: " + s.error().message);
  }
  fleet.start();
  control::RolloutController controller(
      rollouts,
      {.now_ms = control::system_unix_ms,
       .counters = [&registry](const std::string& s,
                               const std::string& v) { return registry.snapshot_version(s, v); },
       .checks = rollout_checks(service, fleet, *bound),
       .confirm = rollout_confirm(service)});
  // Off the controller's path: a webhook that hangs never delays a rollback.
  control::WebhookNotifier notifier(**store, {});

  asio::thread_pool blocking(2);
  admin::Api api(
      service, registry, rollouts,
      admin::Extensions{
          .secrets = &secret_store,
          .fleet = &fleet,
          .gateway = &gw,
          .log_root = (std::filesystem::path(dir->path()) / "logs").string(),
          .prepare = [&instances](const std::string& s, const std::vector<std::string>& v) {
            return instances.prepare(s, v);
          }});
  server.reset(new Server{options,
                          *config_path,
                          db_path,
                          gw,
                          registry,
                          service,
                          publisher,
                          api,
                          admin_server,
                          rollouts,
                          secret_store,
                          fleet,
                          {}});
  admin_server.run_handlers_on(blocking.get_executor());
  admin_server.set_limits(base->limits);
  if (auto s =
          write_file_atomically(dir->file(kAddressFile), endpoint_text(*admin_bound) + "\n", 0644);
      !s) {
    return fail(1, s.error().message);
  }

  StoreFileWatch file_watch(control, db_path, api);
  Signals signals(control, blocking, *server, [&](int sig) {
    log::info("signal {}: draining (up to {} ms)", sig, base->server.drain_timeout_ms);
    admin_server.stop();
    file_watch.stop();
    control.stop();
  });
  file_watch.start();
  signals.start();
  // After a restart (kill -9 too) the versions rampart runs start again first: until they
  // answer (at most kFirstStartWait), connections wait in the listen queue.
  if (!fleet.wait_started(std::chrono::steady_clock::now() + kFirstStartWait)) {
    log::warn("serving before every version's instances started (waited {} s)",
              kFirstStartWait.count());
  }
  gw.start();
  admin_server.start();
  controller.start(kRolloutTick);
  notifier.start();
  std::printf("rampart %s: gateway on %s (%u workers), admin on %s\n",
              std::string(kVersion).c_str(), endpoint_text(*bound).c_str(), base->server.workers,
              endpoint_text(*admin_bound).c_str());
  std::fflush(stdout);
  control.run();

  blocking.join();  // admin calls in progress finish their store work
  controller.stop();
  notifier.stop();
  if (!gw.drain(std::chrono::milliseconds(base->server.drain_timeout_ms))) {
    log::warn("drain timeout reached with requests still in flight; they were cut");
  }
  instances.stop();
  fleet.stop();  // after the gateway: no request is left for an instance to answer
  log::info("stopped");
  return 0;
}

}  // namespace rampart::app
