#include "metrics/prometheus.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace rampart::metrics {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& want) {
  return std::find(lines.begin(), lines.end(), want) != lines.end();
}

// shop/v1 with known data, shop/v2 with one sticky key's errors, shop/v3 without requests, and
// a version with awkward names.
class PrometheusTest : public ::testing::Test {
 protected:
  PrometheusTest() : registry_(2) {
    auto v1 = registry_.version_stats("shop", "v1");
    v1->shard(0).record_response(200, 200'000, 10, 100);      // 200 us
    v1->shard(0).record_response(200, 3'000'000, 20, 200);    // 3 ms
    v1->shard(1).record_response(201, 40'000'000, 30, 300);   // 40 ms
    v1->shard(1).record_response(404, 2'000'000'000, 0, 50);  // 2 s
    v1->shard(1).record_response(503, 20'000'000'000, 0, 0);  // 20 s
    v1->shard(1).record_upstream_failure(UpstreamFailure::kConnect);
    v1->shard(0).record_upstream_failure(UpstreamFailure::kTimeout);
    v1->shard(1).record_upstream_failure(UpstreamFailure::kTimeout);
    // One sticky key's four errors in a step: two count as events, two are past its cap.
    auto v2 = registry_.version_stats("shop", "v2");
    for (int i = 0; i < 4; ++i) {
      v2->shard(0).record_response(StickyKey{0xabc, 1}, 500, 1'000, 0, 0);
    }
    registry_.version_stats("shop", "v3");
    registry_.version_stats("we\"ird\\svc\nx", "v\"1")->shard(0).record_response(200, 1'000, 0, 0);
    GatewayShard& w0 = registry_.gateway_shard(0);
    GatewayShard& w1 = registry_.gateway_shard(1);
    bump(w0.connections_accepted, 3);
    bump(w0.connections_active);
    bump(w1.connections_accepted, 2);
    bump(w1.connections_rejected);
    w0.record_rejection(Rejection::kNoRoute);
    w1.record_rejection(Rejection::kNoRoute);
    w1.record_rejection(Rejection::kBodyTooLarge);
    registry_.set_upstreams(
        {{{"shop", "v1"},
          {UpstreamHealth{"127.0.0.1:9001", ""},
           UpstreamHealth{"locahost:9002", "does not resolve: no such name"}}}});
    text_ = render_prometheus(registry_);
    lines_ = lines_of(text_);
  }

  Registry registry_;
  std::string text_;
  std::vector<std::string> lines_;
};

TEST_F(PrometheusTest, ExactSampleLines) {
  const std::string kV1 = R"(service="shop",version="v1")";
  const std::vector<std::string> want = {
      "# HELP rampart_requests_total Requests answered, by status class.",
      "# TYPE rampart_requests_total counter",
      "rampart_requests_total{" + kV1 + ",class=\"1xx\"} 0",
      "rampart_requests_total{" + kV1 + ",class=\"2xx\"} 3",
      "rampart_requests_total{" + kV1 + ",class=\"3xx\"} 0",
      "rampart_requests_total{" + kV1 + ",class=\"4xx\"} 1",
      "rampart_requests_total{" + kV1 + ",class=\"5xx\"} 1",
      R"(rampart_requests_total{service="shop",version="v2",class="2xx"} 0)",
      R"(rampart_requests_total{service="shop",version="v2",class="5xx"} 4)",
      "# TYPE rampart_errors_past_key_cap_total counter",
      "rampart_errors_past_key_cap_total{" + kV1 + "} 0",  // no key: every error counts
      R"(rampart_errors_past_key_cap_total{service="shop",version="v2"} 2)",
      "rampart_upstream_failures_total{" + kV1 + ",kind=\"connect\"} 1",
      "rampart_upstream_failures_total{" + kV1 + ",kind=\"reset\"} 0",
      "rampart_upstream_failures_total{" + kV1 + ",kind=\"timeout\"} 2",
      "# TYPE rampart_request_duration_seconds histogram",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.0005\"} 1",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.001\"} 1",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.0025\"} 1",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.005\"} 2",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.01\"} 2",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.025\"} 2",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.05\"} 3",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.1\"} 3",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.25\"} 3",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"0.5\"} 3",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"1\"} 3",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"2.5\"} 4",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"5\"} 4",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"10\"} 4",
      "rampart_request_duration_seconds_bucket{" + kV1 + ",le=\"+Inf\"} 5",
      "rampart_request_duration_seconds_sum{" + kV1 + "} 22.0432",
      "rampart_request_duration_seconds_count{" + kV1 + "} 5",
      R"(rampart_request_duration_seconds_bucket{service="shop",version="v2",le="+Inf"} 4)",
      R"(rampart_request_duration_seconds_bucket{service="shop",version="v3",le="+Inf"} 0)",
      R"(rampart_request_duration_seconds_sum{service="shop",version="v3"} 0)",
      "# TYPE rampart_request_duration_quantile_seconds gauge",
      // rank 3 of 5 is 40 ms, reported as its bucket's midpoint 40'108'031 ns
      "rampart_request_duration_quantile_seconds{" + kV1 + ",quantile=\"0.5\"} 0.040108031",
      "rampart_request_duration_quantile_seconds{" + kV1 + ",quantile=\"0.95\"} 20",
      "rampart_request_duration_quantile_seconds{" + kV1 + ",quantile=\"0.99\"} 20",
      R"(rampart_request_duration_quantile_seconds{service="shop",version="v3",quantile="0.5"} NaN)",
      "rampart_received_bytes_total{" + kV1 + "} 60",
      "rampart_sent_bytes_total{" + kV1 + "} 650",
      "# TYPE rampart_connections_accepted_total counter",
      "rampart_connections_accepted_total 5",
      "# TYPE rampart_connections_active gauge",
      "rampart_connections_active 1",
      "rampart_connections_rejected_total 1",
      "# TYPE rampart_gateway_rejections_total counter",
      R"(rampart_gateway_rejections_total{reason="no_route"} 2)",
      R"(rampart_gateway_rejections_total{reason="body_too_large"} 1)",
      R"(rampart_gateway_rejections_total{reason="request_timeout"} 0)",
  };
  for (const std::string& line : want) {
    EXPECT_TRUE(has_line(lines_, line)) << "missing: " << line << "\nin:\n" << text_;
  }
}

TEST_F(PrometheusTest, LabelValuesEscaped) {
  EXPECT_TRUE(has_line(
      lines_, R"(rampart_requests_total{service="we\"ird\\svc\nx",version="v\"1",class="2xx"} 1)"))
      << text_;
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("plain-v1.2"), "plain-v1.2");
}

// Structure: HELP and TYPE once per family, before its samples, which are contiguous; sample
// names belong to the family; histogram buckets are cumulative and end in le="+Inf" == _count.
TEST_F(PrometheusTest, UpstreamsSayWhetherTheyResolve) {
  EXPECT_TRUE(has_line(
      lines_,
      R"(rampart_upstream_resolved{service="shop",version="v1",upstream="127.0.0.1:9001"} 1)"));
  EXPECT_TRUE(has_line(
      lines_,
      R"(rampart_upstream_resolved{service="shop",version="v1",upstream="locahost:9002"} 0)"));
  // A version not served now has no upstream series.
  EXPECT_EQ(text_.find(R"(rampart_upstream_resolved{service="shop",version="v2")"),
            std::string::npos);
}

TEST_F(PrometheusTest, FamiliesAreWellFormed) {
  std::set<std::string> help;
  std::map<std::string, std::string> type;  // family -> type
  std::string family;
  std::map<std::string, uint64_t> inf;     // label set -> +Inf bucket
  std::map<std::string, uint64_t> counts;  // label set -> _count
  std::string last_bucket_labels;
  uint64_t last_bucket = 0;
  for (const std::string& line : lines_) {
    ASSERT_FALSE(line.empty());
    std::istringstream in(line);
    if (line.rfind("# HELP ", 0) == 0) {
      std::string hash, keyword, name;
      in >> hash >> keyword >> name;
      EXPECT_TRUE(help.insert(name).second) << "HELP twice: " << name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string hash, keyword, name, kind;
      in >> hash >> keyword >> name >> kind;
      EXPECT_TRUE(help.count(name)) << "TYPE before HELP: " << name;
      EXPECT_TRUE(type.emplace(name, kind).second) << "TYPE twice: " << name;
      family = name;
      continue;
    }
    ASSERT_NE(line[0], '#') << line;
    const std::size_t name_end = line.find_first_of("{ ");
    const std::size_t value_start = line.rfind(' ') + 1;
    const std::string name = line.substr(0, name_end);
    const std::string labels =
        line[name_end] == '{' ? line.substr(name_end, line.rfind('}') - name_end + 1) : "";
    const std::string value = line.substr(value_start);
    ASSERT_FALSE(family.empty()) << line;
    if (type[family] == "histogram") {
      EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" ||
                  name == family + "_count")
          << line;
    } else {
      EXPECT_EQ(name, family) << line;
    }
    if (value != "NaN") {
      std::size_t used = 0;
      (void)std::stod(value, &used);
      EXPECT_EQ(used, value.size()) << line;
    }
    if (name == family + "_bucket") {
      const std::size_t le = labels.find(",le=\"");
      const std::string series = labels.substr(0, le);
      const uint64_t n = std::stoull(value);
      if (series == last_bucket_labels) {
        EXPECT_GE(n, last_bucket) << line;
      }
      last_bucket_labels = series;
      last_bucket = n;
      if (labels.find("le=\"+Inf\"") != std::string::npos) {
        inf[series + "}"] = n;
      }
    } else if (name == family + "_count") {
      counts[labels] = std::stoull(value);
    }
  }
  EXPECT_EQ(type.size(), 12u);
  EXPECT_EQ(help.size(), 12u);
  EXPECT_EQ(inf.size(), 4u);
  EXPECT_EQ(inf, counts);
}

TEST(PrometheusEmptyTest, EmptyRegistryHasFamiliesAndGatewayZeros) {
  Registry registry(1);
  const auto lines = lines_of(render_prometheus(registry));
  EXPECT_TRUE(has_line(lines, "# TYPE rampart_requests_total counter"));
  EXPECT_TRUE(has_line(lines, "rampart_connections_accepted_total 0"));
  EXPECT_TRUE(has_line(lines, "rampart_connections_active 0"));
  EXPECT_TRUE(has_line(lines, R"(rampart_gateway_rejections_total{reason="no_route"} 0)"));
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.find("service=") != l.npos; }),
            0);
}

}  // namespace
}  // namespace rampart::metrics
