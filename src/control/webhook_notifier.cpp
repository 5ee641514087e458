#include "control/webhook_notifier.hpp"

#include "common/log.hpp"
#include "control/deployment_service.hpp"
#include "control/mutation.hpp"
#include "control/webhook_deliveries.hpp"
#include "control/webhook_payload.hpp"
#include "model/codec.hpp"
#include "model/keys.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>

namespace rampart::control {

namespace {

namespace json = boost::json;
namespace keys = model::keys;

std::string delivery_id(const model::RolloutEvent& e, std::uint32_t hook) {
  return fmt::format("{}-{}-{}-{}", e.service, e.rollout, e.seq, hook);
}

Delivery delivery_of(const rollout::Webhook& hook, std::string kind, std::string id,
                     std::string body) {
  return Delivery{.url = hook.url,
                  .kind = std::move(kind),
                  .id = std::move(id),
                  .body = std::move(body),
                  .secret = std::nullopt,
                  .timeout = hook.timeout,
                  .tries = hook.tries};
}

// The key's rollout and seq when it is an event key.
std::optional<std::pair<std::int64_t, std::int64_t>> event_of(const std::string& key) {
  auto parsed = keys::parse(key);
  if (!parsed || parsed->kind != keys::KeyKind::kRolloutEvent) {
    return std::nullopt;
  }
  return std::pair{parsed->id, parsed->seq};
}

}  // namespace

Result<std::vector<store::KeyValue>> WebhookNotifier::after_cursor(const std::string& base,
                                                                   std::int64_t first,
                                                                   std::int64_t last) {
  std::vector<store::KeyValue> out;
  if (first > last) {
    return out;
  }
  for (const std::string& prefix : keys::id_range_prefixes(base, first, last)) {
    auto range = store_.range(prefix, {.prefix = true});
    if (!range) {
      return range.error();
    }
    std::move(range->kvs.begin(), range->kvs.end(), std::back_inserter(out));
  }
  return out;
}

std::optional<std::string> secret_from_environment(const std::string& name) {
  const char* v = std::getenv(name.c_str());  // the environment is never written after start-up
  return v == nullptr ? std::nullopt : std::optional<std::string>(v);
}

std::optional<std::string> confirm_promotion(const rollout::Policy& policy,
                                             const model::Rollout& rollout, std::uint32_t next_step,
                                             std::int64_t now_ms, const Sender& send,
                                             const SecretLookup& secret) {
  const model::RolloutEvent e = confirm_event(rollout, next_step, now_ms);
  const std::string body = json::serialize(webhook_payload(e.event, rollout, e));
  for (const rollout::Webhook& hook : policy.webhooks) {
    if (!subscribes(hook, e.event)) {
      continue;
    }
    Delivery d = delivery_of(
        hook, e.event,
        fmt::format("{}-{}-confirm-{}-{}", rollout.service, rollout.id, next_step + 1, now_ms),
        body);
    d.tries = 1;  // the controller asks again while the step is held
    if (!hook.secret_env.empty()) {
      d.secret = secret(hook.secret_env);
      if (!d.secret) {
        return fmt::format(
            "confirm-promotion {}: secret_env {} is not set in the server's "
            "environment; nothing was sent",
            hook.url, hook.secret_env);
      }
    }
    const PostAnswer a = send(PostRequest{d.url, delivery_headers(d), d.body, d.timeout});
    if (a.status < 200 || a.status > 299) {
      return a.status == 0 ? fmt::format("confirm-promotion {}: {}", hook.url, a.error)
                           : fmt::format("confirm-promotion {} answered {}", hook.url, a.status);
    }
  }
  return std::nullopt;
}

WebhookNotifier::WebhookNotifier(store::Store& store, Options options)
    : store_(store), options_(std::move(options)) {
  if (!options_.send) {
    options_.send = [this](const PostRequest& r) {
      return http_post(r, [this] { return stopped_.load(); });
    };
  }
  if (!options_.sleep) {
    options_.sleep = [this](std::chrono::milliseconds d) { return sleep(d); };
  }
  if (!options_.now_ms) {
    options_.now_ms = system_unix_ms;
  }
  if (!options_.secret) {
    options_.secret = secret_from_environment;
  }
}

WebhookNotifier::~WebhookNotifier() { stop(); }

void WebhookNotifier::scan() {
  auto services = store_.range(keys::services_prefix(), {.prefix = true});
  if (!services) {
    log::error("webhooks: cannot read the services: {}", services.error().message);
    return;
  }
  for (const auto& kv : services->kvs) {
    auto service = detail::decode_service(kv);
    if (!service) {
      continue;  // the publisher reports unreadable records
    }
    if (service->rollout.webhooks.empty()) {
      if (auto cursor = store_.get(keys::webhook_cursor(service->name)); cursor && *cursor) {
        (void)store_.del(keys::webhook_cursor(service->name));  // re-added hooks start afresh
      }
      continue;
    }
    scan_service(*service, kv.mod_revision);
  }
}

// The last event written no later than the service record: what came before its hooks.
std::optional<WebhookNotifier::Cursor> WebhookNotifier::baseline(const std::string& service,
                                                                 std::int64_t service_revision) {
  auto events = store_.range(keys::service_rollout_events_prefix(service), {.prefix = true});
  if (!events) {
    return std::nullopt;
  }
  Cursor c;
  for (const auto& kv : events->kvs) {
    auto at = event_of(kv.key);
    if (at && kv.mod_revision <= service_revision) {
      c = std::max(c, Cursor{at->first, at->second});
    }
  }
  return c;
}

void WebhookNotifier::scan_service(const model::Service& service, std::int64_t service_revision) {
  const std::string cursor_key = keys::webhook_cursor(service.name);
  auto stored = store_.get(cursor_key);
  auto counter = store_.get(keys::rollout_counter(service.name));
  if (!stored || !counter) {
    return;  // the store cannot serve: the next scan tries again
  }
  auto last = detail::decode_counter(*counter ? &**counter : nullptr);
  if (!last) {
    return;
  }
  std::optional<Cursor> cursor;
  if (*stored) {
    boost::system::error_code ec;
    auto v = json::parse((*stored)->value, ec);
    if (!ec && v.is_object() && v.as_object().contains("rollout") &&
        v.as_object().contains("seq")) {
      cursor =
          Cursor{v.at("rollout").to_number<std::int64_t>(), v.at("seq").to_number<std::int64_t>()};
    }
  }
  const bool fresh = !cursor;
  if (fresh) {
    cursor = baseline(service.name, service_revision);
    if (!cursor) {
      return;
    }
  }
  Cursor next = *cursor;
  bool contiguous = true;
  for (std::int64_t id = std::max<std::int64_t>(1, cursor->rollout); id <= *last; ++id) {
    scan_rollout(service, id, next, contiguous);
  }
  if (fresh || next != *cursor) {
    const std::string value =
        json::serialize(json::object{{"rollout", next.rollout}, {"seq", next.seq}});
    if (auto put = store_.put(cursor_key, value); !put) {
      log::warn("webhooks: {}: cannot move the cursor: {}", service.name, put.error().message);
    }
  }
}

void WebhookNotifier::scan_rollout(const model::Service& service, std::int64_t id, Cursor& cursor,
                                   bool& contiguous) {
  auto rollout_kv = store_.get(keys::rollout(service.name, id));
  auto rollout = rollout_kv && *rollout_kv
                     ? model::decode_rollout((*rollout_kv)->value)
                     : Result<model::Rollout>(make_error(Errc::kNotFound, ""));
  // Only the events after the cursor are read (and their deliveries), not the whole timeline.
  const std::int64_t first = id == cursor.rollout ? cursor.seq + 1 : 1;
  auto events = after_cursor(keys::rollout_events_prefix(service.name, id), first,
                             rollout ? rollout->events : 0);
  auto deliveries = after_cursor(keys::webhook_deliveries_prefix(service.name, id), first,
                                 rollout ? rollout->events : 0);
  if (!rollout || !events || !deliveries) {
    contiguous = false;
    return;
  }
  std::set<std::string> finished;
  for (const auto& kv : *deliveries) {
    if (auto r = decode_delivery(kv.value); r && r->finished()) {
      finished.insert(kv.key);
    }
  }
  {
    // Seen finished in the store: no longer in flight. (Forgotten only here, not when its lane
    // ends it, so that a scan that read the records just before cannot queue it again.)
    std::lock_guard lock(mutex_);
    for (const auto& key : finished) {
      in_flight_.erase(key);
    }
  }
  for (const auto& kv : *events) {
    auto at = event_of(kv.key);
    if (!at || Cursor{at->first, at->second} <= cursor) {
      continue;
    }
    auto event = model::decode_rollout_event(kv.value);
    if (!event) {
      continue;  // an unreadable event is skipped, not retried forever
    }
    bool done = true;
    for (std::uint32_t i = 0; i < service.rollout.webhooks.size(); ++i) {
      auto kind = delivery_kind(service.rollout.webhooks[i], event->event);
      if (!kind || finished.contains(keys::webhook_delivery(service.name, id, event->seq, i))) {
        continue;
      }
      done = false;
      queue(service, *rollout, *event, i, *kind);
    }
    if (done && contiguous) {
      cursor = Cursor{id, event->seq};
    } else {
      contiguous = false;
    }
  }
}

void WebhookNotifier::queue(const model::Service& service, const model::Rollout& rollout,
                            const model::RolloutEvent& event, std::uint32_t hook,
                            const std::string& kind) {
  const rollout::Webhook& w = service.rollout.webhooks[hook];
  Job job;
  job.key = keys::webhook_delivery(service.name, rollout.id, event.seq, hook);
  DeliveryRecord& r = job.record;
  r.service = service.name;
  r.rollout = rollout.id;
  r.seq = event.seq;
  r.hook = hook;
  r.url = w.url;
  r.kind = kind;
  r.id = delivery_id(event, hook);
  job.secret_env = w.secret_env;
  const std::string body = json::serialize(webhook_payload(kind, rollout, event));
  job.delivery = delivery_of(w, kind, job.record.id, body);
  std::unique_lock lock(mutex_);
  if (stopping_ || in_flight_.contains(job.key)) {
    return;
  }
  auto it = lanes_.find(w.url);
  if (it == lanes_.end() && lanes_.size() >= options_.max_lanes) {
    lock.unlock();
    drop(std::move(job), fmt::format("dropped: more than {} webhook URLs", options_.max_lanes));
    return;
  }
  if (it == lanes_.end()) {
    it = lanes_.emplace(w.url, std::make_unique<Lane>()).first;
    it->second->thread = std::thread([this, lane = it->second.get()] { run_lane(lane); });
  }
  Lane& lane = *it->second;
  if (kind == "event" && lane.jobs.size() >= options_.queue) {
    lock.unlock();
    drop(std::move(job),
         fmt::format("dropped: {} deliveries wait for this URL already", options_.queue));
    return;
  }
  in_flight_.insert(job.key);
  lane.jobs.push_back(std::move(job));
  wake_.notify_all();
}

void WebhookNotifier::drop(Job job, const std::string& why) {
  log::warn("webhooks: {} rollout {} event {}: {} to {} {}", job.record.service, job.record.rollout,
            job.record.seq, job.record.kind, job.record.url, why);
  job.record.state = std::string(kDropped);
  job.record.error = why;
  job.record.started_at = job.record.finished_at = options_.now_ms();
  write_record(job.key, job.record);
}

void WebhookNotifier::write_record(const std::string& key, const DeliveryRecord& r) {
  if (auto put = store_.put(key, encode(r)); !put) {
    // Unrecorded, it is delivered again after a restart (at least once).
    log::warn("webhooks: cannot record the delivery {}: {}", r.id, put.error().message);
  }
}

void WebhookNotifier::run_lane(Lane* lane) {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !lane->jobs.empty(); });
    if (stopping_) {
      return;
    }
    Job job = std::move(lane->jobs.front());
    lane->jobs.pop_front();
    lock.unlock();
    run_job(job);
    lock.lock();
  }
}

void WebhookNotifier::run_job(Job& job) {
  DeliveryRecord& r = job.record;
  r.started_at = options_.now_ms();
  write_record(job.key, r);
  const auto t0 = std::chrono::steady_clock::now();
  if (!job.secret_env.empty()) {
    job.delivery.secret = options_.secret(job.secret_env);
  }
  if (!job.secret_env.empty() && !job.delivery.secret) {
    r.state = std::string(kDropped);
    r.error = fmt::format("secret_env {} is not set in the server's environment; nothing was sent",
                          job.secret_env);
  } else {
    const DeliveryOutcome o = deliver(job.delivery, options_.send, options_.sleep, options_.now_ms);
    if (stopped_ && !o.delivered) {
      return;  // cut short by the stop: no record, so the next start delivers it
    }
    r.state = std::string(o.delivered ? kDelivered : kFailed);
    r.attempts = o.attempts;
    r.status = o.status;
    r.error = o.error;
  }
  r.finished_at = r.started_at + std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count();
  write_record(job.key, r);
  const std::string answer = r.status != 0 ? std::to_string(r.status) : r.error;
  if (r.state == kDelivered) {
    log::info("webhooks: {} rollout {}: {} to {}: {} after {} attempt(s)", r.service, r.rollout,
              r.kind, r.url, answer, r.attempts);
  } else {
    log::warn("webhooks: {} rollout {}: {} to {} {}: {}{}", r.service, r.rollout, r.kind, r.url,
              r.state, answer, r.error.empty() || r.status == 0 ? "" : " (" + r.error + ")");
  }
}

bool WebhookNotifier::sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

std::size_t WebhookNotifier::pending() {
  std::lock_guard lock(mutex_);
  return in_flight_.size();
}

void WebhookNotifier::start() {
  thread_ = std::thread([this] {
    std::int64_t seen = -1;
    while (!stopped_) {
      const std::int64_t revision = store_.revision();
      if (revision != seen) {
        scan();
        seen = revision;
      }
      // Woken by any commit; the poll bounds a wait that a coalesced commit might miss.
      store_.wait_for_revision(seen, options_.poll);
    }
  });
}

void WebhookNotifier::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  for (auto& [url, lane] : lanes_) {
    if (lane->thread.joinable()) {
      lane->thread.join();
    }
  }
}

}  // namespace rampart::control
