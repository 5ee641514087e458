#include "control/webhook_deliveries.hpp"

#include "common/time_text.hpp"
#include "model/keys.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <tuple>

namespace rampart::control {

namespace {

namespace json = boost::json;

constexpr int kDeliverySchema = 1;

// A field of a stored record: its value, or the type's zero when it is absent or mistyped
// (the record is the notifier's own; the API shows what it can).
std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t int_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    return 0;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  return v->is_uint64() ? static_cast<std::int64_t>(v->get_uint64()) : 0;
}

json::value time_or_null(std::int64_t unix_ms) {
  return unix_ms == 0 ? json::value(nullptr) : json::value(format_rfc3339(unix_ms));
}

}  // namespace

std::string encode(const DeliveryRecord& r) {
  return json::serialize(json::object{{"schema", kDeliverySchema},
                                      {"service", r.service},
                                      {"rollout", r.rollout},
                                      {"seq", r.seq},
                                      {"hook", r.hook},
                                      {"url", r.url},
                                      {"kind", r.kind},
                                      {"id", r.id},
                                      {"state", r.state},
                                      {"attempts", r.attempts},
                                      {"status", r.status},
                                      {"error", r.error},
                                      {"started_at", r.started_at},
                                      {"finished_at", r.finished_at}});
}

Result<DeliveryRecord> decode_delivery(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return make_error(Errc::kInvalidArgument, "webhook delivery record: not a JSON object");
  }
  const json::object& o = v.get_object();
  if (int_of(o, "schema") < 1 || int_of(o, "schema") > kDeliverySchema) {
    return make_error(Errc::kInvalidArgument, "webhook delivery record: schema " +
                                                  std::to_string(int_of(o, "schema")) +
                                                  " is not one this build reads (1)");
  }
  DeliveryRecord r;
  r.service = text_of(o, "service");
  r.rollout = int_of(o, "rollout");
  r.seq = int_of(o, "seq");
  r.hook = static_cast<std::uint32_t>(int_of(o, "hook"));
  r.url = text_of(o, "url");
  r.kind = text_of(o, "kind");
  r.id = text_of(o, "id");
  r.state = text_of(o, "state");
  r.attempts = static_cast<std::uint32_t>(int_of(o, "attempts"));
  r.status = static_cast<unsigned>(int_of(o, "status"));
  r.error = text_of(o, "error");
  r.started_at = int_of(o, "started_at");
  r.finished_at = int_of(o, "finished_at");
  return r;
}

json::object api_json(const DeliveryRecord& r) {
  return json::object{
      {"rollout", r.rollout},
      {"seq", r.seq},
      {"hook", r.hook},
      {"url", r.url},
      {"kind", r.kind},
      {"delivery", r.id},
      {"state", r.state},
      {"attempts", r.attempts},
      {"status", r.status == 0 ? json::value(nullptr) : json::value(r.status)},
      {"error", r.error.empty() ? json::value(nullptr) : json::value(r.error)},
      {"started_at", time_or_null(r.started_at)},
      {"finished_at", time_or_null(r.finished_at)},
      {"duration_ms",
       r.finished_at == 0 ? json::value(nullptr) : json::value(r.finished_at - r.started_at)}};
}

Result<std::vector<DeliveryRecord>> list_deliveries(store::Store& store, std::string_view service,
                                                    std::int64_t rollout) {
  auto range =
      store.range(model::keys::webhook_deliveries_prefix(service, rollout), {.prefix = true});
  if (!range) {
    return range.error();
  }
  std::vector<DeliveryRecord> out;
  for (const auto& kv : range->kvs) {
    if (auto r = decode_delivery(kv.value)) {
      out.push_back(std::move(*r));
    }
  }
  // Keys sort hook "10" before "2": order by the numbers.
  std::sort(out.begin(), out.end(), [](const DeliveryRecord& a, const DeliveryRecord& b) {
    return std::tie(a.seq, a.hook) < std::tie(b.seq, b.hook);
  });
  return out;
}

}  // namespace rampart::control
