#include "metrics/prometheus.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

namespace rampart::metrics {
namespace {

struct LeBucket {
  uint64_t nanos;
  std::string_view label;
};

constexpr std::array<LeBucket, 14> kLeBuckets{{
    {500'000, "0.0005"},
    {1'000'000, "0.001"},
    {2'500'000, "0.0025"},
    {5'000'000, "0.005"},
    {10'000'000, "0.01"},
    {25'000'000, "0.025"},
    {50'000'000, "0.05"},
    {100'000'000, "0.1"},
    {250'000'000, "0.25"},
    {500'000'000, "0.5"},
    {1'000'000'000, "1"},
    {2'500'000'000, "2.5"},
    {5'000'000'000, "5"},
    {10'000'000'000, "10"},
}};

struct Quantile {
  double q;
  std::string_view label;
};

constexpr std::array<Quantile, 3> kQuantiles{{{0.5, "0.5"}, {0.95, "0.95"}, {0.99, "0.99"}}};

constexpr std::array<std::string_view, kStatusClassCount> kStatusClasses{"1xx", "2xx", "3xx", "4xx",
                                                                         "5xx"};

constexpr double kNanosPerSecond = 1e9;

using Out = std::back_insert_iterator<std::string>;

void family(Out out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(out, "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// `service="...",version="..."`, escaped.
std::string version_labels(const VersionSnapshot& v) {
  return fmt::format("service=\"{}\",version=\"{}\"", escape_label_value(v.service),
                     escape_label_value(v.version));
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_prometheus(const Registry& registry) {
  const std::vector<VersionSnapshot> versions = registry.snapshot_versions();
  const GatewaySnapshot gateway = registry.snapshot_gateway();
  std::vector<std::string> labels;
  labels.reserve(versions.size());
  for (const VersionSnapshot& v : versions) {
    labels.push_back(version_labels(v));
  }

  std::string text;
  auto out = std::back_inserter(text);

  family(out, "rampart_requests_total", "counter", "Requests answered, by status class.");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    for (std::size_t c = 0; c < kStatusClassCount; ++c) {
      fmt::format_to(out, "rampart_requests_total{{{},class=\"{}\"}} {}\n", labels[i],
                     kStatusClasses[c], versions[i].responses_by_class[c]);
    }
  }

  family(out, "rampart_upstream_failures_total", "counter",
         "Failures talking to the upstream (not its own 5xx answers), by kind.");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    for (std::size_t k = 0; k < kUpstreamFailureCount; ++k) {
      fmt::format_to(out, "rampart_upstream_failures_total{{{},kind=\"{}\"}} {}\n", labels[i],
                     to_string(static_cast<UpstreamFailure>(k)), versions[i].upstream_failures[k]);
    }
  }

  family(out, "rampart_errors_past_key_cap_total", "counter",
         "5xx answers past a sticky key's share of a step (kMaxErrorsPerKey): requests to the "
         "sequential judge's relative error tests, not events.");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const uint64_t errors = versions[i].responses(5);
    const uint64_t counted = std::min(errors, versions[i].capped_errors);
    fmt::format_to(out, "rampart_errors_past_key_cap_total{{{}}} {}\n", labels[i],
                   errors - counted);
  }

  family(out, "rampart_upstream_resolved", "gauge",
         "1 when the upstream's host has an address, 0 while it does not resolve.");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    for (const UpstreamHealth& u : versions[i].upstreams) {
      fmt::format_to(out, "rampart_upstream_resolved{{{},upstream=\"{}\"}} {}\n", labels[i],
                     escape_label_value(u.upstream), u.problem.empty() ? 1 : 0);
    }
  }

  family(out, "rampart_request_duration_seconds", "histogram",
         "Request duration as seen by the gateway, until the response was sent.");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const LatencyHistogram& h = versions[i].latency;
    for (const LeBucket& b : kLeBuckets) {
      fmt::format_to(out, "rampart_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels[i],
                     b.label, h.count_at_or_below(b.nanos));
    }
    fmt::format_to(out, "rampart_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels[i],
                   h.count());
    fmt::format_to(out, "rampart_request_duration_seconds_sum{{{}}} {}\n", labels[i],
                   static_cast<double>(h.sum_nanos()) / kNanosPerSecond);
    fmt::format_to(out, "rampart_request_duration_seconds_count{{{}}} {}\n", labels[i], h.count());
  }

  family(out, "rampart_request_duration_quantile_seconds", "gauge",
         "Request duration quantiles since start, within 1% (NaN before the first request).");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const LatencyHistogram& h = versions[i].latency;
    for (const Quantile& q : kQuantiles) {
      fmt::format_to(out, "rampart_request_duration_quantile_seconds{{{},quantile=\"{}\"}} ",
                     labels[i], q.label);
      if (h.count() == 0) {
        text += "NaN\n";
      } else {
        fmt::format_to(out, "{}\n", static_cast<double>(h.quantile(q.q)) / kNanosPerSecond);
      }
    }
  }

  family(out, "rampart_received_bytes_total", "counter", "Request body bytes received.");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    fmt::format_to(out, "rampart_received_bytes_total{{{}}} {}\n", labels[i], versions[i].bytes_in);
  }
  family(out, "rampart_sent_bytes_total", "counter", "Response body bytes sent.");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    fmt::format_to(out, "rampart_sent_bytes_total{{{}}} {}\n", labels[i], versions[i].bytes_out);
  }

  family(out, "rampart_connections_accepted_total", "counter", "Client connections accepted.");
  fmt::format_to(out, "rampart_connections_accepted_total {}\n", gateway.connections_accepted);
  family(out, "rampart_connections_active", "gauge", "Client connections open now.");
  fmt::format_to(out, "rampart_connections_active {}\n", gateway.connections_active);
  family(out, "rampart_connections_rejected_total", "counter",
         "Client connections closed at once because the connection cap was reached.");
  fmt::format_to(out, "rampart_connections_rejected_total {}\n", gateway.connections_rejected);
  family(out, "rampart_gateway_rejections_total", "counter",
         "Requests the gateway answered itself instead of relaying, by reason.");
  for (std::size_t r = 0; r < kRejectionCount; ++r) {
    fmt::format_to(out, "rampart_gateway_rejections_total{{reason=\"{}\"}} {}\n",
                   to_string(static_cast<Rejection>(r)), gateway.rejections[r]);
  }
  return text;
}

}  // namespace rampart::metrics
