#include "model/run_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace rampart::model {

namespace {

Error invalid(std::string_view field, std::string_view what) {
  return make_error(Errc::kInvalidArgument, fmt::format("{}: {}", field, what));
}

Status check_names(std::string_view field, const std::vector<std::string>& names) {
  if (names.size() > kMaxEnvVariables) {
    return invalid(field,
                   fmt::format("lists {} names; at most {}", names.size(), kMaxEnvVariables));
  }
  std::set<std::string_view> seen;
  for (const auto& name : names) {
    if (!is_valid_env_name(name)) {
      return invalid(field, fmt::format("\"{}\" is not a variable name; use letters, digits and "
                                        "'_', not starting with a digit",
                                        name));
    }
    if (!seen.insert(name).second) {
      return invalid(field, fmt::format("\"{}\" is listed twice", name));
    }
  }
  return {};
}

Status check_argv(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.front().empty()) {
    return invalid("run.argv",
                   "is empty; give the command, e.g. [\"./server\", \"--port\", "
                   "\"{port}\"]");
  }
  if (argv.size() > kMaxArgs) {
    return invalid("run.argv", fmt::format("has {} arguments; at most {}", argv.size(), kMaxArgs));
  }
  for (const auto& arg : argv) {
    if (arg.size() > kMaxArgBytes || arg.find('\0') != std::string::npos) {
      return invalid("run.argv", fmt::format("each argument must be at most {} bytes without a "
                                             "NUL byte",
                                             kMaxArgBytes));
    }
  }
  return {};
}

Status check_env(const std::map<std::string, std::string>& env) {
  if (env.size() > kMaxEnvVariables) {
    return invalid("run.env",
                   fmt::format("sets {} variables; at most {}", env.size(), kMaxEnvVariables));
  }
  for (const auto& [name, value] : env) {
    if (!is_valid_env_name(name)) {
      return invalid("run.env", fmt::format("\"{}\" is not a variable name; use letters, digits "
                                            "and '_', not starting with a digit",
                                            name));
    }
    if (name == "PORT") {
      return invalid("run.env", "PORT is set by rampart to each instance's port; remove it");
    }
    if (value.size() > kMaxEnvValueBytes || value.find('\0') != std::string::npos) {
      return invalid("run.env", fmt::format("{}: a value must be at most {} bytes without a NUL "
                                            "byte",
                                            name, kMaxEnvValueBytes));
    }
  }
  return {};
}

Status check_env_spec(const EnvSpec& spec) {
  if (auto s = check_names("run.env_required", spec.required); !s) {
    return s;
  }
  if (auto s = check_names("run.env_optional", spec.optional); !s) {
    return s;
  }
  for (const auto& name : spec.required) {
    if (std::find(spec.optional.begin(), spec.optional.end(), name) != spec.optional.end()) {
      return invalid("run.env_optional",
                     fmt::format("\"{}\" is also required; list it in one of the two", name));
    }
  }
  for (const auto& [name, format] : spec.formats) {
    if (!is_valid_env_name(name)) {
      return invalid("run.env_formats", fmt::format("\"{}\" is not a variable name", name));
    }
    if (format.empty() || format.size() > kMaxFormatBytes) {
      return invalid("run.env_formats",
                     fmt::format("{}: a format must be 1 to {} bytes", name, kMaxFormatBytes));
    }
  }
  return {};
}

}  // namespace

Status validate_run_spec(const RunSpec& run) {
  if (auto s = check_argv(run.argv); !s) {
    return s;
  }
  if (run.instances < 1 || run.instances > kMaxInstances) {
    return invalid("run.instances",
                   fmt::format("is {}; it must be from 1 to {}", run.instances, kMaxInstances));
  }
  if (run.workdir.size() > kMaxArgBytes) {
    return invalid("run.workdir", fmt::format("must be at most {} bytes", kMaxArgBytes));
  }
  if (run.grace_ms > kMaxGraceMs) {
    return invalid("run.grace",
                   fmt::format("is {} ms; at most {} ms (10 minutes)", run.grace_ms, kMaxGraceMs));
  }
  if (auto s = check_env(run.env); !s) {
    return s;
  }
  if (run.secrets) {
    if (auto s = check_names("run.secrets", *run.secrets); !s) {
      return s;
    }
  }
  return check_env_spec(run.env_spec);
}

}  // namespace rampart::model
