// The audit log's endpoint (docs/api.md, "Audit").

#include "admin/api.hpp"
#include "admin/endpoints.hpp"

#include <array>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

Result<Reply> list_audit(const Call& call) {
  auto after = query_int(call, "after");
  auto since = query_int(call, "since");
  for (auto* r : {&after, &since}) {
    if (!*r) {
      return r->error();
    }
  }
  auto limit = query_limit(call);
  if (!limit) {
    return limit.error();
  }
  control::AuditQuery q;
  q.after_seq = after->value_or(0);
  q.since_ms = since->value_or(0);
  q.limit = *limit;
  auto events = call.deployments.audit(q);
  if (!events) {
    return events.error();
  }
  return Reply{bhttp::status::ok, json::object{{"events", api_list(*events)}}};
}

constexpr std::array<Endpoint, 1> kAuditEndpoints = {{
    {bhttp::verb::get, "audit", model::Role::kReadOnly, "after, since, limit", &list_audit},
}};

}  // namespace

std::span<const Endpoint> audit_endpoints() { return kAuditEndpoints; }

}  // namespace rampart::admin
