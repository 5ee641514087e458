#include "gateway/route_table.hpp"

#include "gateway/picker.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace rampart::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

const VersionRoute* ServiceRoute::find_version(std::string_view name) const {
  for (const auto& v : versions) {
    if (v.name == name) {
      return &v;
    }
  }
  return nullptr;
}

uint32_t UpstreamIds::id_for(const tcp::endpoint& endpoint) {
  std::string key = endpoint.address().to_string() + "|" + std::to_string(endpoint.port());
  std::lock_guard lock(mutex_);
  auto [it, inserted] = ids_.try_emplace(std::move(key), static_cast<uint32_t>(ids_.size()));
  return it->second;
}

uint32_t UpstreamIds::size() const {
  std::lock_guard lock(mutex_);
  return static_cast<uint32_t>(ids_.size());
}

namespace {

bool host_equals(std::string_view request_host, std::string_view route_host) {
  // request_host may carry a port and any case; route_host is lower case without a port.
  if (request_host.size() < route_host.size()) {
    return false;
  }
  for (size_t i = 0; i < route_host.size(); ++i) {
    char c = request_host[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != route_host[i]) {
      return false;
    }
  }
  return request_host.size() == route_host.size() || request_host[route_host.size()] == ':';
}

Result<tcp::endpoint> resolve(const config::Upstream& upstream) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(upstream.host, ec);
  if (!ec) {
    return tcp::endpoint(address, upstream.port);
  }
  std::string host = upstream.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    address = asio::ip::make_address(host.substr(1, host.size() - 2), ec);
    if (!ec) {
      return tcp::endpoint(address, upstream.port);
    }
  }
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(upstream.port), ec);
  if (ec || results.empty()) {
    return make_error(Errc::kInvalidArgument, "cannot resolve upstream " + upstream.url + ": " +
                                                  (ec ? ec.message() : "no address"));
  }
  return results.begin()->endpoint();
}

}  // namespace

void assign_buckets(std::vector<VersionRoute>& versions) {
  // Newest version first from bucket 0: monotonic stickiness for the canary.
  uint32_t next = 0;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    it->bucket_begin = next;
    it->bucket_end = std::min(kBucketCount, next + it->basis_points);
    next = it->bucket_end;
  }
}

const ServiceRoute* RouteTable::match(std::string_view host, std::string_view path) const {
  for (const auto& r : routes) {
    if (!r.host.empty() && !host_equals(host, r.host)) {
      continue;
    }
    if (path.substr(0, r.path_prefix.size()) == r.path_prefix) {
      return &services[r.service];
    }
  }
  return nullptr;
}

Result<std::shared_ptr<const RouteTable>> build_route_table(const config::Config& config,
                                                            uint64_t generation,
                                                            metrics::Registry& registry,
                                                            UpstreamIds& upstream_ids) {
  auto table = std::make_shared<RouteTable>();
  table->generation = generation;
  table->limits = config.limits;
  table->services.reserve(config.services.size());
  for (const auto& svc : config.services) {
    ServiceRoute s;
    s.name = svc.name;
    s.sticky = svc.sticky;
    s.salt_seed = salt_seed(svc.salt.empty() ? svc.name : svc.salt);
    s.balance = svc.balance;
    s.eject_after = svc.eject_after;
    s.eject_for_ms = svc.eject_for_ms;
    for (const auto& ver : svc.versions) {
      VersionRoute v;
      v.name = ver.name;
      for (const auto& split : svc.split) {
        if (split.version == ver.name) {
          v.basis_points = split.basis_points;
        }
      }
      for (const auto& up : ver.upstreams) {
        auto endpoint = resolve(up);
        if (!endpoint) {
          return endpoint.error();
        }
        v.upstreams.push_back(UpstreamTarget{up.host + ":" + std::to_string(up.port), *endpoint,
                                             upstream_ids.id_for(*endpoint)});
      }
      v.stats = registry.version_stats(svc.name, ver.name);
      s.versions.push_back(std::move(v));
    }
    assign_buckets(s.versions);
    uint32_t index = static_cast<uint32_t>(table->services.size());
    for (const auto& route : svc.routes) {
      table->routes.push_back(RouteEntry{route.host, route.path_prefix, index});
    }
    table->services.push_back(std::move(s));
  }
  std::stable_sort(table->routes.begin(), table->routes.end(),
                   [](const RouteEntry& a, const RouteEntry& b) {
                     if (a.path_prefix.size() != b.path_prefix.size()) {
                       return a.path_prefix.size() > b.path_prefix.size();
                     }
                     return !a.host.empty() && b.host.empty();
                   });
  return std::shared_ptr<const RouteTable>(std::move(table));
}

}  // namespace rampart::gateway
