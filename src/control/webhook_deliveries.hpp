#pragma once
// The record of one webhook delivery, as the store keeps it and the API lists it:
//   /rampart/webhook_deliveries/{service}/{rollout:010}/{seq:010}/{hook index}
// written when the delivery starts ("delivering") and again when it ends ("delivered",
// "failed" or "dropped"). It never holds the secret, only the name of its variable.

#include "common/result.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::control {

inline constexpr std::string_view kDelivering = "delivering";
inline constexpr std::string_view kDelivered = "delivered";
inline constexpr std::string_view kFailed = "failed";    // tried, no 2xx
inline constexpr std::string_view kDropped = "dropped";  // never sent (queue full, no secret)

struct DeliveryRecord {
  std::string service;
  std::int64_t rollout = 0;
  std::int64_t seq = 0;
  std::uint32_t hook = 0;  // the index of the webhook in the service's policy
  std::string url;
  std::string kind;  // pre-rollout, post-rollout, rollback, event
  std::string id;    // X-Rampart-Delivery
  std::string state{kDelivering};
  std::uint32_t attempts = 0;
  unsigned status = 0;  // the last answer's; 0 without one
  std::string error;
  std::int64_t started_at = 0;   // unix ms
  std::int64_t finished_at = 0;  // 0 while delivering

  bool finished() const { return state != kDelivering; }
  friend bool operator==(const DeliveryRecord&, const DeliveryRecord&) = default;
};

std::string encode(const DeliveryRecord& record);
Result<DeliveryRecord> decode_delivery(std::string_view json);

// The API's form: times in RFC 3339, "duration_ms", null for what is not known yet.
boost::json::object api_json(const DeliveryRecord& record);

// The deliveries of one rollout, in event order (then hook order). Unreadable records are
// skipped: a list of outcomes should not fail for one of them.
Result<std::vector<DeliveryRecord>> list_deliveries(store::Store& store, std::string_view service,
                                                    std::int64_t rollout);

}  // namespace rampart::control
