#include "metrics/registry.hpp"

namespace rampart::metrics {

namespace {
// Indexed by Rejection.
constexpr std::array<std::string_view, kRejectionCount> kRejectionNames = {
    "no_route",
    "bad_request",
    "version_not_deployed",
    "request_timeout",
    "body_too_large",
    "uri_too_long",
    "header_too_large",
    "unsupported_transfer_coding",
    "upstream_unavailable",
    "upstream_reset",
    "upgrade_not_supported",
    "no_healthy_upstream",
    "upstream_timeout",
};
}  // namespace

std::string_view to_string(Rejection rejection) {
  return kRejectionNames[static_cast<std::size_t>(rejection)];
}

Registry::Registry(std::size_t worker_count) : gateway_shards_(worker_count) {}

std::shared_ptr<VersionStats> Registry::version_stats(std::string_view service,
                                                      std::string_view version) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = versions_.try_emplace({std::string(service), std::string(version)});
  if (inserted) {
    it->second =
        std::make_shared<VersionStats>(it->first.first, it->first.second, gateway_shards_.size());
  }
  return it->second;
}

std::vector<VersionSnapshot> Registry::snapshot_versions() const {
  std::vector<std::shared_ptr<const VersionStats>> stats;
  UpstreamBoard board;
  {
    std::lock_guard lock(mutex_);
    stats.reserve(versions_.size());
    for (const auto& [key, value] : versions_) {
      stats.push_back(value);
    }
    board = upstreams_;
  }
  std::vector<VersionSnapshot> out;
  out.reserve(stats.size());
  for (const auto& s : stats) {
    out.push_back(s->snapshot());
    if (auto it = board.find({out.back().service, out.back().version}); it != board.end()) {
      out.back().upstreams = std::move(it->second);
    }
  }
  return out;
}

VersionSnapshot Registry::snapshot_version(std::string_view service,
                                           std::string_view version) const {
  std::shared_ptr<const VersionStats> stats;
  {
    std::lock_guard lock(mutex_);
    auto it = versions_.find({std::string(service), std::string(version)});
    if (it != versions_.end()) {
      stats = it->second;
    }
  }
  if (!stats) {
    VersionSnapshot empty;
    empty.service = std::string(service);
    empty.version = std::string(version);
    return empty;
  }
  return stats->snapshot();
}

void Registry::set_upstreams(UpstreamBoard board) {
  std::lock_guard lock(mutex_);
  upstreams_ = std::move(board);
}

GatewaySnapshot Registry::snapshot_gateway() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  GatewaySnapshot out;
  for (const GatewayShard& shard : gateway_shards_) {
    out.connections_accepted += shard.connections_accepted.load(kRelaxed);
    out.connections_active += shard.connections_active.load(kRelaxed);
    out.connections_rejected += shard.connections_rejected.load(kRelaxed);
    for (std::size_t i = 0; i < kRejectionCount; ++i) {
      out.rejections[i] += shard.rejections[i].load(kRelaxed);
    }
  }
  return out;
}

}  // namespace rampart::metrics
