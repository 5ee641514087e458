// judge_sim: the rollout judges driven with simulated traffic (no network), many replications
// each, side by side: the sequential judge (rollout/sequential_judge.hpp), the threshold judge
// (rollout/judge.hpp, one window every 30 s), a Kayenta-style fixed-horizon test (a one-sided
// two-proportion z-test at alpha in every 30 s window, without correction for looking again),
// and, for detection costs, the oracle SPRT that knows the true rate ratio.
//
// Traffic: 500 requests/s in ticks of 250 ms, each request routed at random with the step's
// weight (or, in the sticky scenario, by user). Results: markdown tables on stdout, as
// docs/benchmarks.md records them.
//
//   judge_sim [--reps N] [--seed S] [--only false|subtle|gross|latency|effects|sticky|evidence]

#include "metrics/version_stats.hpp"
#include "rollout/judge.hpp"
#include "rollout/sequential.hpp"
#include "rollout/sequential_judge.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ro = rampart::rollout;

constexpr double kTickSeconds = 0.25;
constexpr uint64_t kRequestsPerTick = 125;  // 500 requests/s
constexpr int kTicksPerWindow = 120;        // 30 s
constexpr double kAlpha = 0.01;
constexpr uint64_t kNs = 1'000'000;  // a millisecond

using Rng = std::mt19937_64;

double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

uint64_t binomial(Rng& rng, uint64_t n, double p) {
  if (n == 0 || p <= 0) {
    return 0;
  }
  return std::binomial_distribution<uint64_t>(n, p)(rng);
}

// One tick of one version: requests, errors, and latencies as "fast" (1 ms) or "slow"
// (100 ms) requests, so that latency checks see exceedances.
ro::VersionWindow version_tick(uint64_t requests, uint64_t errors, uint64_t slow) {
  ro::VersionWindow v;
  v.requests = requests;
  v.errors = errors;
  v.latency.record(1 * kNs, requests - slow);
  v.latency.record(100 * kNs, slow);
  return v;
}

// What one tick of traffic was: per version requests and bad events.
struct TickCounts {
  uint64_t nc = 0, nb = 0;  // requests
  uint64_t ec = 0, eb = 0;  // errors
  uint64_t sc = 0, sb = 0;  // slow requests
};

// A scenario: the canary's weight in each tick, and each version's error and slow rates.
struct Scenario {
  std::function<double(int tick)> weight;
  double canary_errors = 0, stable_errors = 0;
  double canary_slow = 0, stable_slow = 0;
};

TickCounts draw(Rng& rng, const Scenario& s, int tick) {
  TickCounts t;
  t.nc = binomial(rng, kRequestsPerTick, s.weight(tick));
  t.nb = kRequestsPerTick - t.nc;
  t.ec = binomial(rng, t.nc, s.canary_errors);
  t.eb = binomial(rng, t.nb, s.stable_errors);
  t.sc = binomial(rng, t.nc, s.canary_slow);
  t.sb = binomial(rng, t.nb, s.stable_slow);
  return t;
}

ro::Window window_of(const TickCounts& t, double seconds) {
  ro::Window w;
  w.seconds = seconds;
  w.canary = version_tick(t.nc, t.ec, t.sc);
  w.stable = version_tick(t.nb, t.eb, t.sb);
  return w;
}

void add(TickCounts& into, const TickCounts& t) {
  into.nc += t.nc, into.nb += t.nb, into.ec += t.ec, into.eb += t.eb, into.sc += t.sc,
      into.sb += t.sb;
}

ro::Check error_check() {
  ro::Check c;
  c.metric = ro::Metric::kErrorRate;
  c.max_ratio_to_stable = 1.2;
  return c;
}

ro::Check latency_check() {
  ro::Check c;
  c.metric = ro::Metric::kP95Ms;
  c.max_ratio_to_stable = 1.2;
  return c;
}

// The stable version's recent latency: 95% fast, 5% slow, so its p95 is the fast bucket and
// "slower than stable's p95" is a slow request.
rampart::metrics::LatencyHistogram stable_recent() {
  rampart::metrics::LatencyHistogram h;
  h.record(1 * kNs, 950);
  h.record(100 * kNs, 50);
  return h;
}

// A judge under simulation: fed every tick; answers whether it rolls back now.
class Judge {
 public:
  virtual ~Judge() = default;
  virtual void start_step(uint32_t weight_bp) = 0;
  virtual bool rolls_back(const TickCounts& t) = 0;
};

class Sequential final : public Judge {
 public:
  explicit Sequential(ro::Check check, std::span<const double> ratios = ro::seq::default_ratios())
      : judge_({check}, {.alpha = kAlpha, .ratios = ratios}) {}
  void start_step(uint32_t weight_bp) override { judge_.start_step(weight_bp, stable_recent()); }
  bool rolls_back(const TickCounts& t) override {
    const auto j = judge_.observe(window_of(t, kTickSeconds), false);
    pauses += j.decision == ro::Decision::kPause ? 1 : 0;
    return j.decision == ro::Decision::kRollback;
  }
  int pauses = 0;

 private:
  ro::SequentialJudge judge_;
};

// Sums ticks into 30 s windows and asks `decide` at the end of each.
class Windowed : public Judge {
 public:
  void start_step(uint32_t) override { step_started(); }
  bool rolls_back(const TickCounts& t) override {
    add(window_, t);
    if (++ticks_ % kTicksPerWindow != 0) {
      return false;
    }
    const bool out = decide(window_);
    window_ = {};
    return out;
  }

 protected:
  virtual bool decide(const TickCounts& w) = 0;
  virtual void step_started() {}

 private:
  TickCounts window_;
  int ticks_ = 0;
};

class Threshold final : public Windowed {
 public:
  explicit Threshold(ro::Check check) {
    policy_.min_requests = 100;
    policy_.failure_limit = 2;
    policy_.checks = {check};
  }

 private:
  void step_started() override { state_ = {}; }  // as the state machine: a fresh count a step
  bool decide(const TickCounts& w) override {
    auto j = ro::judge_window(window_of(w, kTickSeconds * kTicksPerWindow), policy_, state_, false);
    state_ = j.state;
    return j.decision == ro::Decision::kRollback;
  }
  ro::AnalysisPolicy policy_;
  ro::JudgeState state_;
};

// Kayenta's habit: a test meant for one look, at alpha, in every interval.
class FixedHorizon final : public Windowed {
 public:
  explicit FixedHorizon(bool latency) : latency_(latency) {}

 private:
  bool decide(const TickCounts& w) override {
    const double ec = static_cast<double>(latency_ ? w.sc : w.ec);
    const double eb = static_cast<double>(latency_ ? w.sb : w.eb);
    const double nc = static_cast<double>(w.nc), nb = static_cast<double>(w.nb);
    if (nc == 0 || nb == 0) {
      return false;
    }
    const double pooled = (ec + eb) / (nc + nb);
    const double se = std::sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nb));
    return se > 0 && (ec / nc - eb / nb) / se > 2.326;  // one-sided z at 1%
  }
  bool latency_;
};

// The SPRT that knows the canary's true share of events: the best any test of these labels
// can do on average (Wald), the yardstick for detection costs.
class OracleSprt final : public Judge {
 public:
  OracleSprt(double ratio, bool latency) : ratio_(ratio), latency_(latency) {}
  void start_step(uint32_t) override {}
  bool rolls_back(const TickCounts& t) override {
    if (t.nc == 0 || t.nb == 0) {
      return false;
    }
    const double theta0 = static_cast<double>(t.nc) / static_cast<double>(t.nc + t.nb);
    const double theta1 = ro::seq::share_for_ratio(theta0, ratio_);
    const auto ec = static_cast<double>(latency_ ? t.sc : t.ec);
    const auto eb = static_cast<double>(latency_ ? t.sb : t.eb);
    llr_ += ec * std::log(theta1 / theta0) + eb * std::log((1 - theta1) / (1 - theta0));
    return llr_ >= std::log(1 / kAlpha);
  }

 private:
  double ratio_;
  bool latency_;
  double llr_ = 0;
};

// Runs one replication until the judge rolls back or `ticks` pass: the tick it rolled back at
// and the canary requests up to it.
struct Run {
  std::optional<int> rollback_tick;
  uint64_t canary_requests = 0;
};

Run run(Rng& rng, const Scenario& s, Judge& judge, int ticks, int step_ticks) {
  Run r;
  for (int tick = 0; tick < ticks; ++tick) {
    if (tick % step_ticks == 0) {
      judge.start_step(static_cast<uint32_t>(s.weight(tick) * 10000 + 0.5));
    }
    const TickCounts t = draw(rng, s, tick);
    r.canary_requests += t.nc;
    if (judge.rolls_back(t)) {
      r.rollback_tick = tick;
      return r;
    }
  }
  return r;
}

using MakeJudge = std::function<std::unique_ptr<Judge>()>;

struct Contender {
  std::string name;
  MakeJudge make;
};

constexpr std::string_view kCoarse = "sequential, 7 ratios";

// The judges of a scenario; with an oracle ratio (a detection cost) also the sequential judge
// on the seven ratios of canary_stats.md §5, to show what the default grid changes.
std::vector<Contender> contenders(bool latency, std::optional<double> oracle_ratio) {
  const ro::Check check = latency ? latency_check() : error_check();
  std::vector<Contender> out = {
      {"sequential", [check] { return std::make_unique<Sequential>(check); }},
      {"threshold (30 s windows)", [check] { return std::make_unique<Threshold>(check); }},
      {"fixed-horizon z-test per window",
       [latency] { return std::make_unique<FixedHorizon>(latency); }}};
  if (oracle_ratio) {
    out.insert(out.begin() + 1,
               {std::string(kCoarse),
                [check] { return std::make_unique<Sequential>(check, ro::seq::kCoarseRatios); }});
    out.push_back({"oracle SPRT", [r = *oracle_ratio, latency] {
                     return std::make_unique<OracleSprt>(r, latency);
                   }});
  }
  return out;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) {
    return NAN;
  }
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

// The Wilson score interval at 95% for k of n: the simulation's own uncertainty.
std::pair<double, double> wilson(int k, int n) {
  const double z = 1.96, p = static_cast<double>(k) / n, nn = n;
  const double centre = (p + z * z / (2 * nn)) / (1 + z * z / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

// --- the scenarios ------------------------------------------------------------------------

// Good canaries through a 1% -> 10% -> 50% schedule, 5 minutes each: how many are rolled back.
void false_rollbacks(int reps, uint64_t seed) {
  fmt::print(
      "### False rollbacks: {} good canaries per row (1% -> 10% -> 50%, 5 min each; "
      "count, share and its 95% interval)\n\n",
      reps);
  fmt::print(
      "| base error rate | sequential | threshold (30 s windows) | fixed-horizon z-test "
      "per window |\n|---|---|---|---|\n");
  constexpr int kStepTicks = 5 * 60 * 4;
  for (double p : {0.001, 0.01, 0.05}) {
    const Scenario s{.weight =
                         [](int tick) {
                           const double w[] = {0.01, 0.1, 0.5};
                           return w[std::min(2, tick / kStepTicks)];
                         },
                     .canary_errors = p,
                     .stable_errors = p};
    std::string row = fmt::format("| {}% |", 100 * p);
    for (const auto& c : contenders(false, std::nullopt)) {
      Rng rng(seed);
      int rolled_back = 0;
      for (int i = 0; i < reps; ++i) {
        auto judge = c.make();
        rolled_back += run(rng, s, *judge, 3 * kStepTicks, kStepTicks).rollback_tick ? 1 : 0;
      }
      const auto [low, high] = wilson(rolled_back, reps);
      row += fmt::format(" {} ({:.1f}%; {:.1f}–{:.1f}%) |", rolled_back, 100.0 * rolled_back / reps,
                         100 * low, 100 * high);
    }
    fmt::print("{}\n", row);
  }
  fmt::print("\n");
}

// A regression at 10% weight until rollback: canary requests (median, p90), and for a gross
// one the time.
void detection(const std::string& title, const Scenario& s, bool latency,
               std::optional<double> ratio, int reps, uint64_t seed, bool in_seconds) {
  fmt::print("### {}: {} replications\n\n", title, reps);
  fmt::print("| judge | rolled back | median {} | p90 |\n|---|---|---|---|\n",
             in_seconds ? "seconds of traffic" : "canary requests");
  constexpr int kMaxTicks = 4 * 60 * 60;  // an hour
  double oracle_median = NAN, sequential_median = NAN, coarse_median = NAN;
  for (const auto& c : contenders(latency, ratio)) {
    Rng rng(seed);
    std::vector<double> costs;
    for (int i = 0; i < reps; ++i) {
      auto judge = c.make();
      const Run r = run(rng, s, *judge, kMaxTicks, kMaxTicks);
      if (r.rollback_tick) {
        costs.push_back(in_seconds ? (*r.rollback_tick + 1) * kTickSeconds
                                   : static_cast<double>(r.canary_requests));
      }
    }
    const double median = percentile(costs, 0.5);
    if (c.name == "oracle SPRT") {
      oracle_median = median;
    } else if (c.name == "sequential") {
      sequential_median = median;
    } else if (c.name == kCoarse) {
      coarse_median = median;
    }
    const int digits = in_seconds ? 2 : 0;
    fmt::print("| {} | {} of {} | {:.{}f} | {:.{}f} |\n", c.name, costs.size(), reps, median,
               digits, percentile(costs, 0.9), digits);
  }
  if (!std::isnan(oracle_median) && oracle_median > 0) {
    fmt::print("\nsequential / oracle SPRT, median: {:.2f}x ({}: {:.2f}x)\n",
               sequential_median / oracle_median, kCoarse, coarse_median / oracle_median);
  }
  fmt::print("\n");
}

// The median canary requests to roll back a canary with r times stable's 1% error rate, at 10%
// weight, for effects across the grid's range: the default grid against the seven ratios and
// the oracle SPRT that knows r (each ratio to it). An even cost over r is what the grid's
// spacing is for (rollout/sequential.hpp).
void effects(int reps, uint64_t seed) {
  constexpr int kMaxTicks = 4 * 60 * 60;  // an hour
  fmt::print(
      "### Detection cost across effect sizes: stable at 1% errors, the canary at r times "
      "that, 10% weight; median canary requests to rollback, {} replications per cell\n\n",
      reps);
  fmt::print(
      "| r | sequential | {} | oracle SPRT | sequential / oracle | 7 ratios / oracle "
      "|\n|---|---|---|---|---|---|\n",
      kCoarse);
  for (double r : {1.25, 1.5, 2.0, 3.0, 5.0, 10.0}) {
    const Scenario s{.weight = [](int) { return 0.1; },
                     .canary_errors = std::min(1.0, 0.01 * r),
                     .stable_errors = 0.01};
    std::vector<double> medians;
    for (const MakeJudge& make : std::vector<MakeJudge>{
             [] { return std::make_unique<Sequential>(error_check()); },
             [] { return std::make_unique<Sequential>(error_check(), ro::seq::kCoarseRatios); },
             [r] { return std::make_unique<OracleSprt>(r, false); }}) {
      Rng rng(seed);
      std::vector<double> costs;
      for (int i = 0; i < reps; ++i) {
        auto judge = make();
        const Run run_result = run(rng, s, *judge, kMaxTicks, kMaxTicks);
        costs.push_back(run_result.rollback_tick ? static_cast<double>(run_result.canary_requests)
                                                 : INFINITY);
      }
      medians.push_back(percentile(costs, 0.5));
    }
    fmt::print("| {} | {:.0f} | {:.0f} | {:.0f} | {:.2f}x | {:.2f}x |\n", r, medians[0], medians[1],
               medians[2], medians[0] / medians[2], medians[1] / medians[2]);
  }
  fmt::print("\n");
}

// Good canaries (the canary's error rate equal to stable's) with require_evidence, at 10%
// weight and 500 requests/s, the step's dwell over from the start: the canary requests until
// the step moves on (median, p90), for a few tolerances and base rates. Without
// require_evidence it moves on at once; this is what the evidence costs.
void evidence_cost(int reps, uint64_t seed) {
  constexpr int kMaxTicks = 4 * 60 * 60;  // an hour
  fmt::print(
      "### require_evidence: canary requests to promote a good canary at 10% weight, 500 "
      "requests/s (at most an hour); {} replications per row\n\n",
      reps);
  fmt::print(
      "| check | base error rate | promoted within the hour | median canary requests | p90 | "
      "median time |\n|---|---|---|---|---|---|\n");
  struct Row {
    ro::Check check;
    double rate;
  };
  std::vector<Row> rows;
  for (double tol : {1.2, 1.5, 2.0}) {
    ro::Check c = error_check();
    c.max_ratio_to_stable = tol;
    rows.push_back({c, 0.01});
  }
  ro::Check loose = error_check();
  loose.max_ratio_to_stable = 2;
  rows.push_back({loose, 0.001});
  rows.push_back({loose, 0.05});
  ro::Check absolute;
  absolute.metric = ro::Metric::kErrorRate;
  absolute.max = 0.01;
  rows.push_back({absolute, 0.001});
  const Scenario base{.weight = [](int) { return 0.1; }};
  for (const Row& row : rows) {
    Scenario s = base;
    s.canary_errors = row.rate;
    s.stable_errors = row.rate;
    Rng rng(seed);
    std::vector<double> costs;
    for (int i = 0; i < reps; ++i) {
      ro::SequentialJudge judge({row.check}, {.alpha = kAlpha, .require_evidence = true});
      judge.start_step(1000, stable_recent());
      uint64_t canary = 0;
      for (int tick = 0; tick < kMaxTicks; ++tick) {
        const TickCounts t = draw(rng, s, tick);
        canary += t.nc;
        const auto d = judge.observe(window_of(t, kTickSeconds), true).decision;
        if (d == ro::Decision::kNextStep) {
          costs.push_back(static_cast<double>(canary));
          break;
        }
        if (d != ro::Decision::kContinue) {
          break;  // a (false) rollback or a pause: not promoted
        }
      }
    }
    const std::string what = row.check.max ? fmt::format("error_rate max {}", *row.check.max)
                                           : fmt::format("error_rate max_ratio_to_stable {}",
                                                         *row.check.max_ratio_to_stable);
    const double median = percentile(costs, 0.5);
    fmt::print("| {} | {}% | {} of {} | {:.0f} | {:.0f} | {:.0f} s |\n", what, 100 * row.rate,
               costs.size(), reps, median, percentile(costs, 0.9),
               median / (0.1 * kRequestsPerTick / kTickSeconds));
  }
  fmt::print("\n");
}

// Good canaries with sticky routing: users, not requests, are assigned to a version, and a few
// users fail far more than the rest (a broken account), so one user's errors come together. The
// false-rollback rate of the sequential judge with every error counted, and with at most
// metrics::kMaxErrorsPerKey counted per user and step by the gateway's own VersionShard (the
// bound on one key's influence); and how often the SRM guard
// paused (the request split follows the users', which is not the configured weight).
void sticky(int reps, uint64_t seed) {
  constexpr int kUsers = 2000;
  constexpr double kBrokenShare = 0.03, kBrokenRate = 0.2, kNormalRate = 0.005;
  constexpr int kTicks = 10 * 60 * 4;  // one 10-minute step at 10%
  constexpr uint64_t kCap = rampart::metrics::kMaxErrorsPerKey;
  fmt::print(
      "### Sticky routing: {} good canaries, {} users ({}% of them failing {}% of their "
      "requests, the rest {}%), 10 minutes at 10%\n\n",
      reps, kUsers, 100 * kBrokenShare, 100 * kBrokenRate, 100 * kNormalRate);
  Rng rng(seed);
  int rolled_back[2] = {0, 0}, paused[2] = {0, 0};
  for (int i = 0; i < reps; ++i) {
    std::vector<bool> canary(kUsers), broken(kUsers);
    // The gateway's own bound: each version's errors through a worker's VersionShard, keyed by
    // the user's sticky hash (a fixed mix of the user's number here), one epoch for the step.
    auto shards = std::make_unique<rampart::metrics::VersionShard[]>(2);
    uint64_t capped_before[2] = {0, 0};
    for (int u = 0; u < kUsers; ++u) {
      canary[u] = uniform01(rng) < 0.1;
      broken[u] = uniform01(rng) < kBrokenShare;
    }
    Sequential judges[2] = {Sequential(error_check()), Sequential(error_check())};
    bool done[2] = {false, false};
    for (auto& j : judges) {
      j.start_step(1000);
    }
    for (int tick = 0; tick < kTicks && !(done[0] && done[1]); ++tick) {
      TickCounts all, capped;
      for (uint64_t r = 0; r < kRequestsPerTick; ++r) {
        const auto u = static_cast<std::size_t>(rng() % kUsers);
        const bool failed = uniform01(rng) < (broken[u] ? kBrokenRate : kNormalRate);
        for (TickCounts* t : {&all, &capped}) {
          ++(canary[u] ? t->nc : t->nb);
        }
        if (failed) {
          ++(canary[u] ? all.ec : all.eb);
        }
        if (failed) {
          const rampart::metrics::StickyKey key{(u + 1) * 0x9E3779B97F4A7C15ULL, 1};
          shards[canary[u] ? 0 : 1].record_response(key, 500, 1 * kNs, 0, 0);
        }
      }
      for (int v = 0; v < 2; ++v) {
        const uint64_t now = shards[v].capped_errors.load(std::memory_order_relaxed);
        (v == 0 ? capped.ec : capped.eb) = now - capped_before[v];
        capped_before[v] = now;
      }
      const TickCounts* fed[2] = {&all, &capped};
      for (int k = 0; k < 2; ++k) {
        if (!done[k] && judges[k].rolls_back(*fed[k])) {
          done[k] = true;
          ++rolled_back[k];
        }
      }
    }
    for (int k = 0; k < 2; ++k) {
      paused[k] += judges[k].pauses > 0 ? 1 : 0;
    }
  }
  fmt::print(
      "| errors counted | false rollbacks | rollouts the SRM guard paused |\n|---|---|---|\n");
  for (int k = 0; k < 2; ++k) {
    const auto [low, high] = wilson(rolled_back[k], reps);
    fmt::print(
        "| {} | {} ({:.1f}%; {:.1f}–{:.1f}%) | {} ({:.1f}%) |\n",
        k == 0 ? std::string("every error") : fmt::format("at most {} per user and step", kCap),
        rolled_back[k], 100.0 * rolled_back[k] / reps, 100 * low, 100 * high, paused[k],
        100.0 * paused[k] / reps);
  }
  fmt::print("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"judge_sim: the rollout judges on simulated traffic"};
  int reps = 1000;
  uint64_t seed = 1;
  std::string only;
  app.add_option("--reps", reps, "Replications per row")->check(CLI::Range(10, 1000000));
  app.add_option("--seed", seed, "The first random seed");
  app.add_option("--only", only,
                 "One scenario: false, subtle, gross, latency, effects, sticky, evidence");
  CLI11_PARSE(app, argc, argv);
  const auto want = [&](std::string_view name) { return only.empty() || only == name; };
  const auto ten_percent = [](int) { return 0.1; };

  fmt::print(
      "## Rollout judges on simulated traffic (500 requests/s, ticks of 250 ms, alpha "
      "1%)\n\n");
  if (want("false")) {
    false_rollbacks(reps, seed);
  }
  if (want("subtle")) {
    detection("Subtle regression: errors 1% -> 2% at 10% weight",
              Scenario{.weight = ten_percent, .canary_errors = 0.02, .stable_errors = 0.01}, false,
              2.0, reps, seed, false);
  }
  if (want("gross")) {
    detection("Gross failure: errors 0% -> 20% at 10% weight",
              Scenario{.weight = ten_percent, .canary_errors = 0.2, .stable_errors = 0}, false,
              std::nullopt, reps, seed, true);
  }
  if (want("latency")) {
    // Lognormal latencies (sigma 1) 1.2x slower: the share over stable's p95 goes from 5% to
    // 1 - Phi(1.645 - ln 1.2) = 7.18%.
    detection("Latency: p95 1.2x slower at 10% weight",
              Scenario{.weight = ten_percent, .canary_slow = 0.0718, .stable_slow = 0.05}, true,
              0.0718 / 0.05, reps, seed, false);
  }
  if (want("effects")) {
    effects(std::max(50, reps / 2), seed);
  }
  if (want("sticky")) {
    sticky(std::max(50, reps / 5), seed);
  }
  if (want("evidence")) {
    evidence_cost(std::max(20, reps / 5), seed);
  }
  return 0;
}
