#include "model/run_codec.hpp"

#include "model/fields.hpp"

#include <boost/json/array.hpp>

#include <string>

namespace rampart::model {

namespace json = boost::json;

using detail::Fields;
using detail::kUint32Max;
using detail::read_string_array;
using detail::string_array;

namespace {

json::object string_map(const std::map<std::string, std::string>& map) {
  json::object o;
  for (const auto& [k, v] : map) {
    o[k] = v;
  }
  return o;
}

std::map<std::string, std::string> read_string_map(Fields& f, std::string_view key) {
  std::map<std::string, std::string> out;
  const json::object* o = f.object(key);
  if (o == nullptr) {
    return out;
  }
  for (const auto& [k, v] : *o) {
    if (!v.is_string()) {
      f.fail(key, "must map names to strings");
      return {};
    }
    out.emplace(std::string(k), std::string(v.get_string()));
  }
  return out;
}

}  // namespace

json::object to_json(const RunSpec& run) {
  json::object o{
      {"argv", string_array(run.argv)},
      {"instances", run.instances},
      {"workdir", run.workdir},
      {"env", string_map(run.env)},
      {"grace_ms", run.grace_ms},
      {"env_required", string_array(run.env_spec.required)},
      {"env_optional", string_array(run.env_spec.optional)},
      {"env_formats", string_map(run.env_spec.formats)},
  };
  if (run.secrets) {
    o["secrets"] = string_array(*run.secrets);
  } else {
    o["secrets"] = nullptr;
  }
  return o;
}

Result<RunSpec> run_spec_from_json(const json::object& object, std::string_view kind) {
  Fields f(object, kind);
  RunSpec run;
  run.argv = read_string_array(f, "argv");
  run.instances = static_cast<std::uint32_t>(f.integer("instances", 1, kMaxInstances));
  run.workdir = f.string("workdir");
  run.env = read_string_map(f, "env");
  run.grace_ms = static_cast<std::uint32_t>(f.integer("grace_ms", 0, kUint32Max));
  run.env_spec.required = read_string_array(f, "env_required");
  run.env_spec.optional = read_string_array(f, "env_optional");
  run.env_spec.formats = read_string_map(f, "env_formats");
  if (const json::value* s = f.any("secrets"); s != nullptr && !s->is_null()) {
    run.secrets = read_string_array(f, "secrets");
  }
  if (run.argv.empty() && !f.error()) {
    f.fail("argv", "is empty; a version that rampart runs needs a command");
  }
  if (auto e = f.error()) {
    return *e;
  }
  return run;
}

}  // namespace rampart::model
