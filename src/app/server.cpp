#include "app/server.hpp"

#include "admin/admin_server.hpp"
#include "admin/api.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "control/deployment_service.hpp"
#include "control/route_publisher.hpp"
#include "gateway/gateway.hpp"
#include "metrics/prometheus.hpp"
#include "metrics/registry.hpp"
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
#include <cstring>
#include <filesystem>
#include <mutex>
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

// Writes `text` to `path` so that a reader (or a crash) sees the old file or the new one whole:
// a temporary file, fsync'd, renamed over, and the directory fsync'd.
Status write_file_atomically(const std::string& path, std::string_view text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_error(Errc::kIo, fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  bool good = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!good || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = good ? errno : saved;
    ::unlink(tmp.c_str());
    return make_error(Errc::kIo, fmt::format("cannot write {}: {}", path, std::strerror(e)));
  }
  const auto dir = std::filesystem::path(path).parent_path();
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

// The [server] and [limits] tables of `cfg` as TOML that parse_config() reads back.
std::string server_toml(const config::Config& cfg) {
  const auto& s = cfg.server;
  const auto& l = cfg.limits;
  return fmt::format(
      "# Written by rampart server at every start: the settings a restart with only --data\n"
      "# uses. A --config file given at start-up replaces them.\n"
      "[server]\nlisten = \"{}\"\nadmin = \"{}\"\nworkers = {}\nmax_connections = {}\n"
      "drain_timeout_ms = {}\n\n[limits]\nmax_header_bytes = {}\nmax_body_bytes = {}\n"
      "header_timeout_ms = {}\nidle_timeout_ms = {}\nconnect_timeout_ms = {}\n"
      "response_timeout_ms = {}\n",
      endpoint_text(s.listen), endpoint_text(s.admin), s.workers, s.max_connections,
      s.drain_timeout_ms, l.max_header_bytes, l.max_body_bytes, l.header_timeout_ms,
      l.idle_timeout_ms, l.connect_timeout_ms, l.response_timeout_ms);
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

// What the admin handlers share; they run on the blocking pool, so it is behind a mutex.
struct ControlState {
  std::mutex mutex;
  std::string last_reload_error;
  uint64_t reloads = 0;
};

struct Server {
  const ServerOptions& options;
  std::string db_path;
  gateway::Gateway& gw;
  metrics::Registry& registry;
  control::DeploymentService& service;
  control::RoutePublisher& publisher;
  admin::Api& api;
  ControlState state;
};

// Re-reads the --config file: its limits replace the served ones and its services are applied
// to the store (as `rampart apply`) by `actor`.
Status reload(Server& server, std::string_view actor) {
  auto remember = [&](const Error& e) {
    std::lock_guard lock(server.state.mutex);
    server.state.last_reload_error = e.message;
    return Status(e);
  };
  if (server.options.config_path.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "this server was started without --config; change it with `rampart "
                      "apply -f FILE`");
  }
  auto cfg = config::load_config(server.options.config_path);
  if (!cfg) {
    return remember(cfg.error());
  }
  if (auto s = apply_overrides(*cfg, server.options); !s) {
    return remember(s.error());
  }
  // The new limits go out with the apply's publication (one swap for the whole reload), or
  // by the refresh below when the apply changed nothing in the store.
  config::Config previous = server.publisher.base();
  server.publisher.set_base(*cfg);
  auto applied = server.service.apply(*cfg, actor, "reload of " + server.options.config_path);
  if (!applied) {
    if (applied.error().code == Errc::kUnavailable) {
      server.api.note_store_error(applied.error().message);
    }
    // Back to the old limits (republished: a commit meanwhile may have served the new ones).
    server.publisher.set_base(std::move(previous));
    (void)server.publisher.refresh();
    return remember(applied.error());
  }
  if (auto s = server.publisher.refresh(); !s) {
    return remember(s.error());
  }
  std::lock_guard lock(server.state.mutex);
  server.state.last_reload_error.clear();
  ++server.state.reloads;
  return {};
}

json::value nullable(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

admin::Response handle_admin(const admin::Request& req, Server& server) {
  if (auto res = server.api.handle(req)) {
    return std::move(*res);
  }
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = target.find('?') == std::string_view::npos
                               ? std::string_view{}
                               : target.substr(target.find('?') + 1);
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  auto error = [&](bhttp::status st, std::string_view code, std::string_view detail) {
    return admin::error_response(st, code, detail, v, keep);
  };

  if (path == "/metrics") {
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return error(bhttp::status::method_not_allowed, "method_not_allowed", "use GET");
    }
    admin::Response res{bhttp::status::ok, v};
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = metrics::render_prometheus(server.registry);
    auto pub = server.publisher.stats();
    res.body() += fmt::format(
        "# HELP rampart_store_revision The store revision the gateway serves.\n"
        "# TYPE rampart_store_revision gauge\nrampart_store_revision {}\n"
        "# HELP rampart_route_publications_total Route snapshots published to the workers.\n"
        "# TYPE rampart_route_publications_total counter\n"
        "rampart_route_publications_total {}\n",
        pub.revision, pub.publications);
    res.keep_alive(keep);
    res.prepare_payload();
    return res;
  }
  if (path == "/health") {
    const std::string store_error = server.api.store_error();
    const auto pub = server.publisher.stats();
    std::string reload_error;
    uint64_t reloads = 0;
    {
      std::lock_guard lock(server.state.mutex);
      reload_error = server.state.last_reload_error;
      reloads = server.state.reloads;
    }
    const bool degraded = !store_error.empty() || !pub.last_error.empty();
    json::object o;
    o["status"] = degraded ? "degraded" : "ok";
    o["version"] = kVersion;
    if (query.find("detailed=true") != std::string_view::npos) {
      auto routes = server.gw.routes();
      json::object gateway;
      gateway["status"] = pub.last_error.empty() ? "ok" : "degraded";
      gateway["workers"] = server.gw.worker_count();
      gateway["active_connections"] = server.gw.active_connections();
      gateway["routes_generation"] = routes ? routes->generation : 0;
      gateway["services"] = routes ? routes->services.size() : 0;
      gateway["last_publish_error"] = nullable(pub.last_error);
      json::object store;
      store["status"] = store_error.empty() ? "ok" : "degraded";
      store["path"] = server.db_path;
      store["revision"] = pub.revision;
      store["last_error"] = nullable(store_error);
      json::object config;
      config["status"] = reload_error.empty() ? "ok" : "degraded";
      config["source"] = server.options.config_path;
      config["reloads"] = reloads;
      config["last_reload_error"] = nullable(reload_error);
      json::object components;
      components["gateway"] = std::move(gateway);
      components["store"] = std::move(store);
      components["config"] = std::move(config);
      o["components"] = std::move(components);
    }
    return admin::json_response(bhttp::status::ok, json::serialize(o), v, keep);
  }
  if (path == "/reload") {
    if (req.method() != bhttp::verb::post) {
      return error(bhttp::status::method_not_allowed, "method_not_allowed", "use POST");
    }
    std::optional<admin::Response> refusal;
    auto who = server.api.authorize(req, model::Role::kAdmin, refusal);
    if (!who) {
      return std::move(*refusal);
    }
    auto s = reload(server, who->name);
    if (!s) {
      log::error("reload refused, the previous configuration stays: {}", s.error().message);
      return error(s.error().code == Errc::kUnavailable ? bhttp::status::service_unavailable
                                                        : bhttp::status::bad_request,
                   s.error().code == Errc::kUnavailable ? "unavailable" : "invalid_config",
                   s.error().message);
    }
    log::info("configuration reloaded (generation {})", server.gw.generation());
    json::object o;
    o["status"] = "reloaded";
    o["generation"] = server.gw.generation();
    return admin::json_response(bhttp::status::ok, json::serialize(o), v, keep);
  }
  return error(bhttp::status::not_found, "not_found",
               "no admin endpoint " + std::string(path) +
                   "; try /api/v1/..., /health, /health?detailed=true, /metrics or POST /reload");
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

int run_server(const ServerOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const std::filesystem::path dir(options.data_dir);
  std::error_code fec;
  // The directory holds the admin token: only its owner may look inside.
  if (std::filesystem::create_directories(dir, fec) && !fec) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, fec);
  }
  if (fec) {
    std::fprintf(stderr, "rampart: cannot create the data directory %s: %s\n", dir.c_str(),
                 fec.message().c_str());
    return 1;
  }
  const std::string saved_path = (dir / kServerFile).string();
  auto base = load_base(options, saved_path);
  if (!base) {
    std::fprintf(stderr, "%s\n", base.error().message.c_str());
    return 2;
  }
  auto listen = to_endpoint(base->server.listen);
  auto admin_at = listen ? to_endpoint(base->server.admin) : listen;
  if (!listen || !admin_at) {
    std::fprintf(stderr, "rampart: %s\n",
                 (!listen ? listen.error() : admin_at.error()).message.c_str());
    return 2;
  }

  // Signals are handled on the control thread; block them everywhere else first. A full disk
  // seen as RLIMIT_FSIZE must fail the write (EFBIG), not kill the process.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  std::signal(SIGXFSZ, SIG_IGN);

  const std::string db_path = (dir / kStoreFile).string();
  auto store = store::SqliteStore::open(db_path);
  if (!store) {
    std::fprintf(stderr, "rampart: %s\n", store.error().message.c_str());
    return 1;
  }
  control::DeploymentService service(**store);
  auto token = service.ensure_bootstrap_token((dir / kTokenFile).string());
  if (!token) {
    std::fprintf(stderr, "rampart: %s\n", token.error().message.c_str());
    return 1;
  }
  if (*token) {
    log::info("created the admin token \"bootstrap\"; its secret is in {}",
              (dir / kTokenFile).string());
  }
  if (!options.config_path.empty()) {
    auto services = service.services();
    if (!services) {
      std::fprintf(stderr, "rampart: %s\n", services.error().message.c_str());
      return 1;
    }
    if (services->empty()) {
      auto applied =
          service.apply(*base, control::kSystemActor, "seed from " + options.config_path);
      if (!applied) {
        std::fprintf(stderr, "rampart: %s\n", applied.error().message.c_str());
        return 1;
      }
      log::info("seeded the store from {}: {} service(s)", options.config_path,
                base->services.size());
    } else if (!base->services.empty()) {
      log::info(
          "the store already holds {} service(s); the services of {} are not applied "
          "(use `rampart apply -f {}`)",
          services->size(), options.config_path, options.config_path);
    }
  }
  if (auto s = write_file_atomically(saved_path, server_toml(*base), 0600); !s) {
    std::fprintf(stderr, "rampart: %s\n", s.error().message.c_str());
    return 1;
  }

  metrics::Registry registry(base->server.workers);
  gateway::Gateway gw(base->server.workers, base->server.max_connections, registry);
  control::RoutePublisher publisher(**store, *base,
                                    [&gw](const config::Config& cfg) { return gw.publish(cfg); });
  if (auto s = publisher.start(); !s) {
    std::fprintf(stderr, "rampart: cannot serve the store's state: %s\n",
                 s.error().message.c_str());
    return 1;
  }
  const auto loaded_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
  {
    auto routes = gw.routes();
    log::info("state at store revision {} loaded in {:.1f} ms: {} service(s) served",
              publisher.stats().revision, loaded_us / 1000.0, routes ? routes->services.size() : 0);
  }
  auto bound = gw.listen(*listen);
  if (!bound) {
    std::fprintf(stderr, "rampart: %s\n", bound.error().message.c_str());
    return 1;
  }

  asio::io_context control(1);
  asio::thread_pool blocking(2);
  admin::Api api(service, registry);
  Server server{options, db_path, gw, registry, service, publisher, api, {}};
  admin::AdminServer admin_server(
      control, [&](const admin::Request& req) { return handle_admin(req, server); });
  admin_server.run_handlers_on(blocking.get_executor());
  auto admin_bound = admin_server.listen(*admin_at);
  if (!admin_bound) {
    std::fprintf(stderr, "rampart: %s\n", admin_bound.error().message.c_str());
    return 1;
  }
  if (auto s = write_file_atomically((dir / kAddressFile).string(),
                                     endpoint_text(*admin_bound) + "\n", 0644);
      !s) {
    std::fprintf(stderr, "rampart: %s\n", s.error().message.c_str());
    return 1;
  }

  // The store file removed or replaced under us: writes would fail; say so before they do.
  const auto db_id = file_id(db_path);
  asio::steady_timer file_check(control);
  std::function<void()> check_file = [&] {
    file_check.expires_after(std::chrono::seconds(1));
    file_check.async_wait([&](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      if (file_id(db_path) != db_id) {
        const std::string reason =
            "the store file " + db_path + " was removed or replaced; restart the server";
        if (api.store_error() != reason) {
          log::error("{}; the gateway keeps serving the last published state", reason);
          api.note_store_error(reason);
        }
      }
      check_file();
    });
  };
  check_file();

  asio::signal_set stop_signals(control, SIGTERM, SIGINT);
  asio::signal_set hup(control, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) {
        return;
      }
      asio::post(blocking, [&] {
        if (auto s = reload(server, control::kSystemActor); !s) {
          log::error("reload refused, the previous configuration stays: {}", s.error().message);
        } else {
          log::info("configuration reloaded (generation {})", gw.generation());
        }
      });
      wait_hup();
    });
  };
  wait_hup();
  stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) {
      return;
    }
    log::info("signal {}: draining (up to {} ms)", sig, base->server.drain_timeout_ms);
    admin_server.stop();
    hup.cancel();
    file_check.cancel();
    control.stop();
  });

  gw.start();
  admin_server.start();
  std::printf("rampart %s: gateway on %s (%u workers), admin on %s\n",
              std::string(kVersion).c_str(), endpoint_text(*bound).c_str(), base->server.workers,
              endpoint_text(*admin_bound).c_str());
  std::fflush(stdout);
  control.run();

  blocking.join();  // admin calls in progress finish their store work
  bool clean = gw.drain(std::chrono::milliseconds(base->server.drain_timeout_ms));
  if (!clean) {
    log::warn("drain timeout reached with requests still in flight; they were cut");
  }
  log::info("stopped");
  return 0;
}

}  // namespace rampart::app
