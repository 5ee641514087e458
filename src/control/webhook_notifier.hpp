#pragma once
// Tells a service's webhooks about its rollouts. It follows the rollout events in the store
// (not the controller: a webhook that hangs can never block or delay a rollback) and, for each
// new event of a service whose policy has webhooks, delivers it to every hook that subscribes
// to it (control/webhook_payload.hpp routes: created -> pre-rollout, promoted -> post-rollout,
// rolled_back -> rollback, every event -> event).
//
// Durable, at least once: every delivery's outcome is recorded in the store
// (control/webhook_deliveries.hpp), and a per-service cursor (/rampart/webhook_cursors/{service})
// names the last event all of whose deliveries are recorded as finished. After kill -9 and a
// restart, the events after the cursor without a finished record are delivered (again, if the
// kill came between the POST and its record: receivers dedupe on X-Rampart-Delivery, which is
// the same for every attempt). A service seen with webhooks but no cursor starts from the
// events written after its record was (the history from before a hook existed is not
// replayed); a service without webhooks loses its cursor.
//
// Concurrency: a lane (a thread and a queue) per webhook URL, so a slow hook does not delay
// the others; a lane delivers in event order. A lane holds at most `queue` deliveries of kind
// "event"; more of them are dropped (logged, recorded as "dropped") while pre-rollout,
// post-rollout and rollback deliveries are always queued. At most `max_lanes` URLs get a lane;
// deliveries to more are dropped the same way.
//
// Thread safety: scan() runs on one thread at a time (start() runs it on a thread of its own,
// on every change of the store's revision and at least every `poll`).

#include "control/webhook_deliveries.hpp"
#include "control/webhook_delivery.hpp"
#include "model/records.hpp"
#include "model/rollout_record.hpp"
#include "store/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace rampart::control {

// The value of the server's environment variable `name`; nullopt when it is not set.
using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> secret_from_environment(const std::string& name);

// Asks each confirm-promotion hook of `policy` (one attempt each, its timeout) whether
// `rollout` may move to `next_step` (0-based; one past the last: promotion). nullopt when every
// one answered 2xx (or there is none), else why the step stays held ("confirm-promotion
// https://hooks.example.com/ok answered 503").
std::optional<std::string> confirm_promotion(const rollout::Policy& policy,
                                             const model::Rollout& rollout, std::uint32_t next_step,
                                             std::int64_t now_ms, const Sender& send,
                                             const SecretLookup& secret);

class WebhookNotifier {
 public:
  struct Options {
    Sender send;                           // empty: http_post, cancelled by stop()
    Sleeper sleep;                         // empty: a wait that stop() cuts short
    std::function<std::int64_t()> now_ms;  // empty: system_unix_ms
    SecretLookup secret;                   // empty: secret_from_environment
    std::chrono::milliseconds poll{200};
    std::size_t queue = 64;
    std::size_t max_lanes = 32;
  };

  WebhookNotifier(store::Store& store, Options options);
  ~WebhookNotifier();  // stop()s

  // One pass over the services: queues the deliveries of new events and moves the cursors.
  void scan();

  void start();
  // Ends the scans and the lanes: waits between attempts end at once, an attempt under way
  // within ~20 ms. Queued deliveries are left for the next start (they have no finished record).
  void stop();

  // Deliveries queued, under way, or finished but not yet seen so by a scan (for tests).
  std::size_t pending();

 private:
  struct Job {
    std::string key;  // of its record
    DeliveryRecord record;
    Delivery delivery;
    std::string secret_env;
  };
  struct Lane {
    std::deque<Job> jobs;  // guarded by mutex_
    std::thread thread;
  };
  struct Cursor {
    std::int64_t rollout = 0;
    std::int64_t seq = 0;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>.
    auto operator<=>(const Cursor&) const = default;
  };

  void scan_service(const model::Service& service, std::int64_t service_revision);
  std::optional<Cursor> baseline(const std::string& service, std::int64_t service_revision);
  // The events of rollout `id` after `cursor`, queued; answers the last event handled in full
  // when `contiguous` (every earlier one is), and clears `contiguous` at the first that is not.
  void scan_rollout(const model::Service& service, std::int64_t id, Cursor& cursor,
                    bool& contiguous);
  // The keys `base + format_id(seq) ...` for seq in [first, last], in key order.
  Result<std::vector<store::KeyValue>> after_cursor(const std::string& base, std::int64_t first,
                                                    std::int64_t last);
  void queue(const model::Service& service, const model::Rollout& rollout,
             const model::RolloutEvent& event, std::uint32_t hook, const std::string& kind);
  void drop(Job job, const std::string& why);
  void run_lane(Lane* lane);
  void run_job(Job& job);
  void write_record(const std::string& key, const DeliveryRecord& record);
  bool sleep(std::chrono::milliseconds d);

  store::Store& store_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> stopped_{false};                    // stopping_, readable without the lock
  std::map<std::string, std::unique_ptr<Lane>> lanes_;  // by URL
  std::set<std::string> in_flight_;  // record keys queued, under way, or finished unseen
  std::thread thread_;
};

}  // namespace rampart::control
