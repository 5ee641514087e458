// parse_config(): walks the toml++ tree, fills the plain model, collects every problem with its
// line. Collection (not early return) lets one run report all problems; dependent checks are
// skipped when what they depend on was already reported, so one mistake gives one line.

#include "config/config.hpp"
#include "config/quote.hpp"
#include "config/reader.hpp"
#include "config/rollout_reader.hpp"
#include "config/run_reader.hpp"
#include "rollout/strategy.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

namespace rampart::config {

namespace {

constexpr std::array<std::string_view, 3> kRootKeys = {"server", "limits", "service"};
constexpr std::array<std::string_view, 6> kServerKeys = {
    "listen", "admin", "workers", "max_connections", "drain_timeout_ms", "dns_refresh_ms"};
constexpr std::array<std::string_view, 6> kLimitsKeys = {
    "max_header_bytes", "max_body_bytes",     "header_timeout_ms",
    "idle_timeout_ms",  "connect_timeout_ms", "response_timeout_ms"};
constexpr std::array<std::string_view, 10> kServiceKeys = {
    "name",        "routes",       "sticky",  "salt",  "balance",
    "eject_after", "eject_for_ms", "version", "split", "rollout"};
constexpr std::array<std::string_view, 9> kVersionKeys = {
    "name", "upstreams", "run", "instances", "workdir", "health", "grace", "secrets", "env"};

constexpr Range kTimeoutMs{1, 3'600'000, "1 ms to 1 hour"};
constexpr Range kDnsRefreshMs{100, 86'400'000, "100 ms to 1 day"};
constexpr Range kWorkers{1, 256, ""};
constexpr Range kConnections{1, 1'000'000, ""};
constexpr Range kHeaderBytes{1024, 1 << 20, "1 KiB to 1 MiB"};
constexpr Range kBodyBytes{0, int64_t{1} << 40, "0 = unlimited, up to 1 TiB"};
constexpr Range kEjectAfter{1, 1000, ""};

class Parser : public Reader {
 public:
  explicit Parser(std::string_view source_name) : Reader(source_name) {}

  Result<Config> run(const toml::table& root) {
    Config cfg;
    cfg.server.workers = std::clamp(std::thread::hardware_concurrency(), 1u, 256u);
    const Scope top{root, "", "at the top level"};
    reject_unknown(top, kRootKeys);
    if (const toml::table* t = sub_table(top, "server", "[server]")) {
      read_server({*t, "", "in [server]"}, cfg.server);
    }
    if (const toml::table* t = sub_table(top, "limits", "[limits]")) {
      read_limits({*t, "", "in [limits]"}, cfg.limits);
    }
    if (const toml::node* n = root.get("service")) {
      read_services(top, *n, cfg);
    }
    if (auto all = problems()) {
      return make_error(Errc::kInvalidArgument, std::move(*all));
    }
    return cfg;
  }

 private:
  void endpoint_at(const Scope& s, std::string_view key, Endpoint& out) {
    if (const auto* v = string_at(s, key)) {
      auto e = parse_endpoint(v->get());
      if (!e) {
        fail(*v, s.key(key) + ": " + e.error().message);
        return;
      }
      out = *e;
    }
  }

  void read_server(const Scope& s, Server& out) {
    reject_unknown(s, kServerKeys);
    endpoint_at(s, "listen", out.listen);
    endpoint_at(s, "admin", out.admin);
    int_at(s, "workers", kWorkers, out.workers);
    int_at(s, "max_connections", kConnections, out.max_connections);
    int_at(s, "drain_timeout_ms", kTimeoutMs, out.drain_timeout_ms);
    int_at(s, "dns_refresh_ms", kDnsRefreshMs, out.dns_refresh_ms);
  }

  void read_limits(const Scope& s, Limits& out) {
    reject_unknown(s, kLimitsKeys);
    int_at(s, "max_header_bytes", kHeaderBytes, out.max_header_bytes);
    int_at(s, "max_body_bytes", kBodyBytes, out.max_body_bytes);
    int_at(s, "header_timeout_ms", kTimeoutMs, out.header_timeout_ms);
    int_at(s, "idle_timeout_ms", kTimeoutMs, out.idle_timeout_ms);
    int_at(s, "connect_timeout_ms", kTimeoutMs, out.connect_timeout_ms);
    int_at(s, "response_timeout_ms", kTimeoutMs, out.response_timeout_ms);
  }

  void read_services(const Scope& top, const toml::node& n, Config& cfg) {
    if (auto tables = tables_at(top, n, "service", "[[service]]")) {
      for (const toml::table* t : *tables) {
        cfg.services.push_back(read_service(*t, cfg.services.size() + 1));
      }
    }
  }

  Service read_service(const toml::table& t, std::size_t index) {
    Service svc;
    const auto* name_node = t.get_as<std::string>("name");
    const std::string who =
        name_node ? "service " + in_quotes(name_node->get()) : "service #" + std::to_string(index);
    const Scope s{t, who + ": ", "in [[service]]"};
    reject_unknown(s, kServiceKeys);
    if (const auto* v = string_at(s, "name", "name = \"shop\"")) {
      svc.name = v->get();
      if (!is_valid_service_name(svc.name)) {
        fail(*v, s.prefix +
                     "the name is not valid; use 1 to 63 lower-case letters, digits, '_' and '-', "
                     "starting with a letter or digit");
      } else if (auto [it, fresh] = service_lines_.emplace(svc.name, line_of(*v)); !fresh) {
        fail(*v, s.prefix + "the name is already used by the service at line " +
                     std::to_string(it->second) + "; service names must be unique");
      }
    }
    if (auto routes = strings_at(s, "routes", "routes = [\"shop.example.com/\", \"/shop/\"]")) {
      for (const auto* v : *routes) {
        if (auto r = parse_route(v->get()); !r) {
          fail(*v, s.prefix + r.error().message);
        } else if (claim_route(*r, index, who, *v, s.prefix)) {
          svc.routes.push_back(*std::move(r));
        }
      }
    }
    if (const auto* v = string_at(s, "sticky")) {
      if (auto sticky = parse_sticky(v->get()); !sticky) {
        fail(*v, s.prefix + sticky.error().message);
      } else {
        svc.sticky = *sticky;
      }
    }
    svc.salt = svc.name;
    if (const auto* v = string_at(s, "salt")) {
      if (v->get().empty()) {
        fail(*v, s.key("salt") + " is empty; remove it to use the service name");
      } else {
        svc.salt = v->get();
      }
    }
    if (const auto* v = string_at(s, "balance")) {
      if (v->get() == "round_robin") {
        svc.balance = Balance::kRoundRobin;
      } else if (v->get() != "least_request") {
        fail(*v, s.key("balance") + " is " + in_quotes(v->get()) +
                     "; use \"least_request\" or \"round_robin\"");
      }
    }
    int_at(s, "eject_after", kEjectAfter, svc.eject_after);
    int_at(s, "eject_for_ms", kTimeoutMs, svc.eject_for_ms);
    read_versions(s, who, svc);
    read_split(s, svc);
    read_rollout(*this, s, svc.rollout);
    return svc;
  }

  // Records that service #`index` serves `route`; false (reported) when it is already taken.
  bool claim_route(const Route& route, std::size_t index, const std::string& who,
                   const toml::node& at, const std::string& prefix) {
    const std::string text = in_quotes(route.host + route.path_prefix);
    auto [it, fresh] =
        route_owners_.try_emplace({route.host, route.path_prefix}, index, who, line_of(at));
    if (fresh) {
      return true;
    }
    const auto& [owner, owner_who, owner_line] = it->second;
    if (owner == index) {
      fail(at, prefix + "route " + text + " is listed twice; remove one");
    } else {
      fail(at, prefix + "route " + text + " is already claimed by " + owner_who + " (line " +
                   std::to_string(owner_line) + "); a host and prefix belong to one service only");
    }
    return false;
  }

  void read_versions(const Scope& s, const std::string& who, Service& svc) {
    const toml::node* n = s.table.get("version");
    auto tables = n != nullptr ? tables_at(s, *n, "version", "[[service.version]]")
                               : std::optional(std::vector<const toml::table*>{});
    if (tables && tables->empty()) {
      fail(s.table,
           s.prefix + "it has no versions; add a [[service.version]] with a name and upstreams");
    }
    if (!tables) {
      return;
    }
    std::map<std::string, uint32_t> lines;
    for (const toml::table* t : *tables) {
      svc.versions.push_back(read_version(*t, who, lines));
    }
  }

  Version read_version(const toml::table& t, const std::string& who,
                       std::map<std::string, uint32_t>& lines) {
    Version ver;
    const auto* name_node = t.get_as<std::string>("name");
    const Scope s{t, who + (name_node ? ", version " + in_quotes(name_node->get()) : "") + ": ",
                  "in [[service.version]]"};
    reject_unknown(s, kVersionKeys);
    if (const auto* v = string_at(s, "name", "name = \"v1\"")) {
      ver.name = v->get();
      if (!is_valid_version_name(ver.name)) {
        fail(*v,
             s.prefix +
                 "the name is not valid; use 1 to 63 letters, digits, '.', '_' and '-', "
                 "starting with a letter or digit (it is sent in the X-Rampart-Version header)");
      } else if (auto [it, fresh] = lines.emplace(ver.name, line_of(*v)); !fresh) {
        fail(*v, s.prefix + "the name is already used by the version at line " +
                     std::to_string(it->second) + "; version names must be unique in a service");
      }
    }
    ver.run = read_run(*this, s);
    if (const auto* h = string_at(s, "health")) {
      if (h->get().empty() || h->get().front() != '/') {
        fail(*h, s.key("health") + " must be a path starting with '/', e.g. health = \"/health\"");
      } else {
        ver.health_path = h->get();
      }
    }
    if (ver.run) {
      if (const toml::node* u = t.get("upstreams")) {
        fail(*u, s.prefix + "a version has either upstreams or run, not both; remove one");
      }
      return ver;
    }
    if (auto urls = strings_at(s, "upstreams", "upstreams = [\"http://127.0.0.1:9001\"]")) {
      for (const auto* v : *urls) {
        auto up = parse_upstream(v->get());
        if (!up) {
          fail(*v, s.prefix + up.error().message);
        } else if (std::any_of(ver.upstreams.begin(), ver.upstreams.end(),
                               [&](const Upstream& u) { return u.url == up->url; })) {
          fail(*v, s.prefix + "upstream " + in_quotes(up->url) + " is listed twice; remove one");
        } else {
          ver.upstreams.push_back(*std::move(up));
        }
      }
    }
    return ver;
  }

  // A percentage with at most 2 decimals, as basis points; the error completes
  // `split weight of "v1" ...`.
  static Result<uint32_t> basis_points(const toml::node& n) {
    auto bad = [](std::string text) { return make_error(Errc::kInvalidArgument, std::move(text)); };
    if (const auto* i = n.as_integer()) {
      if (i->get() < 0 || i->get() > 100) {
        return bad("must be from 0 to 100 (a percentage), got " + std::to_string(i->get()));
      }
      return static_cast<uint32_t>(i->get() * 100);
    }
    const auto* f = n.as_floating_point();
    if (f == nullptr) {
      return bad("must be a number (a percentage), got " + type_name(n));
    }
    std::ostringstream text;
    text << std::setprecision(12) << f->get();
    if (!(f->get() >= 0.0 && f->get() <= 100.0)) {
      return bad("must be from 0 to 100 (a percentage), got " + text.str());
    }
    const double scaled = f->get() * 100.0;
    const double rounded = std::round(scaled);
    if (std::abs(scaled - rounded) > 1e-6) {
      return bad("is " + text.str() +
                 ", which has more than 2 decimals; weights go in steps of 0.01");
    }
    return static_cast<uint32_t>(rounded);
  }

  void read_split(const Scope& s, Service& svc) {
    if (svc.versions.empty()) {
      return;  // already reported
    }
    if (auto weights = split_weights(s, svc.versions)) {
      for (std::size_t i = 0; i < svc.versions.size(); ++i) {
        svc.split.push_back(SplitEntry{svc.versions[i].name, (*weights)[i]});
      }
    }
  }

  // Basis points per version, in declaration order; nullopt (reported) on any error.
  std::optional<std::vector<uint32_t>> split_weights(const Scope& s,
                                                     const std::vector<Version>& versions) {
    std::vector<uint32_t> weights(versions.size(), 0);
    const toml::node* n = s.table.get("split");
    if (n == nullptr && versions.size() == 1) {
      weights[0] = 10000;
      return weights;
    }
    if (n == nullptr) {
      std::string example;
      for (const Version& v : versions) {
        example += (example.empty() ? v.name + " = 100" : ", " + v.name + " = 0");
      }
      fail(s.table, s.prefix + "it has " + std::to_string(versions.size()) +
                        " versions but no [service.split]; add [service.split] with a percentage "
                        "per version, e.g. " +
                        example);
      return std::nullopt;
    }
    const toml::table* t = sub_table(s, "split", "[service.split]");
    if (t == nullptr) {
      return std::nullopt;
    }
    bool complete = true;
    for (auto&& [k, v] : *t) {
      const std::string_view name = k.str();
      auto it = std::find_if(versions.begin(), versions.end(),
                             [name](const Version& ver) { return ver.name == name; });
      if (it == versions.end()) {
        fail(k.source().begin.line,
             s.prefix + "split names version " + in_quotes(k.str()) +
                 ", which is not declared; add a [[service.version]] named " + in_quotes(k.str()) +
                 " or remove it from [service.split]");
        complete = false;
        continue;
      }
      auto bp = basis_points(v);
      if (!bp) {
        fail(v, s.prefix + "split weight of " + in_quotes(k.str()) + " " + bp.error().message);
        complete = false;
        continue;
      }
      weights[static_cast<std::size_t>(it - versions.begin())] = *bp;
    }
    if (!complete) {
      return std::nullopt;  // a sum would only repeat what was reported
    }
    uint32_t sum = 0;
    for (uint32_t w : weights) {
      sum += w;
    }
    if (sum != 10000) {
      fail(*t, s.prefix + "split sums to " + rollout::percent_text(sum) + ", it must sum to 100%");
      return std::nullopt;
    }
    return weights;
  }

  std::map<std::string, uint32_t> service_lines_;
  // (host, prefix) -> (service index, "service \"shop\"", line).
  std::map<std::pair<std::string, std::string>, std::tuple<std::size_t, std::string, uint32_t>>
      route_owners_;
};

}  // namespace

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  Parser parser(source_name);
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    std::string text(e.description());
    std::replace(text.begin(), text.end(), '\n', ' ');
    return make_error(Errc::kInvalidArgument, parser.at(e.source().begin.line) + text);
  }
  return parser.run(root);
}

Result<Config> load_config(const std::string& path) {
  auto fail = [&] {
    return make_error(Errc::kIo,
                      "cannot read config file " + in_quotes(path) + ": " + std::strerror(errno));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    return fail();
  }
  std::string text;
  char buffer[16384];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) {
    return fail();
  }
  return parse_config(text, path);
}

}  // namespace rampart::config
