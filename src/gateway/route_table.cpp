#include "gateway/route_table.hpp"

#include "gateway/picker.hpp"
#include "metrics/registry.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <variant>

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

std::optional<uint32_t> UpstreamIds::find(const tcp::endpoint& endpoint) const {
  std::string key = endpoint.address().to_string() + "|" + std::to_string(endpoint.port());
  std::lock_guard lock(mutex_);
  auto it = ids_.find(key);
  return it == ids_.end() ? std::nullopt : std::optional(it->second);
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

// The address of `upstream`: its IP literal, or its name's first address in `answers`; else
// why there is none.
std::variant<tcp::endpoint, std::string> address_of(const config::Upstream& upstream,
                                                    const HostAnswers& answers) {
  if (auto literal = literal_address(upstream.host)) {
    return tcp::endpoint(*literal, upstream.port);
  }
  auto it = answers.find(upstream.host);
  if (it == answers.end() || (it->second.pending && it->second.addresses.empty())) {
    return std::string("is being resolved");
  }
  if (it->second.addresses.empty()) {
    return "does not resolve: " + it->second.error;
  }
  return tcp::endpoint(it->second.addresses.front(), upstream.port);
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

std::vector<std::string> upstream_host_names(const config::Config& config) {
  std::vector<std::string> names;
  for (const auto& svc : config.services) {
    for (const auto& ver : svc.versions) {
      for (const auto& up : ver.upstreams) {
        if (!literal_address(up.host)) {
          names.push_back(up.host);
        }
      }
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::shared_ptr<const RouteTable> build_route_table(const config::Config& config,
                                                    uint64_t generation,
                                                    metrics::Registry& registry,
                                                    UpstreamIds& upstream_ids,
                                                    const HostAnswers& answers) {
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
        std::string authority = up.host + ":" + std::to_string(up.port);
        auto address = address_of(up, answers);
        if (auto* reason = std::get_if<std::string>(&address)) {
          v.unresolved.push_back(UnresolvedUpstream{std::move(authority), std::move(*reason)});
          continue;
        }
        const auto& endpoint = std::get<tcp::endpoint>(address);
        v.upstreams.push_back(
            UpstreamTarget{std::move(authority), endpoint, upstream_ids.id_for(endpoint)});
      }
      v.stats = registry.version_stats(svc.name, ver.name);
      v.key_epoch = v.stats->key_epoch(v.basis_points, generation);
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
  return table;
}

}  // namespace rampart::gateway
