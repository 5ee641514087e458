// The rollout controller's own cost, measured (docs/benchmarks.md):
//
//   rollout-bench [--services N] [--ticks T] [--dir DIR]
//     N services, each with a progressing rollout (1 h windows), on a SQLite store in DIR.
//     Reports the time of one controller tick (a) when no analysis window is due and nothing
//     was committed since the last tick (what the 100 ms tick costs between windows) and (b)
//     when every rollout's window is due (each judged and its decision committed: one fsync'd
//     transaction per rollout).

#include "common/log.hpp"
#include "config/config.hpp"
#include "control/deployment_service.hpp"
#include "control/rollout_controller.hpp"
#include "control/rollout_service.hpp"
#include "metrics/latency_histogram.hpp"
#include "store/sqlite_store.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace {

using namespace rampart;
using Clock = std::chrono::steady_clock;

// Services svc{first} .. svc{first + n - 1}.
std::string services_config(int first, int n) {
  std::string text;
  for (int i = first; i < first + n; ++i) {
    text += fmt::format(
        "[[service]]\nname = \"svc{}\"\nroutes = [\"/svc{}/\"]\nsticky = \"none\"\n"
        "[[service.version]]\nname = \"v1\"\nupstreams = [\"http://127.0.0.1:9001\"]\n"
        "[[service.version]]\nname = \"v2\"\nupstreams = [\"http://127.0.0.1:9002\"]\n"
        "[service.split]\nv1 = 100\n[service.rollout]\nsteps = [ {{ weight = 10, pause = "
        "\"1h\" }}, {{ weight = 100 }} ]\n[service.rollout.analysis]\ninterval = \"1h\"\n"
        "min_requests = 10\n\n",
        i, i);
  }
  return text;
}

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void report(std::string_view what, const metrics::LatencyHistogram& wall, double cpu_per_tick) {
  fmt::print("{:<46} ticks={:<5} wall p50={:8.3f} ms  p99={:8.3f} ms  cpu/tick={:8.3f} ms\n", what,
             wall.count(), static_cast<double>(wall.quantile(0.5)) / 1e6,
             static_cast<double>(wall.quantile(0.99)) / 1e6, cpu_per_tick);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The rollout controller's cost per tick"};
  int services = 100;
  int ticks = 200;
  std::string dir = std::filesystem::temp_directory_path() / "rampart-rollout-bench";
  app.add_option("--services", services)->check(CLI::Range(1, 10000));
  app.add_option("--ticks", ticks)->check(CLI::Range(1, 100000));
  app.add_option("--dir", dir);
  CLI11_PARSE(app, argc, argv);

  log::set_level(log::Level::kWarn);  // a line per step of 100 rollouts would drown the figures
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = store::SqliteStore::open(dir + "/rampart.db");
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  std::atomic<std::int64_t> now{1'700'000'000'000};
  auto clock = [&] { return now.load(); };
  control::DeploymentService deployments(**store, clock);
  control::RolloutService rollouts(**store, clock);
  for (int first = 0; first < services; first += 10) {  // one transaction holds ~10 services
    auto cfg =
        config::parse_config(services_config(first, std::min(10, services - first)), "bench.toml");
    auto applied =
        cfg ? deployments.apply(*cfg, "bench", "seed") : Result<control::ApplyResult>(cfg.error());
    if (!applied) {
      std::fprintf(stderr, "seeding failed: %s\n", applied.error().message.c_str());
      return 1;
    }
  }
  for (int i = 0; i < services; ++i) {
    const std::string name = fmt::format("svc{}", i);
    auto r = rollouts.start({.service = name, .version = "v2", .actor = "bench", .message = ""});
    if (!r || !rollouts.checks_done(name, r->id, true, "")) {
      std::fprintf(stderr, "starting the rollouts failed\n");
      return 1;
    }
  }
  // Counters that grow by 100 requests (no errors) per version between two looks.
  std::int64_t requests = 0;
  control::RolloutController controller(
      rollouts, {.now_ms = clock,
                 .counters =
                     [&](const std::string& s, const std::string& v) {
                       metrics::VersionSnapshot snap;
                       snap.service = s;
                       snap.version = v;
                       snap.responses_by_class[1] = static_cast<std::uint64_t>(requests);
                       snap.latency.record(5'000'000, static_cast<std::uint64_t>(requests));
                       return snap;
                     },
                 .checks =
                     [](const model::Rollout&, const std::atomic<bool>&) {
                       return control::CheckOutcome{true, "", {}};
                     }});
  controller.tick();  // every window starts

  metrics::LatencyHistogram idle;
  double cpu0 = cpu_ms();
  for (int i = 0; i < ticks; ++i) {
    now += 100;
    const auto t0 = Clock::now();
    controller.tick();
    idle.record(static_cast<std::uint64_t>((Clock::now() - t0).count()));
  }
  fmt::print("{} services, each with a progressing rollout (SQLite store in {})\n", services, dir);
  report("tick, no window due", idle, (cpu_ms() - cpu0) / ticks);

  // Every window due at once: 100 judged, each decision (the next step) committed.
  now += 3'600'000;
  requests += 100;
  cpu0 = cpu_ms();
  const auto t0 = Clock::now();
  controller.tick();
  const double wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  fmt::print("{:<46} wall={:8.3f} ms  cpu={:8.3f} ms  ({:.3f} ms per rollout)\n",
             fmt::format("one tick with {} windows due (judged, committed)", services), wall,
             cpu_ms() - cpu0, wall / services);
  std::filesystem::remove_all(dir);
  return 0;
}
