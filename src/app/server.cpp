#include "app/server.hpp"

#include "admin/admin_server.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "gateway/gateway.hpp"
#include "metrics/prometheus.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <cstdio>

namespace rampart::app {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

constexpr std::string_view kVersion = "0.1.0";

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

Status apply_overrides(config::Config& cfg, const ServerOptions& options) {
  if (options.listen) {
    auto e = config::parse_endpoint(*options.listen);
    if (!e) return make_error(Errc::kInvalidArgument, "--listen: " + e.error().message);
    cfg.server.listen = *e;
  }
  if (options.admin) {
    auto e = config::parse_endpoint(*options.admin);
    if (!e) return make_error(Errc::kInvalidArgument, "--admin: " + e.error().message);
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

// The state the admin handler reads; touched only on the control thread.
struct ControlState {
  std::string config_path;
  std::string last_reload_error;
  uint64_t reloads = 0;
};

Status reload(const ServerOptions& options, gateway::Gateway& gw, ControlState& state) {
  auto cfg = config::load_config(options.config_path);
  if (!cfg) {
    state.last_reload_error = cfg.error().message;
    return cfg.error();
  }
  if (auto s = apply_overrides(*cfg, options); !s) {
    return s.error();
  }
  if (auto s = gw.publish(*cfg); !s) {
    state.last_reload_error = s.error().message;
    return s.error();
  }
  state.last_reload_error.clear();
  ++state.reloads;
  return {};
}

admin::Response handle_admin(const admin::Request& req, const ServerOptions& options,
                             gateway::Gateway& gw, metrics::Registry& registry,
                             ControlState& state) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = target.find('?') == std::string_view::npos
                               ? std::string_view{}
                               : target.substr(target.find('?') + 1);
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  auto error = [&](bhttp::status st, std::string_view code, std::string_view detail) {
    json::object o;
    o["error"] = code;
    o["detail"] = detail;
    return admin::json_response(st, json::serialize(o), v, keep);
  };

  if (path == "/metrics") {
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return error(bhttp::status::method_not_allowed, "method_not_allowed", "use GET");
    }
    admin::Response res{bhttp::status::ok, v};
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = metrics::render_prometheus(registry);
    res.keep_alive(keep);
    res.prepare_payload();
    return res;
  }
  if (path == "/health") {
    json::object o;
    o["status"] = "ok";
    o["version"] = kVersion;
    if (query.find("detailed=true") != std::string_view::npos) {
      auto routes = gw.routes();
      json::object gateway;
      gateway["status"] = "ok";
      gateway["workers"] = gw.worker_count();
      gateway["active_connections"] = gw.active_connections();
      gateway["routes_generation"] = routes ? routes->generation : 0;
      gateway["services"] = routes ? routes->services.size() : 0;
      json::object config;
      config["status"] = state.last_reload_error.empty() ? "ok" : "degraded";
      config["source"] = state.config_path;
      config["reloads"] = state.reloads;
      config["last_reload_error"] = state.last_reload_error.empty()
                                        ? json::value(nullptr)
                                        : json::value(state.last_reload_error);
      json::object components;
      components["gateway"] = std::move(gateway);
      components["config"] = std::move(config);
      o["components"] = std::move(components);
    }
    return admin::json_response(bhttp::status::ok, json::serialize(o), v, keep);
  }
  if (path == "/reload") {
    if (req.method() != bhttp::verb::post) {
      return error(bhttp::status::method_not_allowed, "method_not_allowed", "use POST");
    }
    auto s = reload(options, gw, state);
    if (!s) {
      log::error("reload refused, the previous configuration stays: {}", s.error().message);
      return error(bhttp::status::bad_request, "invalid_config", s.error().message);
    }
    log::info("configuration reloaded (generation {})", gw.generation());
    json::object o;
    o["status"] = "reloaded";
    o["generation"] = gw.generation();
    return admin::json_response(bhttp::status::ok, json::serialize(o), v, keep);
  }
  return error(bhttp::status::not_found, "not_found",
               "no admin endpoint " + std::string(path) +
                   "; try /health, /health?detailed=true, /metrics or POST /reload");
}

}  // namespace

int run_server(const ServerOptions& options) {
  auto loaded = config::load_config(options.config_path);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    return 2;
  }
  config::Config cfg = std::move(*loaded);
  if (auto s = apply_overrides(cfg, options); !s) {
    std::fprintf(stderr, "rampart: %s\n", s.error().message.c_str());
    return 2;
  }
  auto listen = to_endpoint(cfg.server.listen);
  auto admin_at = listen ? to_endpoint(cfg.server.admin) : listen;
  if (!listen || !admin_at) {
    std::fprintf(stderr, "rampart: %s\n",
                 (!listen ? listen.error() : admin_at.error()).message.c_str());
    return 2;
  }

  // Signals are handled on the control thread; block them everywhere else first.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

  metrics::Registry registry(cfg.server.workers);
  gateway::Gateway gw(cfg.server.workers, cfg.server.max_connections, registry);
  if (auto s = gw.publish(cfg); !s) {
    std::fprintf(stderr, "rampart: %s\n", s.error().message.c_str());
    return 2;
  }
  auto bound = gw.listen(*listen);
  if (!bound) {
    std::fprintf(stderr, "rampart: %s\n", bound.error().message.c_str());
    return 1;
  }

  asio::io_context control(1);
  ControlState state;
  state.config_path = options.config_path;
  admin::AdminServer admin_server(control, [&](const admin::Request& req) {
    return handle_admin(req, options, gw, registry, state);
  });
  auto admin_bound = admin_server.listen(*admin_at);
  if (!admin_bound) {
    std::fprintf(stderr, "rampart: %s\n", admin_bound.error().message.c_str());
    return 1;
  }

  asio::signal_set stop_signals(control, SIGTERM, SIGINT);
  asio::signal_set hup(control, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (auto s = reload(options, gw, state); !s) {
        log::error("reload refused, the previous configuration stays: {}", s.error().message);
      } else {
        log::info("configuration reloaded (generation {})", gw.generation());
      }
      wait_hup();
    });
  };
  wait_hup();
  stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("signal {}: draining (up to {} ms)", sig, cfg.server.drain_timeout_ms);
    admin_server.stop();
    hup.cancel();
    control.stop();
  });

  gw.start();
  admin_server.start();
  std::printf("rampart %s: gateway on %s (%u workers), admin on %s\n",
              std::string(kVersion).c_str(), endpoint_text(*bound).c_str(), cfg.server.workers,
              endpoint_text(*admin_bound).c_str());
  std::fflush(stdout);
  control.run();

  bool clean = gw.drain(std::chrono::milliseconds(cfg.server.drain_timeout_ms));
  if (!clean) {
    log::warn("drain timeout reached with requests still in flight; they were cut");
  }
  log::info("stopped");
  return 0;
}

}  // namespace rampart::app
