// The deploy path's part for versions that rampart runs: the API's "run" field and seed 002's
// environment gate (admin/run_version.hpp).

#include "admin/run_version.hpp"

#include "model/run_codec.hpp"
#include "runner/env_check.hpp"
#include "runner/instance_env.hpp"

#include <fmt/format.h>

#include <utility>

namespace rampart::admin {

namespace json = boost::json;

namespace {

// The version's RunSpec: the one the deploy declares, else the stored version's; nullopt for a
// version served by upstreams (or one that does not exist: start() says so).
Result<std::optional<model::RunSpec>> run_of(const Call& call, const control::DeployRequest& req) {
  if (req.run) {
    return req.run;
  }
  auto versions = call.deployments.versions(req.service);
  if (!versions) {
    return versions.error().code == Errc::kNotFound ? Result<std::optional<model::RunSpec>>{}
                                                    : versions.error();
  }
  for (const auto& v : *versions) {
    if (v.name == req.version) {
      return v.run;
    }
  }
  return std::optional<model::RunSpec>{};
}

}  // namespace

Status check_environment(const Call& call, control::DeployRequest& req) {
  auto run = run_of(call, req);
  if (!run || !*run) {
    return run ? Status{} : Status{run.error()};
  }
  const runner::SecretValues secrets = call.extensions.secrets != nullptr
                                           ? runner::secret_values(*call.extensions.secrets)
                                           : runner::SecretValues{};
  auto vars = runner::instance_env(req.service, **run, secrets);
  if (!vars) {
    return make_error(Errc::kInvalidArgument, "env: " + vars.error().message);
  }
  auto report = runner::check_env((*run)->env_spec, *vars);
  if (!report) {
    return report.error();
  }
  if (!report->ok()) {
    return make_error(Errc::kInvalidArgument, runner::env_error_text(*report));
  }
  const std::string warning = runner::env_warning_text(*report);
  if (req.pre.size() < control::kMaxPreResults) {
    req.pre.push_back(
        control::PreResult{warning.empty() ? "env check" : "env check (" + warning + ")", true, 0});
  }
  return {};
}

// "run": {"argv": ["./server", "--port", "{port}"], "instances": 2, ...}: a version that
// rampart runs. Fields left out take RunSpec's defaults; an unknown one is refused.
Result<std::optional<model::RunSpec>> run_field(const json::object& body) {
  const auto* v = body.if_contains("run");
  if (v == nullptr || v->is_null()) {
    return std::optional<model::RunSpec>{};
  }
  const auto* given = v->if_object();
  if (given == nullptr) {
    return make_error(Errc::kInvalidArgument,
                      "run: must be an object, e.g. {\"argv\": [\"./server\", \"--port\", "
                      "\"{port}\"], \"instances\": 2}");
  }
  json::object full = model::to_json(model::RunSpec{});
  for (const auto& [key, value] : *given) {
    if (!full.contains(key)) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("run: unknown field \"{}\"; known: argv, instances, workdir, "
                                    "env, secrets, grace_ms, env_required, env_optional, "
                                    "env_formats",
                                    std::string_view(key)));
    }
    full[key] = value;
  }
  auto run = model::run_spec_from_json(full, "run");
  if (!run) {
    return run.error();
  }
  return std::optional(std::move(*run));
}

}  // namespace rampart::admin
