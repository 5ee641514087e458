// The live progress view from fixed JSON: goldens for the states a watcher sees (no metrics
// yet, progressing with a window, paused, held after its pause, rolled back, a narrow
// terminal), and the rates live_metrics() derives from two polls.

#include "cli/progress_view.hpp"

#include "cli/times.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace rampart::cli {
namespace {

namespace json = boost::json;

// shop's rollout 3: v2 from v1, 10% for 5m, 50% for 5m, 100%; step 1 started at 15:20:00.
json::value rollout(std::string_view phase, int step, double weight, std::string_view reason) {
  return json::parse(fmt::format(
      R"({{"service":"shop","id":3,"version":"v2","stable":"v1","strategy":"canary",)"
      R"("steps":[{{"weight":10,"pause":"5m"}},{{"weight":50,"pause":"5m"}},)"
      R"({{"weight":100,"pause":"0s"}}],"plan":"10% for 5m, 50% for 5m, 100%","interval":"30s",)"
      R"("analysis":{{"min_requests":200,"failure_limit":2,"inconclusive":"extend",)"
      R"("default_checks":false,"checks":[{{"metric":"error_rate","max":0.01,"min":null,)"
      R"("critical":0.05,"max_ratio_to_stable":null}},{{"metric":"p95_ms","max":500,)"
      R"("min":null,"critical":1000,"max_ratio_to_stable":1.2}}]}},"phase":"{}","step":{},)"
      R"("weight":{},"step_started_at":"2026-11-23T15:20:00.000Z","paused_at":null,)"
      R"("failed_windows":0,"reason":"{}"}})",
      phase, step, weight, reason));
}

json::value event(int seq, std::string_view name, int step, std::string_view weight,
                  std::string_view reason, std::string_view judgement = "null") {
  return json::parse(fmt::format(
      R"({{"seq":{},"at":"2026-11-23T15:2{}:00.000Z","event":"{}","step":{},"weight":{},)"
      R"("reason":"{}","judgement":{}}})",
      seq, seq - 1, name, step, weight, reason, judgement));
}

const json::value kWindow =
    event(3, "window", 1, "null", "analysis passed",
          R"({"decision":"continue","reason":"analysis passed","checks":[)"
          R"({"metric":"error_rate","verdict":"pass","canary":0.002,"stable":0.001},)"
          R"({"metric":"p95_ms","verdict":"fail","canary":620,"stable":300}]})");

json::value timeline(std::initializer_list<json::value> more) {
  json::array a{event(1, "created", 1, "null", "v2 from v1: 10% for 5m, 50% for 5m, 100%"),
                event(2, "started", 1, "10", "checks passed")};
  for (const auto& e : more) {
    a.push_back(e);
  }
  return a;
}

const json::value kMetrics =
    json::parse(R"({"v2":{"rps":12.5,"error_rate":0.002,"p95_ms":12.4,"p99_ms":30},)"
                R"("v1":{"rps":112,"error_rate":0.001,"p95_ms":10,"p99_ms":25.2}})");

std::int64_t at(std::string_view rfc3339) { return *parse_rfc3339(rfc3339); }

TEST(ProgressView, ProgressingShowsTheBarTheTimeLeftTheRatesAndTheLastWindow) {
  const std::string view =
      progress_view(rollout("progressing", 1, 10, "checks passed"), timeline({kWindow}), kMetrics,
                    at("2026-11-23T15:21:50.200Z"), 100);
  EXPECT_EQ(view,
            "shop  rollout 3  v2 from v1  canary: 10% for 5m, 50% for 5m, 100%\n"
            "progressing  step 1 of 3  [███░░░░░░░░░░░░░░░░░░░░░░░░░░░] 10%\n"
            "3m10s left in the pause\n"
            "version            req/s   errors      p95      p99\n"
            "v2 (canary)         12.5    0.20%    620ms     30ms\n"
            "v1 (stable)        112.0    0.10%    300ms     25ms\n"
            "checks (window at 15:22:00)\n"
            "  ✓ error_rate   0.002 (stable 0.001)  max 0.01, critical 0.05  pass\n"
            "  ✗ p95_ms       620 (stable 300)  max 500, critical 1000, ratio to stable 1.2  fail\n"
            "decisions\n"
            "  15:20:00  created      step 1     -  v2 from v1: 10% for 5m, 50% for 5m, 100%\n"
            "  15:21:00  started      step 1   10%  checks passed\n"
            "  15:22:00  window       step 1     -  analysis passed\n");
}

TEST(ProgressView, NoMetricsYetAndNoWindowYetListTheChecksToCome) {
  const std::string view =
      progress_view(rollout("progressing", 1, 10, "checks passed"), timeline({}),
                    json::value(nullptr), at("2026-11-23T15:20:10.000Z"), 100);
  EXPECT_EQ(view,
            "shop  rollout 3  v2 from v1  canary: 10% for 5m, 50% for 5m, 100%\n"
            "progressing  step 1 of 3  [███░░░░░░░░░░░░░░░░░░░░░░░░░░░] 10%\n"
            "4m50s left in the pause\n"
            "no traffic measured yet\n"
            "checks (no analysis window yet)\n"
            "  · error_rate   max 0.01, critical 0.05\n"
            "  · p95_ms       max 500, critical 1000, ratio to stable 1.2\n"
            "decisions\n"
            "  15:20:00  created      step 1     -  v2 from v1: 10% for 5m, 50% for 5m, 100%\n"
            "  15:21:00  started      step 1   10%  checks passed\n");
}

TEST(ProgressView, PausedSaysHowToResume) {
  const std::string view =
      progress_view(rollout("paused", 2, 50, "paused by alice"), timeline({kWindow}), kMetrics,
                    at("2026-11-23T15:30:00.000Z"), 100);
  EXPECT_EQ(view,
            "shop  rollout 3  v2 from v1  canary: 10% for 5m, 50% for 5m, 100%\n"
            "paused  step 2 of 3  [███████████████░░░░░░░░░░░░░░░] 50%\n"
            "paused: paused by alice; `rampart resume shop` goes on\n"
            "version            req/s   errors      p95      p99\n"
            "v2 (canary)         12.5    0.20%    620ms     30ms\n"
            "v1 (stable)        112.0    0.10%    300ms     25ms\n"
            "checks (window at 15:22:00)\n"
            "  ✓ error_rate   0.002 (stable 0.001)  max 0.01, critical 0.05  pass\n"
            "  ✗ p95_ms       620 (stable 300)  max 500, critical 1000, ratio to stable 1.2  fail\n"
            "decisions\n"
            "  15:20:00  created      step 1     -  v2 from v1: 10% for 5m, 50% for 5m, 100%\n"
            "  15:21:00  started      step 1   10%  checks passed\n"
            "  15:22:00  window       step 1     -  analysis passed\n");
}

TEST(ProgressView, HeldPastItsPauseSaysWhy) {
  const std::string view =
      progress_view(rollout("progressing", 1, 10,
                            "inconclusive: 12 requests of v2, at least 200 needed; extended"),
                    timeline({kWindow}), kMetrics, at("2026-11-23T15:26:00.000Z"), 100);
  EXPECT_EQ(view,
            "shop  rollout 3  v2 from v1  canary: 10% for 5m, 50% for 5m, 100%\n"
            "progressing  step 1 of 3  [███░░░░░░░░░░░░░░░░░░░░░░░░░░░] 10%\n"
            "held: inconclusive: 12 requests of v2, at least 200 needed; extended\n"
            "version            req/s   errors      p95      p99\n"
            "v2 (canary)         12.5    0.20%    620ms     30ms\n"
            "v1 (stable)        112.0    0.10%    300ms     25ms\n"
            "checks (window at 15:22:00)\n"
            "  ✓ error_rate   0.002 (stable 0.001)  max 0.01, critical 0.05  pass\n"
            "  ✗ p95_ms       620 (stable 300)  max 500, critical 1000, ratio to stable 1.2  fail\n"
            "decisions\n"
            "  15:20:00  created      step 1     -  v2 from v1: 10% for 5m, 50% for 5m, 100%\n"
            "  15:21:00  started      step 1   10%  checks passed\n"
            "  15:22:00  window       step 1     -  analysis passed\n");
}

TEST(ProgressView, RolledBackShowsTheReasonAndTheDecision) {
  const std::string view = progress_view(
      rollout("rolled_back", 1, 0, "error_rate 0.2 over critical 0.05"),
      timeline({kWindow, event(4, "rolled_back", 1, "0", "error_rate 0.2 over critical 0.05")}),
      kMetrics, at("2026-11-23T15:24:00.000Z"), 100);
  EXPECT_EQ(view,
            "shop  rollout 3  v2 from v1  canary: 10% for 5m, 50% for 5m, 100%\n"
            "rolled_back  step 1 of 3  [░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░] 0%\n"
            "rolled back: error_rate 0.2 over critical 0.05\n"
            "version            req/s   errors      p95      p99\n"
            "v2 (canary)         12.5    0.20%    620ms     30ms\n"
            "v1 (stable)        112.0    0.10%    300ms     25ms\n"
            "checks (window at 15:22:00)\n"
            "  ✓ error_rate   0.002 (stable 0.001)  max 0.01, critical 0.05  pass\n"
            "  ✗ p95_ms       620 (stable 300)  max 500, critical 1000, ratio to stable 1.2  fail\n"
            "decisions\n"
            "  15:20:00  created      step 1     -  v2 from v1: 10% for 5m, 50% for 5m, 100%\n"
            "  15:21:00  started      step 1   10%  checks passed\n"
            "  15:22:00  window       step 1     -  analysis passed\n"
            "  15:23:00  rolled_back  step 1    0%  error_rate 0.2 over critical 0.05\n");
}

TEST(ProgressView, ANarrowTerminalCutsEveryLineToItsWidth) {
  const std::string view =
      progress_view(rollout("progressing", 1, 10, "checks passed"), timeline({kWindow}), kMetrics,
                    at("2026-11-23T15:21:50.200Z"), 40);
  EXPECT_EQ(view,
            "shop  rollout 3  v2 from v1  canary: 10…\n"
            "progressing  step 1 of 3  [█░░░░░░░░░] …\n"
            "3m10s left in the pause\n"
            "version            req/s   errors      …\n"
            "v2 (canary)         12.5    0.20%    62…\n"
            "v1 (stable)        112.0    0.10%    30…\n"
            "checks (window at 15:22:00)\n"
            "  ✓ error_rate   0.002 (stable 0.001)  …\n"
            "  ✗ p95_ms       620 (stable 300)  max …\n"
            "decisions\n"
            "  15:20:00  created      step 1     -  …\n"
            "  15:21:00  started      step 1   10%  …\n"
            "  15:22:00  window       step 1     -  …\n");
}

TEST(ProgressView, NoLineIsWiderThanTheTerminalAtAnyWidth) {
  for (int width : {1, 30, 41, 55, 80, 200}) {
    const std::string view = progress_view(rollout("progressing", 1, 10, "checks passed"),
                                           timeline({kWindow}), kMetrics, 0, width);
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < view.size(); ++i) {
      if (view[i] != '\n') {
        continue;
      }
      const std::string_view line(view.data() + line_start, i - line_start);
      const auto columns =
          std::count_if(line.begin(), line.end(), [](char c) { return (c & 0xC0) != 0x80; });
      EXPECT_LE(columns, std::max(width, kMinViewWidth)) << line;
      line_start = i + 1;
    }
  }
}

TEST(ProgressView, ValuesShowFourSignificantDigitsAndAMissingStableAsADash) {
  const auto window =
      event(3, "window", 3, "null", "every check passed",
            R"({"decision":"continue","checks":[{"metric":"p95_ms","verdict":"pass",)"
            R"("canary":1.482751,"stable":null}]})");
  const std::string view = progress_view(rollout("progressing", 3, 100, "at 100%"),
                                         timeline({window}), kMetrics, 0, 100);
  EXPECT_NE(view.find("  ✓ p95_ms       1.483 (stable -)  max 500, critical 1000, ratio to "
                      "stable 1.2  pass\n"),
            std::string::npos)
      << view;
}

TEST(LiveMetrics, RatesBetweenTwoPolls) {
  const auto before = json::parse(R"({"v1":{"requests":1000,"5xx":10,"p95_ms":9,"p99_ms":20},)"
                                  R"("v2":{"requests":100,"5xx":0,"p95_ms":null,"p99_ms":null}})");
  const auto now = json::parse(R"({"v1":{"requests":1900,"5xx":19,"p95_ms":10,"p99_ms":25},)"
                               R"("v2":{"requests":200,"5xx":2,"p95_ms":12,"p99_ms":30}})");
  EXPECT_EQ(json::serialize(live_metrics(before, now, 2000)),
            R"({"v1":{"rps":4.5E2,"error_rate":1E-2,"p95_ms":10,"p99_ms":25},)"
            R"("v2":{"rps":5E1,"error_rate":2E-2,"p95_ms":12,"p99_ms":30}})");
  // The first poll: no rate yet, the error rate since the gateway started.
  EXPECT_EQ(json::serialize(live_metrics(nullptr, now, 0)),
            R"({"v1":{"rps":null,"error_rate":1E-2,"p95_ms":10,"p99_ms":25},)"
            R"("v2":{"rps":null,"error_rate":1E-2,"p95_ms":12,"p99_ms":30}})");
  // No request in between (or counters reset by a restart): no error rate.
  EXPECT_EQ(json::serialize(live_metrics(now, before, 1000)),
            R"({"v1":{"rps":0E0,"error_rate":null,"p95_ms":9,"p99_ms":20},)"
            R"("v2":{"rps":0E0,"error_rate":null,"p95_ms":null,"p99_ms":null}})");
}

TEST(ProgressView, LatencyIsTheLastWindowsWhereACheckMeasuredItElseSinceStart) {
  // The window measured p95 (620 / 300 ms): shown. It measured no p99: the gateway's since
  // it started (30 / 25 ms).
  const std::string with_window =
      progress_view(rollout("progressing", 1, 10, "analysis passed"), timeline({kWindow}), kMetrics,
                    at("2026-11-23T15:21:50.000Z"), 100);
  EXPECT_NE(with_window.find("v2 (canary)         12.5    0.20%    620ms     30ms"),
            std::string::npos)
      << with_window;
  // No window yet: both since start.
  const std::string without =
      progress_view(rollout("progressing", 1, 10, "checks passed"), timeline({}), kMetrics,
                    at("2026-11-23T15:21:50.000Z"), 100);
  EXPECT_NE(without.find("v2 (canary)         12.5    0.20%     12ms     30ms"), std::string::npos)
      << without;
}

}  // namespace
}  // namespace rampart::cli
