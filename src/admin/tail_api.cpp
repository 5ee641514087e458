// The live request events of a service (docs/api.md, "Tail"): a long poll over the gateway's
// tail rings (gateway/tail.hpp). The first GET, without a cursor, subscribes (recording starts)
// and answers the events from then on; each later GET passes the cursor it was given. A
// subscription not polled for TailHub::kDefaultIdleTimeout ends by itself; DELETE ends it now.

#include "admin/api.hpp"
#include "admin/endpoints.hpp"

#include "common/duration.hpp"
#include "common/time_text.hpp"
#include "gateway/gateway.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

using gateway::TailHub;
using model::Role;
using Verb = bhttp::verb;

constexpr std::chrono::milliseconds kMaxWait{10000};
constexpr std::size_t kDefaultEvents = 500;
constexpr std::size_t kMaxEvents = 1000;
constexpr std::size_t kMaxName = 63;

Result<gateway::Gateway*> wired_gateway(const Call& call) {
  if (call.extensions.gateway == nullptr) {
    return make_error(Errc::kUnavailable, "this server has no gateway to tail");
  }
  return call.extensions.gateway;
}

Result<gateway::TailFilter> tail_filter(const Call& call, const gateway::Gateway& gw) {
  gateway::TailFilter filter;
  filter.service = call.params[0];
  auto routes = gw.routes();
  const bool routed =
      routes && std::any_of(routes->services.begin(), routes->services.end(),
                            [&](const auto& s) { return s.name == filter.service; });
  if (!routed) {
    return make_error(Errc::kNotFound,
                      fmt::format("service \"{}\" is not routed by the gateway", filter.service));
  }
  filter.version = std::string(query_text(call, "version"));
  if (filter.version.size() > kMaxName) {
    return make_error(Errc::kInvalidArgument, "version: longer than 63 characters");
  }
  auto status = gateway::parse_status_filter(query_text(call, "status"));
  if (!status) {
    return make_error(Errc::kInvalidArgument, "status: " + status.error().message);
  }
  filter.status = *status;
  return filter;
}

Result<std::chrono::milliseconds> tail_wait(const Call& call) {
  const std::string_view text = query_text(call, "wait");
  if (text.empty()) {
    return std::chrono::milliseconds(0);
  }
  auto wait = parse_duration(text, kMaxWait);
  if (!wait) {
    return make_error(Errc::kInvalidArgument, "wait: " + wait.error().message);
  }
  return *wait;
}

Result<std::size_t> tail_limit(const Call& call) {
  auto limit = query_int(call, "limit");
  if (!limit) {
    return limit.error();
  }
  if (!*limit) {
    return kDefaultEvents;
  }
  if (**limit < 1 || **limit > static_cast<std::int64_t>(kMaxEvents)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("limit: {} is out of range; give 1 to {}", **limit, kMaxEvents));
  }
  return static_cast<std::size_t>(**limit);
}

// The cursor to read from: the one given, its subscription kept alive (or renewed when it has
// expired: the events in between were not recorded), or a new subscription's.
Result<gateway::TailCursor> tail_cursor(const Call& call, TailHub& hub) {
  const auto now = TailHub::Clock::now();
  const std::string_view text = query_text(call, "cursor");
  if (text.empty()) {
    return hub.subscribe(now);
  }
  auto cursor = gateway::parse_cursor(text, hub.workers());
  if (!cursor) {
    return make_error(Errc::kInvalidArgument, "cursor: " + cursor.error().message);
  }
  if (!hub.touch(cursor->subscription, now)) {
    auto fresh = hub.subscribe(now);
    if (!fresh) {
      return fresh.error();
    }
    cursor->subscription = fresh->subscription;
  }
  return cursor;
}

json::object event_json(const gateway::TailEvent& e) {
  json::object o;
  o["time"] = format_rfc3339(e.unix_ms);
  o["unix_ms"] = e.unix_ms;
  o["version"] = e.version.view();
  o["method"] = e.method.view();
  o["path"] = e.path.view();
  if (e.path.cut) {
    o["path_truncated"] = true;
  }
  o["status"] = e.status;
  o["latency_us"] = e.latency_us;
  o["upstream"] = e.upstream.size == 0 ? json::value(nullptr) : json::value(e.upstream.view());
  const auto failure = e.failure_text();
  o["failure"] = failure.empty() ? json::value(nullptr) : json::value(failure);
  return o;
}

Result<Reply> read_tail(const Call& call) {
  auto gw = wired_gateway(call);
  if (!gw) {
    return gw.error();
  }
  auto filter = tail_filter(call, **gw);
  if (!filter) {
    return filter.error();
  }
  auto wait = tail_wait(call);
  if (!wait) {
    return wait.error();
  }
  auto limit = tail_limit(call);
  if (!limit) {
    return limit.error();
  }
  TailHub& hub = (*gw)->tail();
  auto cursor = tail_cursor(call, hub);
  if (!cursor) {
    return cursor.error();
  }
  auto batch = hub.wait_read(*cursor, *filter, *limit, *wait);
  json::array events;
  events.reserve(batch.events.size());
  for (const auto& e : batch.events) {
    events.emplace_back(event_json(e));
  }
  return Reply{bhttp::status::ok, json::object{{"events", std::move(events)},
                                               {"cursor", format_cursor(batch.next)},
                                               {"dropped", batch.dropped},
                                               {"waited", batch.waited}}};
}

Result<Reply> end_tail(const Call& call) {
  auto gw = wired_gateway(call);
  if (!gw) {
    return gw.error();
  }
  TailHub& hub = (*gw)->tail();
  auto cursor = gateway::parse_cursor(query_text(call, "cursor"), hub.workers());
  if (!cursor) {
    return make_error(Errc::kInvalidArgument, "cursor: " + cursor.error().message);
  }
  hub.unsubscribe(cursor->subscription);
  return Reply{bhttp::status::ok, json::object{{"ended", true}}};
}

constexpr std::array<Endpoint, 2> kTailEndpoints = {{
    {Verb::get, "services/{service}/tail", Role::kReadOnly, "cursor, version, status, wait, limit",
     &read_tail},
    {Verb::delete_, "services/{service}/tail", Role::kReadOnly, "cursor", &end_tail},
}};

}  // namespace

std::span<const Endpoint> tail_endpoints() { return kTailEndpoints; }

}  // namespace rampart::admin
