#include "control/rollout_service.hpp"

#include "control/mutation.hpp"
#include "control/rollout_start.hpp"
#include "control/stored_state.hpp"
#include "model/codec.hpp"
#include "model/keys.hpp"
#include "model/validate.hpp"

#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace rampart::control {

namespace {

namespace keys = model::keys;
using detail::collect_one;
using detail::key_op;
using detail::service_ranges;
using detail::StoredService;
using TxnPlan = detail::Plan;
using detail::created_reason;
using detail::declared_version;
using detail::start_action;
using detail::start_details;

// The service's ranges and its rollout counter, read at one revision.
std::vector<store::RangeOp> rollout_ranges(std::string_view service) {
  auto ops = service_ranges(service);
  ops.push_back(key_op(keys::rollout_counter(service)));
  return ops;
}

// A stored rollout and the mod_revision its update must compare with.
struct StoredRollout {
  model::Rollout rollout;
  std::int64_t mod_revision = 0;
};

Result<std::optional<StoredRollout>> read_rollout(store::Store& store, std::string_view service,
                                                  std::int64_t id) {
  auto kv = store.get(keys::rollout(service, id));
  if (!kv) {
    return kv.error();
  }
  if (!*kv) {
    return std::optional<StoredRollout>{};
  }
  auto r = model::decode_rollout((*kv)->value);
  if (!r) {
    return make_error(Errc::kInternal,
                      fmt::format("stored record \"{}\": {}", (*kv)->key, r.error().message));
  }
  return std::optional(StoredRollout{std::move(*r), (*kv)->mod_revision});
}

Error no_rollout(std::string_view service, std::int64_t id) {
  return id == 0 ? make_error(Errc::kNotFound,
                              fmt::format("service \"{}\" has no rollout yet; start one with "
                                          "`rampart deploy {} --version V`",
                                          service, service))
                 : make_error(Errc::kNotFound,
                              fmt::format("service \"{}\" has no rollout {}", service, id));
}

std::string describe(const model::Rollout& r) {
  return fmt::format("rollout {} ({} {}, {} at step {} of {})", r.id, r.plan.version,
                     rollout::describe(r.plan.strategy.steps), rollout::to_string(r.progress.phase),
                     r.progress.step + 1, std::max<std::size_t>(1, r.plan.strategy.steps.size()));
}

// The split that gives the rollout's version `weight` and its stable version the rest; every
// other version 0.
Result<std::vector<model::SplitEntry>> split_for(const StoredService& s, const rollout::Plan& p,
                                                 uint32_t weight) {
  std::vector<model::SplitEntry> split;
  for (const auto& v : s.versions) {
    const std::string& name = v.version.name;
    const uint32_t bp = name == p.version  ? weight
                        : name == p.stable ? model::kTotalBasisPoints - weight
                                           : 0;
    split.push_back(model::SplitEntry{name, bp});
  }
  const auto versions = s.version_records();
  if (auto st = model::validate_split(s.service->name, split, versions); !st) {
    return make_error(Errc::kInternal,
                      fmt::format("the rollout's split cannot be made: {}", st.error().message));
  }
  return model::canonical_split(std::move(split), versions);
}

// The version with the largest share of `latest` other than `version`.
std::optional<std::string> stable_of(const model::Deployment& latest, std::string_view version) {
  const model::SplitEntry* best = nullptr;
  for (const auto& e : latest.split) {
    if (e.version != version && e.basis_points > 0 &&
        (best == nullptr || e.basis_points > best->basis_points)) {
      best = &e;
    }
  }
  return best == nullptr ? std::nullopt : std::optional(best->version);
}

Result<rollout::Plan> plan_for(const DeployRequest& req, const model::Service& service,
                               std::string stable) {
  const rollout::Policy& policy = service.rollout;
  rollout::Plan plan{.version = req.version,
                     .stable = std::move(stable),
                     .strategy = policy.strategy,
                     .analysis = policy.analysis,
                     .interval = policy.interval,
                     .verify_after = !policy.verify.empty() && policy.verify_tries > 0,
                     .rollback_window = policy.rollback_window,
                     .sticky = service.sticky.kind != model::StickyKind::kNone};
  if (req.strategy) {
    auto s = rollout::strategy_from_name(*req.strategy);
    if (!s) {
      return make_error(Errc::kInvalidArgument, "strategy: " + s.error().message);
    }
    plan.strategy = *s;
  }
  if (req.steps) {
    if (auto st = rollout::validate_steps("steps", *req.steps); !st) {
      return st.error();
    }
    plan.strategy = rollout::Strategy{rollout::StrategyKind::kCanary, *req.steps};
  }
  if (req.interval) {
    if (req.interval->count() < 100) {
      return make_error(Errc::kInvalidArgument, "interval: must be at least 100ms");
    }
    plan.interval = *req.interval;
  }
  return plan;
}

Status check_request(const DeployRequest& req) {
  for (auto st : {model::validate_service_name("service", req.service),
                  model::validate_version_name("version", req.version),
                  model::validate_token_name("actor", req.actor),
                  model::validate_text("message", req.message)}) {
    if (!st) {
      return st;
    }
  }
  if (req.pre.size() > kMaxPreResults || req.upstreams.size() > kMaxUpstreams) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("pre, upstreams: at most {} pre results and {} upstreams",
                                  kMaxPreResults, kMaxUpstreams));
  }
  for (const auto& p : req.pre) {
    if (auto st = model::validate_text("pre: name", p.name); !st) {
      return st;
    }
  }
  return {};
}

}  // namespace

RolloutService::RolloutService(store::Store& store, UnixClock clock)
    : store_(store), clock_(std::move(clock)) {}

Result<model::Rollout> RolloutService::start(const DeployRequest& req) {
  if (auto st = check_request(req); !st) {
    return st.error();
  }
  if (req.replace && !req.dry_run) {
    auto current = active(req.service);
    if (!current) {
      return current.error();
    }
    if (*current) {
      if (auto aborted = command(req.service, rollout::Command::kAbort, req.actor); !aborted) {
        return aborted.error();
      }
    }
  }
  model::Rollout created;
  auto attempt = [&]() -> Result<std::optional<TxnPlan>> {
    auto view = detail::read_view(store_, rollout_ranges(req.service));
    if (!view) {
      return view.error();
    }
    auto stored = collect_one(req.service, view->ranges);
    if (!stored) {
      return stored.error();
    }
    if (!stored->latest) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("service \"{}\" has no deployment yet: a rollout moves "
                                    "traffic from a deployed version",
                                    req.service));
    }
    const std::int64_t now = clock_();
    std::optional<model::Version> declared;
    if (!req.upstreams.empty() || req.run) {
      auto d = declared_version(req, *stored, now);
      if (!d) {
        return d.error();
      }
      declared = std::move(*d);
    } else if (stored->find_version(req.version) == nullptr) {
      return make_error(Errc::kNotFound,
                        fmt::format("service \"{}\" has no version \"{}\"; declare it first "
                                    "(apply, or deploy with --upstream URL)",
                                    req.service, req.version));
    }
    const auto* counter_kv = detail::only(view->ranges[3]);
    auto last = detail::decode_counter(counter_kv);
    if (!last) {
      return last.error();
    }
    TxnPlan plan(*view);
    if (*last > 0) {
      auto previous = read_rollout(store_, req.service, *last);
      if (!previous) {
        return previous.error();
      }
      const bool replaced = req.dry_run && req.replace;  // start() aborts it when not dry
      if (*previous && !replaced && !rollout::is_final((*previous)->rollout.progress.phase)) {
        return make_error(
            Errc::kConflict,
            fmt::format("service \"{}\" has an active {}; abort it with `rampart abort {}`, or "
                        "deploy with --replace",
                        req.service, describe((*previous)->rollout), req.service));
      }
      if (*previous) {
        plan.expect(keys::rollout(req.service, *last), (*previous)->mod_revision);
      }
    }
    auto stable = stable_of(*stored->latest, req.version);
    if (!stable) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("version \"{}\" serves all of service \"{}\" already; there "
                                    "is nothing to roll out from",
                                    req.version, req.service));
    }
    auto rollout_plan = plan_for(req, *stored->service, *stable);
    if (!rollout_plan) {
      return rollout_plan.error();
    }
    const auto refused = rollout::deploy_refused(stored->service->rollout.deploy_windows, now);
    if (refused && !req.force) {
      return make_error(Errc::kConflict,
                        fmt::format("service \"{}\": {}; deploy with --force to go ahead anyway "
                                    "(audited)",
                                    req.service, *refused));
    }
    model::Rollout r;
    r.service = req.service;
    r.id = *last + 1;
    r.plan = std::move(*rollout_plan);
    r.progress.reason = "waiting for the checks before traffic";
    r.author = req.actor;
    r.message = req.message;
    r.created_at = now;
    r.updated_at = now;
    r.events = 1;
    model::RolloutEvent e{.service = r.service,
                          .rollout = r.id,
                          .seq = 1,
                          .at = now,
                          .event = "created",
                          .actor = req.actor,
                          .reason = created_reason(req, r, declared.has_value(), refused)};
    created = r;
    if (req.dry_run) {
      return std::optional<TxnPlan>{};
    }
    if (declared) {
      plan.put(keys::version(req.service, declared->name), model::encode(*declared), 0);
    }
    plan.put(keys::rollout_counter(req.service), std::to_string(r.id),
             counter_kv ? counter_kv->mod_revision : 0);
    plan.put(keys::rollout(r.service, r.id), model::encode(r), 0);
    plan.put(keys::rollout_event(r.service, r.id, 1), model::encode(e), 0);
    plan.describe(now, req.actor, start_action(req, refused.has_value()), "service:" + req.service,
                  nullptr, start_details(req, r, declared, refused));
    return std::optional(std::move(plan));
  };
  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  count(created.service, "created");
  return created;
}

void RolloutService::count(std::string_view service, std::string_view event) {
  std::lock_guard lock(counts_mutex_);
  ++counts_[{std::string(service), std::string(event)}];
}

RolloutService::DecisionCounts RolloutService::decisions() const {
  std::lock_guard lock(counts_mutex_);
  return counts_;
}

Result<std::optional<model::Rollout>> RolloutService::advance(std::string_view service,
                                                              std::int64_t id,
                                                              std::string_view actor,
                                                              const Step& step) {
  std::optional<model::Rollout> result;
  std::string event;
  auto attempt = [&]() -> Result<std::optional<TxnPlan>> {
    result.reset();
    auto view = detail::read_view(store_, rollout_ranges(service));
    if (!view) {
      return view.error();
    }
    auto stored = collect_one(service, view->ranges);
    if (!stored) {
      return stored.error();
    }
    auto last = detail::decode_counter(detail::only(view->ranges[3]));
    if (!last) {
      return last.error();
    }
    const std::int64_t rid = id == 0 ? *last : id;
    auto current = rid == 0 ? Result<std::optional<StoredRollout>>(std::nullopt)
                            : read_rollout(store_, service, rid);
    if (!current) {
      return current.error();
    }
    if (!*current) {
      return no_rollout(service, id);
    }
    const model::Rollout& before = (*current)->rollout;
    const std::int64_t now = clock_();
    auto t = step(before, now);
    if (!t) {
      return t.error();
    }
    if (!*t) {
      return std::optional<TxnPlan>{};
    }
    model::Rollout after = before;
    after.progress = (*t)->next;
    after.updated_at = now;
    after.events = before.events + 1;
    model::RolloutEvent e{.service = after.service,
                          .rollout = after.id,
                          .seq = after.events,
                          .at = now,
                          .event = (*t)->event,
                          .phase = after.progress.phase,
                          .step = after.progress.step,
                          .weight_bp = (*t)->weight_bp,
                          .actor = std::string(actor),
                          .reason = after.progress.reason,
                          .judgement = (*t)->judgement ? model::to_json(*(*t)->judgement)
                                                       : boost::json::value(nullptr)};
    TxnPlan plan(*view);
    if ((*t)->weight_bp) {
      if (!stored->latest) {
        return make_error(Errc::kInternal, "the service lost its deployments");
      }
      auto split = split_for(*stored, after.plan, *(*t)->weight_bp);
      if (!split) {
        return split.error();
      }
      model::Deployment d{.service = after.service,
                          .id = stored->latest->id + 1,
                          .split = std::move(*split),
                          .author = std::string(actor),
                          .created_at = now,
                          .message = fmt::format("rollout {}: {} to {}: {}", after.id,
                                                 rollout::percent_text(*(*t)->weight_bp),
                                                 after.plan.version, after.progress.reason),
                          .cause = std::string(model::kCauseRollout)};
      if (auto st = model::validate_id("deployment id", d.id); !st) {
        return st.error();
      }
      detail::put_deployment(plan, d, stored->latest_mod_revision());
      e.deployment = d.id;
    }
    plan.put(keys::rollout(after.service, after.id), model::encode(after),
             (*current)->mod_revision);
    plan.put(keys::rollout_event(after.service, after.id, e.seq), model::encode(e), 0);
    plan.describe(now, actor, "rollout." + e.event, "service:" + after.service,
                  model::to_json(before), model::to_json(after));
    event = e.event;
    result = std::move(after);
    return std::optional(std::move(plan));
  };
  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  if (result) {
    count(service, event);
  }
  return result;
}

Result<model::Rollout> RolloutService::checks_done(std::string_view service, std::int64_t id,
                                                   bool passed, std::string reason) {
  auto r = advance(
      service, id, kSystemActor,
      [&](const model::Rollout& r, std::int64_t now) -> Result<std::optional<rollout::Transition>> {
        switch (r.progress.phase) {
          case rollout::Phase::kPending:
            return std::optional(rollout::on_checks(r.plan, r.progress, passed, reason, now));
          case rollout::Phase::kVerifying:
            return std::optional(rollout::on_verified(r.plan, r.progress, passed, reason, now));
          default:
            return make_error(Errc::kConflict,
                              fmt::format("{} is not waiting for its checks", describe(r)));
        }
      });
  if (!r) {
    return r.error();
  }
  return std::move(**r);
}

Result<std::optional<model::Rollout>> RolloutService::window(std::string_view service,
                                                             std::int64_t id,
                                                             const rollout::Window& w) {
  return advance(
      service, id, kSystemActor,
      [&](const model::Rollout& r, std::int64_t now) -> Result<std::optional<rollout::Transition>> {
        return rollout::on_window(r.plan, r.progress, w, now);
      });
}

Result<std::optional<model::Rollout>> RolloutService::judged(
    std::string_view service, std::int64_t id, rollout::Judgement judgement,
    const rollout::Confirmation& confirmation) {
  return advance(
      service, id, kSystemActor,
      [&](const model::Rollout& r, std::int64_t now) -> Result<std::optional<rollout::Transition>> {
        return rollout::on_judgement(r.plan, r.progress, judgement, confirmation, now);
      });
}

Result<model::Rollout> RolloutService::command(std::string_view service, rollout::Command command,
                                               std::string_view actor) {
  if (auto st = model::validate_token_name("actor", actor); !st) {
    return st.error();
  }
  auto r = advance(
      service, 0, actor,
      [&](const model::Rollout& r, std::int64_t now) -> Result<std::optional<rollout::Transition>> {
        auto t = rollout::on_command(r.plan, r.progress, command, now);
        if (!t) {
          return make_error(t.error().code, fmt::format("{}: {}", describe(r), t.error().message));
        }
        return std::optional(std::move(*t));
      });
  if (!r) {
    return r.error();
  }
  return std::move(**r);
}

Result<model::Rollout> RolloutService::latest(std::string_view service) {
  auto counter = store_.get(keys::rollout_counter(service));
  if (!counter) {
    return counter.error();
  }
  auto last = detail::decode_counter(counter->has_value() ? &**counter : nullptr);
  if (!last) {
    return last.error();
  }
  return get(service, *last);
}

Result<std::optional<model::Rollout>> RolloutService::active(std::string_view service) {
  auto r = latest(service);
  if (!r) {
    if (r.error().code == Errc::kNotFound) {
      return std::optional<model::Rollout>{};
    }
    return r.error();
  }
  if (rollout::is_final(r->progress.phase)) {
    return std::optional<model::Rollout>{};
  }
  return std::optional(std::move(*r));
}

Result<model::Rollout> RolloutService::get(std::string_view service, std::int64_t id) {
  if (id <= 0) {
    return no_rollout(service, 0);
  }
  auto r = read_rollout(store_, service, id);
  if (!r) {
    return r.error();
  }
  if (!*r) {
    return no_rollout(service, id);
  }
  return std::move((*r)->rollout);
}

Result<std::vector<model::Rollout>> RolloutService::list(std::string_view service) {
  auto range = store_.range(keys::rollouts_prefix(service), {.prefix = true});
  if (!range) {
    return range.error();
  }
  std::vector<model::Rollout> out;
  for (auto it = range->kvs.rbegin(); it != range->kvs.rend(); ++it) {
    auto r = model::decode_rollout(it->value);
    if (!r) {
      return make_error(Errc::kInternal,
                        fmt::format("stored record \"{}\": {}", it->key, r.error().message));
    }
    out.push_back(std::move(*r));
  }
  return out;
}

Result<std::vector<model::RolloutEvent>> RolloutService::events(std::string_view service,
                                                                std::int64_t id) {
  if (auto r = get(service, id); !r) {
    return r.error();
  }
  auto range = store_.range(keys::rollout_events_prefix(service, id), {.prefix = true});
  if (!range) {
    return range.error();
  }
  std::vector<model::RolloutEvent> out;
  for (const auto& kv : range->kvs) {
    auto e = model::decode_rollout_event(kv.value);
    if (!e) {
      return make_error(Errc::kInternal,
                        fmt::format("stored record \"{}\": {}", kv.key, e.error().message));
    }
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<model::Rollout>> RolloutService::all_active() {
  auto services = store_.range(keys::services_prefix(), {.prefix = true});
  if (!services) {
    return services.error();
  }
  std::vector<model::Rollout> out;
  for (const auto& kv : services->kvs) {
    auto parsed = keys::parse(kv.key);
    if (!parsed) {
      continue;
    }
    auto r = active(parsed->service);
    if (!r) {
      return r.error();
    }
    if (*r) {
      out.push_back(std::move(**r));
    }
  }
  return out;
}

}  // namespace rampart::control
