// The change path, measured (docs/benchmarks.md):
//
//   control-bench publish [--mutations N] [--dir DIR]
//     N split changes through the DeploymentService on a SQLite store in DIR, with the
//     RoutePublisher feeding a real Gateway (2 workers). Reports the latency of each
//     acknowledged write (fsync included) and the time from the committed change to the new
//     route snapshot being swapped into every worker (the publisher's notification -> swap).
//
//   control-bench populate DIR [--deployments N]
//     Seeds DIR/rampart.db with one service and N deployments of history, for the start-up
//     measurement of bench/control.sh.

#include "config/config.hpp"
#include "control/deployment_service.hpp"
#include "control/route_publisher.hpp"
#include "gateway/gateway.hpp"
#include "metrics/latency_histogram.hpp"
#include "metrics/registry.hpp"
#include "store/sqlite_store.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace {

using namespace rampart;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kConfig = R"(
[[service]]
name = "shop"
routes = ["/"]
sticky = "none"

[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:9001"]

[[service.version]]
name = "v2"
upstreams = ["http://127.0.0.1:9002"]

[service.split]
v1 = 100
)";

config::Config seed_config() {
  auto cfg = config::parse_config(kConfig, "bench.toml");
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    std::exit(1);
  }
  return *cfg;
}

std::unique_ptr<store::SqliteStore> open_store(const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto store = store::SqliteStore::open(dir + "/rampart.db");
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    std::exit(1);
  }
  return std::move(*store);
}

std::vector<model::SplitEntry> split_for(int i) {
  const auto canary = static_cast<std::uint32_t>((i % 100) * 100);
  return {{"v1", 10000 - canary}, {"v2", canary}};
}

void print_quantiles(std::string_view what, const metrics::LatencyHistogram& h) {
  fmt::print("{:<44} n={:<6} p50={:8.3f} ms  p99={:8.3f} ms  max={:8.3f} ms\n", what, h.count(),
             static_cast<double>(h.quantile(0.50)) / 1e6,
             static_cast<double>(h.quantile(0.99)) / 1e6, static_cast<double>(h.max()) / 1e6);
}

int publish(int mutations, const std::string& dir) {
  auto store = open_store(dir);
  control::DeploymentService service(*store);
  auto cfg = seed_config();
  if (auto a = service.apply(cfg, "bench", "seed"); !a) {
    std::fprintf(stderr, "%s\n", a.error().message.c_str());
    return 1;
  }
  metrics::Registry registry(2);
  gateway::Gateway gw({.workers = 2, .max_connections = 1000}, registry);
  control::RoutePublisher publisher(*store, cfg, [&gw](const config::Config& c) { gw.publish(c); });
  if (auto s = publisher.start(); !s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    return 1;
  }
  const auto before = publisher.stats();
  metrics::LatencyHistogram acks;
  for (int i = 0; i < mutations; ++i) {
    const auto t0 = Clock::now();
    auto d = service.set_split("shop", split_for(i + 1), "bench", "");
    const auto t1 = Clock::now();
    if (!d) {
      std::fprintf(stderr, "%s\n", d.error().message.c_str());
      return 1;
    }
    // The acknowledged write is already what every worker reads.
    if (gw.routes()->generation != gw.generation() ||
        publisher.stats().revision != d->deployment.revision) {
      std::fprintf(stderr, "deployment %lld was acknowledged before it was published\n",
                   static_cast<long long>(d->deployment.id));
      return 1;
    }
    acks.record(static_cast<std::uint64_t>((t1 - t0).count()));
  }
  auto after = publisher.stats();
  metrics::LatencyHistogram swaps = after.durations;
  // Only this run's publications (start() published once before).
  fmt::print("store: {} (SQLite, WAL, synchronous=FULL)\n", dir);
  print_quantiles("split acknowledged (txn + fsync + publish)", acks);
  print_quantiles("commit -> swapped into every worker", swaps);
  fmt::print("publications: {} for {} commits\n", after.publications - before.publications,
             mutations);
  return 0;
}

int populate(const std::string& dir, int deployments) {
  auto store = open_store(dir);
  control::DeploymentService service(*store);
  if (auto a = service.apply(seed_config(), "bench", "seed"); !a) {
    std::fprintf(stderr, "%s\n", a.error().message.c_str());
    return 1;
  }
  for (int i = 1; i < deployments; ++i) {
    if (auto d = service.set_split("shop", split_for(i), "bench", ""); !d) {
      std::fprintf(stderr, "%s\n", d.error().message.c_str());
      return 1;
    }
  }
  fmt::print("{}: {} deployments, store revision {}\n", dir, deployments, store->revision());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"control-bench: the change path's latencies"};
  app.require_subcommand(1);
  int mutations = 2000;
  std::string publish_dir = "/tmp/rampart-control-bench";
  auto* pub = app.add_subcommand("publish", "commit -> all workers serving");
  pub->add_option("--mutations", mutations);
  pub->add_option("--dir", publish_dir);
  int deployments = 10000;
  std::string populate_dir;
  auto* pop = app.add_subcommand("populate", "a store with N deployments of history");
  pop->add_option("dir", populate_dir)->required();
  pop->add_option("--deployments", deployments);
  CLI11_PARSE(app, argc, argv);
  if (pub->parsed()) {
    std::filesystem::remove_all(publish_dir);
    const int rc = publish(mutations, publish_dir);
    std::filesystem::remove_all(publish_dir);
    return rc;
  }
  return populate(populate_dir, deployments);
}
