// The deployment endpoints (docs/api.md, "Deployments"): a service's deployments and its split
// (a new deployment), rollback, and checkpoints.

#include "admin/api.hpp"
#include "admin/endpoints.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

// {"v1": 90, "v2": 10} -> split entries in basis points (order as given; the service stores
// them in ordinal order).
Result<std::vector<model::SplitEntry>> parse_split(const json::object& o) {
  const auto* v = o.if_contains("split");
  if (v == nullptr) {
    return make_error(Errc::kInvalidArgument,
                      "split: missing; give an object of version to percent, e.g. "
                      "{\"v1\": 90, \"v2\": 10}");
  }
  if (!v->is_object()) {
    return make_error(Errc::kInvalidArgument,
                      "split: must be an object of version to percent, e.g. {\"v1\": 90, "
                      "\"v2\": 10}");
  }
  std::vector<model::SplitEntry> split;
  for (const auto& [name, value] : v->as_object()) {
    double percent = 0;
    if (value.is_int64()) {
      percent = static_cast<double>(value.as_int64());
    } else if (value.is_uint64()) {
      percent = static_cast<double>(value.as_uint64());
    } else if (value.is_double()) {
      percent = value.as_double();
    } else {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("split: the share of \"{}\" must be a number (percent)",
                                    std::string_view(name)));
    }
    const double bp = std::round(percent * 100.0);
    if (!std::isfinite(percent) || percent < 0 || percent > 100) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("split: the share of \"{}\" is {}; a share is a percent "
                                    "from 0 to 100",
                                    std::string_view(name), percent));
    }
    if (std::abs(bp - percent * 100.0) > 1e-6) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("split: the share of \"{}\" ({}) has more than two "
                                    "decimals; 0.01% is the finest step",
                                    std::string_view(name), percent));
    }
    split.push_back({std::string(name), static_cast<std::uint32_t>(bp)});
  }
  return split;
}

using model::Role;
using Verb = bhttp::verb;

Result<Reply> list_deployments(const Call& call) {
  auto limit = query_limit(call);
  if (!limit) {
    return limit.error();
  }
  auto list = call.deployments.deployments(call.params[0], *limit);
  if (!list) {
    return list.error();
  }
  return Reply{bhttp::status::ok, json::object{{"deployments", api_list(*list)}}};
}

Result<Reply> get_deployment(const Call& call) {
  const std::string& text = call.params[1];
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || p != text.data() + text.size() || id < 1) {
    return make_error(Errc::kNotFound,
                      fmt::format("\"{}\" is not a deployment id; ids are 1, 2, 3, ...", text));
  }
  auto d = call.deployments.deployment(call.params[0], id);
  if (!d) {
    return d.error();
  }
  return Reply{bhttp::status::ok, api_json(*d)};
}

// The versions `split` gives traffic, started first when rampart runs them (Extensions::prepare).
Status prepare_split(const Call& call, const std::vector<model::SplitEntry>& split) {
  if (!call.extensions.prepare) {
    return {};
  }
  std::vector<std::string> versions;
  for (const auto& e : split) {
    if (e.basis_points > 0) {
      versions.push_back(e.version);
    }
  }
  return call.extensions.prepare(call.params[0], versions);
}

// The split a rollback restores (its errors are rollback()'s to tell: nothing to prepare).
std::vector<model::SplitEntry> rollback_split(const Call& call,
                                              const control::RollbackTarget& target) {
  std::optional<std::int64_t> id = target.deployment_id;
  if (!id && target.checkpoint_id) {
    if (auto list = call.deployments.checkpoints(call.params[0])) {
      for (const auto& c : *list) {
        if (c.id == *target.checkpoint_id) {
          id = c.deployment_id;
        }
      }
    }
  }
  if (!id) {
    return {};
  }
  auto d = call.deployments.deployment(call.params[0], *id);
  return d ? d->split : std::vector<model::SplitEntry>{};
}

Result<Reply> set_split(const Call& call) {
  auto body = body_with(call.request, {"split", "message", "expected_revision", "force"});
  if (!body) {
    return body.error();
  }
  auto split = parse_split(*body);
  if (!split) {
    return split.error();
  }
  auto message = string_field(*body, "message");
  if (!message) {
    return message.error();
  }
  auto expected = int_field(*body, "expected_revision");
  if (!expected) {
    return expected.error();
  }
  auto force = bool_field(*body, "force");
  if (!force) {
    return force.error();
  }
  if (auto s = prepare_split(call, *split); !s) {
    return s.error();
  }
  // Versions the body does not name get 0 (set_split fills them in).
  auto d = call.deployments.set_split(call.params[0], *split, call.actor, message->value_or(""),
                                      *expected, force->value_or(false));
  if (!d) {
    return d.error();
  }
  json::object o = api_json(d->deployment);
  o["changed"] = d->changed;
  return Reply{d->changed ? bhttp::status::created : bhttp::status::ok, std::move(o)};
}

Result<Reply> rollback(const Call& call) {
  auto body = body_with(call.request, {"deployment_id", "checkpoint_id", "message"});
  if (!body) {
    return body.error();
  }
  auto deployment_id = int_field(*body, "deployment_id");
  if (!deployment_id) {
    return deployment_id.error();
  }
  auto checkpoint_id = int_field(*body, "checkpoint_id");
  if (!checkpoint_id) {
    return checkpoint_id.error();
  }
  auto message = string_field(*body, "message");
  if (!message) {
    return message.error();
  }
  control::RollbackTarget target{*deployment_id, *checkpoint_id};
  if (auto s = prepare_split(call, rollback_split(call, target)); !s) {
    return s.error();
  }
  auto d = call.deployments.rollback(call.params[0], target, call.actor, message->value_or(""));
  if (!d) {
    return d.error();
  }
  return Reply{bhttp::status::created, api_json(*d)};
}

Result<Reply> list_checkpoints(const Call& call) {
  auto list = call.deployments.checkpoints(call.params[0]);
  if (!list) {
    return list.error();
  }
  return Reply{bhttp::status::ok, json::object{{"checkpoints", api_list(*list)}}};
}

Result<Reply> create_checkpoint(const Call& call) {
  auto body = body_with(call.request, {"note"});
  if (!body) {
    return body.error();
  }
  auto note = string_field(*body, "note");
  if (!note) {
    return note.error();
  }
  auto c = call.deployments.checkpoint(call.params[0], note->value_or(""), call.actor);
  if (!c) {
    return c.error();
  }
  return Reply{bhttp::status::created, api_json(*c)};
}

constexpr std::array<Endpoint, 6> kDeploymentEndpoints = {{
    {Verb::get, "services/{service}/deployments", Role::kReadOnly, "limit", &list_deployments},
    {Verb::post, "services/{service}/deployments", Role::kDeployer, "", &set_split},
    {Verb::get, "services/{service}/deployments/{id}", Role::kReadOnly, "", &get_deployment},
    {Verb::post, "services/{service}/rollback", Role::kDeployer, "", &rollback},
    {Verb::get, "services/{service}/checkpoints", Role::kReadOnly, "", &list_checkpoints},
    {Verb::post, "services/{service}/checkpoints", Role::kDeployer, "", &create_checkpoint},
}};

}  // namespace

std::span<const Endpoint> deployment_endpoints() { return kDeploymentEndpoints; }

}  // namespace rampart::admin
