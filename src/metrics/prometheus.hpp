#pragma once
// The registry in Prometheus text exposition format 0.0.4, for GET /metrics.

#include "metrics/registry.hpp"

#include <string>
#include <string_view>

namespace rampart::metrics {

// Families, each with one # HELP and # TYPE line, in this order:
//   rampart_requests_total{service,version,class="1xx".."5xx"}             counter
//   rampart_upstream_failures_total{service,version,kind="connect|reset|timeout"}  counter
//   rampart_request_duration_seconds{service,version,le=...}                histogram
//   rampart_request_duration_quantile_seconds{service,version,quantile="0.5|0.95|0.99"}  gauge
//     (from the fine histogram; NaN while a version has no requests)
//   rampart_received_bytes_total / rampart_sent_bytes_total{service,version}  counter
//   rampart_connections_accepted_total, rampart_connections_rejected_total    counter
//   rampart_connections_active                                                gauge
//   rampart_gateway_rejections_total{reason}                                  counter
// Every label value of every version and reason is present, zeros included. Versions appear
// sorted by (service, version). Thread safety: as Registry::snapshot_versions().
std::string render_prometheus(const Registry& registry);

// A label value escaped per the exposition format: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace rampart::metrics
