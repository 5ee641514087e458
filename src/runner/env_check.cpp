#include "runner/env_check.hpp"

#include <boost/json/array.hpp>
#include <boost/regex.hpp>

#include <fmt/format.h>

#include <stdexcept>

namespace rampart::runner {

namespace json = boost::json;

namespace {

Error invalid(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

Status check_limits(const model::EnvSpec& spec, const std::map<std::string, std::string>& vars) {
  const std::size_t declared = spec.required.size() + spec.optional.size() + spec.formats.size();
  if (declared > kMaxEnvSpecVariables) {
    return invalid(
        fmt::format("env: the spec declares {} variables (required, optional and "
                    "formats together); at most {}",
                    declared, kMaxEnvSpecVariables));
  }
  if (vars.size() > kMaxEnvVariables) {
    return invalid(
        fmt::format("env: {} variables given; at most {}", vars.size(), kMaxEnvVariables));
  }
  for (const auto* list : {&spec.required, &spec.optional}) {
    for (const auto& name : *list) {
      if (name.empty()) {
        return invalid(fmt::format("env.{}: a variable name is empty",
                                   list == &spec.required ? "required" : "optional"));
      }
    }
  }
  return {};
}

// The value of `name` when it is given and not empty.
const std::string* given(const std::map<std::string, std::string>& vars, const std::string& name) {
  auto it = vars.find(name);
  if (it == vars.end() || it->second.empty()) {
    return nullptr;
  }
  return &it->second;
}

Result<boost::regex> compile(const std::string& name, const std::string& format) {
  if (name.empty()) {
    return invalid("env.formats: a variable name is empty");
  }
  if (format.size() > kMaxEnvFormatBytes) {
    return invalid(fmt::format("env.formats.{}: the format has {} bytes; at most {}", name,
                               format.size(), kMaxEnvFormatBytes));
  }
  try {
    return boost::regex(format, boost::regex::ECMAScript);
  } catch (const boost::regex_error& e) {
    return invalid(fmt::format("env.formats.{}: \"{}\" is not a valid ECMAScript regex: {}", name,
                               format, e.what()));
  }
}

// Why `value` does not satisfy `re`, or empty when it does. Never mentions the value.
// Boost.Regex matches without recursion and gives up (throws) on a match that backtracks
// without bound, so neither a long value nor a pathological format can exhaust the stack or
// hang the admin thread that checks it.
std::string mismatch(const boost::regex& re, const std::string& format, const std::string& value) {
  if (value.size() > kMaxFormatCheckedBytes) {
    return fmt::format("is longer than {} bytes, too long to check against {}",
                       kMaxFormatCheckedBytes, format);
  }
  try {
    if (boost::regex_match(value, re)) {
      return {};
    }
  } catch (const std::runtime_error& e) {
    return fmt::format("could not be checked against {}: {}", format, e.what());
  }
  return "must match " + format;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}

json::array string_array(const std::vector<std::string>& names) {
  json::array a;
  for (const auto& n : names) {
    a.emplace_back(n);
  }
  return a;
}

}  // namespace

Result<EnvReport> check_env(const model::EnvSpec& spec,
                            const std::map<std::string, std::string>& vars) {
  if (auto s = check_limits(spec, vars); !s) {
    return s.error();
  }
  EnvReport report;
  for (const auto& [name, format] : spec.formats) {
    auto re = compile(name, format);
    if (!re) {
      return re.error();
    }
    const std::string* value = given(vars, name);
    if (value == nullptr) {
      continue;
    }
    if (auto why = mismatch(*re, format, *value); !why.empty()) {
      report.malformed.push_back({name, format, std::move(why)});
    }
  }
  for (const auto& name : spec.required) {
    if (given(vars, name) == nullptr) {
      report.missing.push_back(name);
    }
  }
  for (const auto& name : spec.optional) {
    if (given(vars, name) == nullptr) {
      report.missing_optional.push_back(name);
    }
  }
  return report;
}

std::string env_error_text(const EnvReport& report) {
  std::string out;
  if (!report.missing.empty()) {
    out = "missing " + joined(report.missing);
  }
  if (!report.malformed.empty()) {
    out += out.empty() ? "malformed " : "; malformed ";
    bool first = true;
    for (const auto& m : report.malformed) {
      out += fmt::format("{}{} ({})", first ? "" : ", ", m.name, m.reason);
      first = false;
    }
  }
  return out.empty() ? out : "env: " + out;
}

std::string env_warning_text(const EnvReport& report) {
  if (report.missing_optional.empty()) {
    return {};
  }
  return "env: optional " + joined(report.missing_optional) + " not set";
}

json::object env_report_json(const EnvReport& report) {
  json::array malformed;
  for (const auto& m : report.malformed) {
    malformed.emplace_back(
        json::object{{"name", m.name}, {"format", m.format}, {"reason", m.reason}});
  }
  return json::object{{"ok", report.ok()},
                      {"missing", string_array(report.missing)},
                      {"malformed", std::move(malformed)},
                      {"missing_optional", string_array(report.missing_optional)}};
}

}  // namespace rampart::runner
