#include "control/deployment_service.hpp"

#include "control/mutation.hpp"
#include "control/stored_state.hpp"
#include "model/codec.hpp"
#include "model/keys.hpp"
#include "model/validate.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>

namespace rampart::control {

namespace {

namespace json = boost::json;
namespace keys = model::keys;
using detail::collect;
using detail::collect_one;
using detail::key_op;
using detail::Plan;
using detail::prefix_op;
using detail::put_deployment;
using detail::service_ranges;
using detail::StoredService;
using detail::StoredState;
using detail::StoredVersion;
using detail::unknown_service;

Error no_deployment(std::string_view service) {
  return make_error(Errc::kNotFound, fmt::format("service \"{}\" has no deployment yet", service));
}

json::value or_null(const std::optional<model::Deployment>& deployment) {
  if (deployment) {
    return model::to_json(*deployment);
  }
  return nullptr;
}

Status check_actor(std::string_view actor) { return model::validate_token_name("actor", actor); }

Status check_service_name(std::string_view service) {
  return model::validate_service_name("service", service);
}

std::string route_text(const model::Route& route) { return route.host + route.path_prefix; }

// Checks what apply() cannot leave to parse_config(): the config may be built by hand, and the
// store may hold services the config does not name.
Status check_seed(const std::vector<model::SeedService>& seeds, const StoredState& stored) {
  std::set<std::string_view> names;
  std::map<std::pair<std::string_view, std::string_view>, std::string_view> claims;
  for (const auto& seed : seeds) {
    const auto& s = seed.service;
    if (auto st = model::validate_service_name("services", s.name); !st) {
      return st;
    }
    if (!names.insert(s.name).second) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("services: service \"{}\" is declared twice", s.name));
    }
    if (s.routes.empty()) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("routes: service \"{}\" has no route", s.name));
    }
    std::set<std::string_view> version_names;
    if (seed.versions.empty()) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("versions: service \"{}\" has no version", s.name));
    }
    for (const auto& v : seed.versions) {
      if (auto st = model::validate_version_name("versions", v.name); !st) {
        return st;
      }
      if (!version_names.insert(v.name).second) {
        return make_error(
            Errc::kInvalidArgument,
            fmt::format("versions: service \"{}\" declares version \"{}\" twice", s.name, v.name));
      }
      if (v.run) {
        if (auto st = model::validate_run_spec(*v.run); !st) {
          return make_error(Errc::kInvalidArgument,
                            fmt::format("version \"{}\" of service \"{}\": {}", v.name, s.name,
                                        st.error().message));
        }
        continue;
      }
      if (v.upstreams.empty()) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("upstreams: version \"{}\" of service \"{}\" has no "
                                      "upstream",
                                      v.name, s.name));
      }
      for (const auto& url : v.upstreams) {
        if (auto parsed = config::parse_upstream(url); !parsed) {
          return make_error(Errc::kInvalidArgument,
                            fmt::format("upstreams: {}", parsed.error().message));
        }
      }
    }
    if (auto st = model::validate_split(s.name, seed.split, seed.versions); !st) {
      return st;
    }
  }
  // A (host, prefix) belongs to one service, among the config's services and the store's
  // services that the config leaves as they are.
  auto claim = [&](const model::Service& s) -> Status {
    for (const auto& route : s.routes) {
      auto [it, inserted] = claims.emplace(
          std::pair<std::string_view, std::string_view>{route.host, route.path_prefix}, s.name);
      if (!inserted && it->second != s.name) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("routes: route \"{}\" of service \"{}\" is already claimed "
                                      "by service \"{}\"; a host and prefix belong to one "
                                      "service only",
                                      route_text(route), s.name, it->second));
      }
    }
    return {};
  };
  for (const auto& [name, s] : stored) {
    if (s.service && !names.contains(name)) {
      if (auto st = claim(*s.service); !st) {
        return st;
      }
    }
  }
  for (const auto& seed : seeds) {
    if (auto st = claim(seed.service); !st) {
      return st;
    }
  }
  return {};
}

}  // namespace

std::int64_t system_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DeploymentService::DeploymentService(store::Store& store, UnixClock clock)
    : store_(store), clock_(clock ? std::move(clock) : UnixClock(&system_unix_ms)) {}

Result<model::Snapshot> read_snapshot(store::Store& store) {
  auto read = detail::read_ranges(
      store, {prefix_op(keys::services_prefix()), prefix_op(keys::all_versions_prefix()),
              prefix_op(keys::all_latest_prefix())});
  if (!read) {
    return read.error();
  }
  auto state = collect(read->ranges[0], read->ranges[1], read->ranges[2], /*tolerant=*/true);
  if (!state) {
    return state.error();
  }
  model::Snapshot snapshot;
  snapshot.revision = read->revision;
  for (auto& [name, stored] : *state) {
    if (!stored.unreadable.empty()) {
      snapshot.problems.push_back(model::ServiceProblem{name, stored.unreadable});
      continue;
    }
    if (!stored.service) {
      // Versions or a deployment without their service record: nothing says how to route it.
      snapshot.problems.push_back(model::ServiceProblem{name, "its service record is missing"});
      continue;
    }
    model::ServiceState s;
    s.service = std::move(*stored.service);
    s.versions = stored.version_records();
    s.latest = std::move(stored.latest);
    snapshot.services.push_back(std::move(s));
  }
  return snapshot;
}

// --- apply ----------------------------------------------------------------------------------

Result<ApplyResult> DeploymentService::apply(const config::Config& config, std::string_view actor,
                                             std::string_view message) {
  if (auto st = check_actor(actor); !st) {
    return st.error();
  }
  if (auto st = model::validate_text("message", message); !st) {
    return st.error();
  }
  const std::vector<model::SeedService> seeds = model::seed_from_config(config);
  std::vector<model::Deployment> created;

  auto attempt = [&]() -> Result<std::optional<Plan>> {
    created.clear();
    auto view = detail::read_view(
        store_, {prefix_op(keys::services_prefix()), prefix_op(keys::all_versions_prefix()),
                 prefix_op(keys::all_latest_prefix())});
    if (!view) {
      return view.error();
    }
    auto state = collect(view->ranges[0], view->ranges[1], view->ranges[2]);
    if (!state) {
      return state.error();
    }
    if (auto st = check_seed(seeds, *state); !st) {
      return st.error();
    }
    const std::int64_t now = clock_();
    Plan plan(*view);
    json::array before_services, after_services, before_versions, after_versions,
        before_deployments, after_deployments;
    std::vector<std::string_view> changed;

    for (const auto& seed : seeds) {
      const std::string& name = seed.service.name;
      const StoredService empty;
      auto found = state->find(name);
      const StoredService& stored = found != state->end() ? found->second : empty;
      bool service_changed = false;

      if (!stored.service || *stored.service != seed.service) {
        if (stored.service) {
          before_services.push_back(model::to_json(*stored.service));
        }
        after_services.push_back(model::to_json(seed.service));
        plan.put(keys::service(name), model::encode(seed.service), stored.mod_revision);
        service_changed = true;
      }

      // The service's versions after the apply, for the split's order.
      std::vector<model::Version> versions = stored.version_records();
      std::int64_t next_ordinal = stored.next_ordinal();
      for (const auto& seed_version : seed.versions) {
        const StoredVersion* old = stored.find_version(seed_version.name);
        model::Version next;
        if (old == nullptr) {
          next = seed_version;
          next.ordinal = next_ordinal++;
          next.created_at = now;
          versions.push_back(next);
        } else if (old->version.upstreams != seed_version.upstreams ||
                   old->version.run != seed_version.run) {
          next = old->version;
          next.upstreams = seed_version.upstreams;
          next.run = seed_version.run;
          next.health_path = seed_version.health_path;
          before_versions.push_back(model::to_json(old->version));
          for (auto& v : versions) {
            if (v.name == next.name) {
              v = next;
            }
          }
        } else {
          continue;
        }
        after_versions.push_back(model::to_json(next));
        plan.put(keys::version(name, next.name), model::encode(next),
                 old != nullptr ? old->mod_revision : 0);
        service_changed = true;
      }

      auto split = model::canonical_split(seed.split, versions);
      if (!stored.latest || stored.latest->split != split) {
        model::Deployment d;
        d.service = name;
        d.id = stored.latest ? stored.latest->id + 1 : 1;
        if (auto st = model::validate_id("deployment id", d.id); !st) {
          return st.error();
        }
        d.split = std::move(split);
        d.author = std::string(actor);
        d.created_at = now;
        d.message = std::string(message);
        d.cause = std::string(model::kCauseApply);
        if (stored.latest) {
          before_deployments.push_back(model::to_json(*stored.latest));
        }
        after_deployments.push_back(model::to_json(d));
        put_deployment(plan, d, stored.latest_mod_revision());
        created.push_back(std::move(d));
        service_changed = true;
      }
      if (service_changed) {
        changed.push_back(name);
      }
    }
    if (plan.empty()) {
      return std::optional<Plan>{};
    }
    plan.describe(now, actor, "apply", fmt::format("services:{}", fmt::join(changed, ",")),
                  json::object{{"services", std::move(before_services)},
                               {"versions", std::move(before_versions)},
                               {"deployments", std::move(before_deployments)}},
                  json::object{{"services", std::move(after_services)},
                               {"versions", std::move(after_versions)},
                               {"deployments", std::move(after_deployments)}});
    if (!message.empty()) {
      plan.audit.after.as_object()["message"] = message;
    }
    return std::optional<Plan>{std::move(plan)};
  };

  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  ApplyResult result;
  if (!*committed) {
    result.revision = store_.revision();
    return result;
  }
  result.changed = true;
  result.revision = **committed;
  for (auto& d : created) {
    d.revision = result.revision;
  }
  result.deployments = std::move(created);
  return result;
}

// --- set_split ------------------------------------------------------------------------------

Result<SplitResult> DeploymentService::set_split(std::string_view service,
                                                 const std::vector<model::SplitEntry>& split,
                                                 std::string_view actor, std::string_view message,
                                                 std::optional<std::int64_t> expected_revision,
                                                 bool force) {
  if (auto st = check_service_name(service); !st) {
    return st.error();
  }
  if (auto st = check_actor(actor); !st) {
    return st.error();
  }
  if (auto st = model::validate_text("message", message); !st) {
    return st.error();
  }
  if (expected_revision && *expected_revision < 0) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("expected_revision: {} is negative", *expected_revision));
  }
  model::Deployment created;

  auto attempt = [&]() -> Result<std::optional<Plan>> {
    auto view = detail::read_view(store_, service_ranges(service));
    if (!view) {
      return view.error();
    }
    auto stored = collect_one(service, view->ranges);
    if (!stored) {
      return stored.error();
    }
    const std::int64_t seen = stored->latest_mod_revision();
    if (expected_revision && *expected_revision != seen) {
      return make_error(Errc::kConflict,
                        fmt::format("service \"{}\" changed: its latest deployment is at revision "
                                    "{}, not the expected {}; read it again and retry",
                                    service, seen, *expected_revision));
    }
    const auto versions = stored->version_records();
    if (auto st = model::validate_split(service, split, versions); !st) {
      return st.error();
    }
    const std::int64_t now = clock_();
    model::Deployment d;
    d.service = std::string(service);
    d.id = stored->latest ? stored->latest->id + 1 : 1;
    if (auto st = model::validate_id("deployment id", d.id); !st) {
      return st.error();
    }
    std::vector<model::SplitEntry> every = split;  // and 0 bp for each version it leaves out
    for (const auto& v : versions) {
      if (std::none_of(split.begin(), split.end(),
                       [&](const model::SplitEntry& e) { return e.version == v.name; })) {
        every.push_back({v.name, 0});
      }
    }
    d.split = model::canonical_split(std::move(every), versions);
    if (!force && stored->latest && stored->latest->split == d.split) {
      created = *stored->latest;
      created.revision = seen;
      return std::optional<Plan>{};
    }
    d.author = std::string(actor);
    d.created_at = now;
    d.message = std::string(message);
    d.cause = std::string(model::kCauseSplit);

    Plan plan(*view);
    put_deployment(plan, d, seen);
    plan.describe(now, actor, "split", fmt::format("service:{}", service), or_null(stored->latest),
                  model::to_json(d));
    created = std::move(d);
    return std::optional<Plan>{std::move(plan)};
  };

  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  if (!*committed) {
    return SplitResult{false, std::move(created)};
  }
  created.revision = **committed;
  return SplitResult{true, std::move(created)};
}

// --- rollback -------------------------------------------------------------------------------

Result<model::Deployment> DeploymentService::rollback(std::string_view service,
                                                      const RollbackTarget& target,
                                                      std::string_view actor,
                                                      std::string_view message) {
  if (auto st = check_service_name(service); !st) {
    return st.error();
  }
  if (auto st = check_actor(actor); !st) {
    return st.error();
  }
  if (auto st = model::validate_text("message", message); !st) {
    return st.error();
  }
  if (target.deployment_id && target.checkpoint_id) {
    return make_error(Errc::kInvalidArgument,
                      "target: name a deployment or a checkpoint to roll back to, not both");
  }
  if (target.deployment_id) {
    if (auto st = model::validate_id("deployment_id", *target.deployment_id); !st) {
      return st.error();
    }
  }
  if (target.checkpoint_id) {
    if (auto st = model::validate_id("checkpoint_id", *target.checkpoint_id); !st) {
      return st.error();
    }
  }
  // A checkpoint is immutable: read it once, before the attempts.
  std::optional<model::Checkpoint> checkpoint;
  if (target.checkpoint_id) {
    auto kv = store_.get(keys::checkpoint(service, *target.checkpoint_id));
    if (!kv) {
      return kv.error();
    }
    if (!*kv) {
      auto exists = store_.get(keys::service(service));
      if (!exists) {
        return exists.error();
      }
      if (!*exists) {
        return unknown_service(service);
      }
      return make_error(Errc::kNotFound, fmt::format("service \"{}\" has no checkpoint {}", service,
                                                     *target.checkpoint_id));
    }
    auto c = detail::decode_checkpoint(**kv);
    if (!c) {
      return c.error();
    }
    checkpoint = std::move(*c);
  }
  model::Deployment created;

  auto attempt = [&]() -> Result<std::optional<Plan>> {
    auto view = detail::read_view(store_, service_ranges(service));
    if (!view) {
      return view.error();
    }
    auto stored = collect_one(service, view->ranges);
    if (!stored) {
      return stored.error();
    }
    if (!stored->latest) {
      return no_deployment(service);
    }
    const model::Deployment& latest = *stored->latest;
    std::int64_t to = 0;
    if (target.deployment_id) {
      to = *target.deployment_id;
    } else if (checkpoint) {
      to = checkpoint->deployment_id;
    } else if (latest.id == 1) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("target: service \"{}\" has only deployment 1; there is no "
                                    "earlier deployment to roll back to",
                                    service));
    } else {
      to = latest.id - 1;
    }
    if (to > latest.id) {
      return make_error(Errc::kNotFound,
                        fmt::format("service \"{}\" has no deployment {} (the latest is {})",
                                    service, to, latest.id));
    }
    if (to == latest.id) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("target: deployment {} is the latest deployment of service "
                                    "\"{}\" already; name an earlier one",
                                    to, service));
    }
    // Deployments are immutable and never deleted: the target read now is the one that
    // existed at the view's revision.
    auto kv = store_.get(keys::deployment(service, to));
    if (!kv) {
      return kv.error();
    }
    if (!*kv) {
      return make_error(
          Errc::kInternal,
          fmt::format("service \"{}\": deployment {} is missing from the store", service, to));
    }
    auto restored = detail::decode_deployment(**kv);
    if (!restored) {
      return restored.error();
    }
    const auto versions = stored->version_records();
    if (auto st = model::validate_split(service, restored->split, versions); !st) {
      return make_error(Errc::kInternal,
                        fmt::format("deployment {} of service \"{}\" cannot be restored: {}", to,
                                    service, st.error().message));
    }
    const std::int64_t now = clock_();
    model::Deployment d;
    d.service = std::string(service);
    d.id = latest.id + 1;
    if (auto st = model::validate_id("deployment id", d.id); !st) {
      return st.error();
    }
    d.split = model::canonical_split(restored->split, versions);
    d.author = std::string(actor);
    d.created_at = now;
    if (!message.empty()) {
      d.message = std::string(message);
    } else if (checkpoint) {
      d.message = fmt::format("rollback to deployment {} (checkpoint {}: {})", to, checkpoint->id,
                              checkpoint->note);
    } else {
      d.message = fmt::format("rollback to deployment {}", to);
    }
    d.cause = std::string(model::kCauseRollback);
    d.rolled_back_from = latest.id;
    d.rolled_back_to = to;

    Plan plan(*view);
    put_deployment(plan, d, latest.revision);
    plan.describe(now, actor, "rollback", fmt::format("service:{}", service),
                  model::to_json(latest), model::to_json(d));
    if (checkpoint) {
      plan.audit.after.as_object()["checkpoint"] = model::to_json(*checkpoint);
    }
    created = std::move(d);
    return std::optional<Plan>{std::move(plan)};
  };

  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  created.revision = **committed;
  return created;
}

// --- checkpoint -----------------------------------------------------------------------------

Result<model::Checkpoint> DeploymentService::checkpoint(std::string_view service,
                                                        std::string_view note,
                                                        std::string_view actor) {
  if (auto st = check_service_name(service); !st) {
    return st.error();
  }
  if (auto st = check_actor(actor); !st) {
    return st.error();
  }
  if (auto st = model::validate_text("note", note); !st) {
    return st.error();
  }
  model::Checkpoint created;

  auto attempt = [&]() -> Result<std::optional<Plan>> {
    auto ranges = service_ranges(service);
    ranges.push_back(key_op(keys::checkpoint_counter(service)));
    auto view = detail::read_view(store_, std::move(ranges));
    if (!view) {
      return view.error();
    }
    auto stored = collect_one(service, view->ranges);
    if (!stored) {
      return stored.error();
    }
    if (!stored->latest) {
      return no_deployment(service);
    }
    const store::KeyValue* counter = detail::only(view->ranges[3]);
    auto last = detail::decode_counter(counter);
    if (!last) {
      return last.error();
    }
    const std::int64_t now = clock_();
    model::Checkpoint c;
    c.service = std::string(service);
    c.id = *last + 1;
    if (auto st = model::validate_id("checkpoint id", c.id); !st) {
      return st.error();
    }
    c.deployment_id = stored->latest->id;
    c.note = std::string(note);
    c.author = std::string(actor);
    c.created_at = now;

    Plan plan(*view);
    plan.put(keys::checkpoint(service, c.id), model::encode(c), 0);
    plan.put(keys::checkpoint_counter(service), std::to_string(c.id),
             counter != nullptr ? counter->mod_revision : 0);
    // The checkpoint names the latest deployment: it must still be the latest at commit.
    plan.expect(keys::latest(service), stored->latest_mod_revision());
    plan.describe(now, actor, "checkpoint", fmt::format("service:{}", service), nullptr,
                  model::to_json(c));
    created = std::move(c);
    return std::optional<Plan>{std::move(plan)};
  };

  auto committed = detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  return created;
}

// --- reads ----------------------------------------------------------------------------------

Result<std::vector<model::Service>> DeploymentService::services() {
  auto range = store_.range(keys::services_prefix(), {.prefix = true});
  if (!range) {
    return range.error();
  }
  std::vector<model::Service> out;
  out.reserve(range->kvs.size());
  for (const auto& kv : range->kvs) {
    auto s = detail::decode_service(kv);
    if (!s) {
      return s.error();
    }
    out.push_back(std::move(*s));
  }
  return out;
}

Result<model::Service> DeploymentService::service(std::string_view name) {
  if (auto st = check_service_name(name); !st) {
    return st.error();
  }
  auto kv = store_.get(keys::service(name));
  if (!kv) {
    return kv.error();
  }
  if (!*kv) {
    return unknown_service(name);
  }
  return detail::decode_service(**kv);
}

Result<std::vector<model::Version>> DeploymentService::versions(std::string_view service) {
  if (auto st = check_service_name(service); !st) {
    return st.error();
  }
  auto read = detail::read_ranges(store_, service_ranges(service));
  if (!read) {
    return read.error();
  }
  auto stored = collect_one(service, read->ranges);
  if (!stored) {
    return stored.error();
  }
  return stored->version_records();
}

Result<std::vector<model::Deployment>> DeploymentService::deployments(std::string_view service,
                                                                      std::size_t limit) {
  auto last = latest(service);
  if (!last) {
    if (last.error().code == Errc::kNotFound) {
      // An unknown service stays an error; a service without deployments has none to list.
      auto s = this->service(service);
      if (!s) {
        return s.error();
      }
      return std::vector<model::Deployment>{};
    }
    return last.error();
  }
  const std::int64_t newest = last->id;
  const std::int64_t oldest =
      (limit == 0 || static_cast<std::uint64_t>(limit) >= static_cast<std::uint64_t>(newest))
          ? 1
          : newest - static_cast<std::int64_t>(limit) + 1;
  auto kvs = detail::read_ids(store_, keys::deployments_prefix(service), oldest, newest);
  if (!kvs) {
    return kvs.error();
  }
  std::vector<model::Deployment> out;
  out.reserve(kvs->size());
  for (auto it = kvs->rbegin(); it != kvs->rend(); ++it) {
    auto d = detail::decode_deployment(*it);
    if (!d) {
      return d.error();
    }
    out.push_back(std::move(*d));
  }
  return out;
}

Result<model::Deployment> DeploymentService::deployment(std::string_view service, std::int64_t id) {
  if (auto st = check_service_name(service); !st) {
    return st.error();
  }
  if (auto st = model::validate_id("id", id); !st) {
    return st.error();
  }
  auto read = detail::read_ranges(
      store_, {key_op(keys::service(service)), key_op(keys::deployment(service, id))});
  if (!read) {
    return read.error();
  }
  if (detail::only(read->ranges[0]) == nullptr) {
    return unknown_service(service);
  }
  const store::KeyValue* kv = detail::only(read->ranges[1]);
  if (kv == nullptr) {
    return make_error(Errc::kNotFound,
                      fmt::format("service \"{}\" has no deployment {}", service, id));
  }
  return detail::decode_deployment(*kv);
}

Result<model::Deployment> DeploymentService::latest(std::string_view service) {
  if (auto st = check_service_name(service); !st) {
    return st.error();
  }
  auto read =
      detail::read_ranges(store_, {key_op(keys::service(service)), key_op(keys::latest(service))});
  if (!read) {
    return read.error();
  }
  if (detail::only(read->ranges[0]) == nullptr) {
    return unknown_service(service);
  }
  const store::KeyValue* kv = detail::only(read->ranges[1]);
  if (kv == nullptr) {
    return no_deployment(service);
  }
  return detail::decode_deployment(*kv);
}

Result<std::vector<model::Checkpoint>> DeploymentService::checkpoints(std::string_view service) {
  if (auto st = check_service_name(service); !st) {
    return st.error();
  }
  auto read = detail::read_ranges(
      store_, {key_op(keys::service(service)), prefix_op(keys::checkpoints_prefix(service))});
  if (!read) {
    return read.error();
  }
  if (detail::only(read->ranges[0]) == nullptr) {
    return unknown_service(service);
  }
  std::vector<model::Checkpoint> out;
  for (const auto& kv : read->ranges[1].kvs) {
    auto c = detail::decode_checkpoint(kv);
    if (!c) {
      return c.error();
    }
    out.push_back(std::move(*c));
  }
  return out;
}

Result<std::vector<model::AuditEvent>> DeploymentService::audit(const AuditQuery& query) {
  auto counter = store_.get(keys::audit_counter());
  if (!counter) {
    return counter.error();
  }
  auto last = detail::decode_counter(*counter ? &**counter : nullptr);
  if (!last) {
    return last.error();
  }
  std::vector<model::AuditEvent> out;
  // Events are immutable and the counter only grows: reading in chunks is consistent.
  const std::int64_t chunk =
      query.limit == 0 ? std::max<std::int64_t>(*last, 1)
                       : std::max<std::int64_t>(static_cast<std::int64_t>(query.limit), 256);
  for (std::int64_t first = std::max<std::int64_t>(query.after_seq, 0) + 1; first <= *last;
       first += chunk) {
    auto kvs =
        detail::read_ids(store_, keys::audit_prefix(), first, std::min(*last, first + chunk - 1));
    if (!kvs) {
      return kvs.error();
    }
    for (const auto& kv : *kvs) {
      auto event = detail::decode_audit_event(kv);
      if (!event) {
        return event.error();
      }
      if (event->at < query.since_ms) {
        continue;
      }
      out.push_back(std::move(*event));
      if (query.limit != 0 && out.size() == query.limit) {
        return out;
      }
    }
  }
  return out;
}

Result<Analytics> DeploymentService::analytics(std::string_view service) {
  auto all = deployments(service);
  if (!all) {
    return all.error();
  }
  // deployments() answers newest first; walk oldest first.
  const std::vector<model::Deployment>& history = *all;
  Analytics a;
  for (std::size_t i = history.size(); i-- > 0;) {
    const model::Deployment& d = history[i];
    ++a.deployments;
    if (d.cause == model::kCauseRollback) {
      ++a.rollbacks;
    } else if (i > 0 && history[i - 1].cause == model::kCauseRollback) {
      ++a.rolled_back;
    }
  }
  const std::int64_t attempts = a.deployments - a.rollbacks;
  if (attempts > 0) {
    a.success_rate = static_cast<double>(attempts - a.rolled_back) / static_cast<double>(attempts);
  }
  return a;
}

}  // namespace rampart::control
