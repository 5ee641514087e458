// The instance logs of a service (docs/api.md, "Logs"): the runner's log files read through
// runner/log_reader.hpp. Logs can hold whatever an instance printed (secrets included, by
// mistake), so reading them takes a deployer token, not read-only.

#include "admin/api.hpp"
#include "admin/endpoints.hpp"

#include "common/time_text.hpp"
#include "model/validate.hpp"
#include "runner/log_reader.hpp"

#include <fmt/format.h>

#include <array>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

using model::Role;
using Verb = bhttp::verb;

constexpr std::size_t kMaxCursorBytes = 16 * 1024;

Result<runner::LogQuery> log_query(const Call& call) {
  runner::LogQuery q;
  if (auto version = query_text(call, "version"); !version.empty()) {
    if (auto s = model::validate_version_name("version", version); !s) {
      return s.error();
    }
    q.versions.emplace_back(version);
  }
  auto since = query_int(call, "since");
  if (!since) {
    return since.error();
  }
  q.since_ms = since->value_or(0);
  q.grep = std::string(query_text(call, "grep"));
  auto limit = query_limit(call);
  if (!limit) {
    return limit.error();
  }
  q.limit = *limit;
  q.cursor = std::string(query_text(call, "cursor"));
  if (q.cursor.size() > kMaxCursorBytes) {
    return make_error(Errc::kInvalidArgument, "cursor: too long; start without it");
  }
  return q;
}

json::object line_json(const runner::LogLine& line) {
  return json::object{{"instance", fmt::format("{}/{}", line.version, line.instance)},
                      {"version", line.version},
                      {"time", format_rfc3339(line.unix_ms)},
                      {"unix_ms", line.unix_ms},
                      {"text", line.text}};
}

Result<Reply> read_logs(const Call& call) {
  if (call.extensions.log_root.empty()) {
    return make_error(Errc::kUnavailable, "this server keeps no instance logs");
  }
  if (auto s = model::validate_service_name("service", call.params[0]); !s) {
    return s.error();
  }
  auto q = log_query(call);
  if (!q) {
    return q.error();
  }
  auto page = runner::read_logs(call.extensions.log_root, call.params[0], *q);
  if (!page) {
    return page.error();
  }
  json::array lines;
  lines.reserve(page->lines.size());
  for (const auto& l : page->lines) {
    lines.emplace_back(line_json(l));
  }
  return Reply{bhttp::status::ok, json::object{{"lines", std::move(lines)},
                                               {"cursor", page->cursor},
                                               {"skipped", page->skipped},
                                               {"truncated", page->truncated}}};
}

constexpr std::array<Endpoint, 1> kLogEndpoints = {{
    {Verb::get, "services/{service}/logs", Role::kDeployer, "version, since, grep, limit, cursor",
     &read_logs},
}};

}  // namespace

std::span<const Endpoint> log_endpoints() { return kLogEndpoints; }

}  // namespace rampart::admin
