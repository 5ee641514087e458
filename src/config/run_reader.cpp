#include "config/run_reader.hpp"

#include <map>

namespace rampart::config {

namespace {

constexpr std::array<std::string_view, 4> kEnvKeys = {"set", "required", "optional", "formats"};
constexpr Range kInstances{1, model::kMaxInstances, ""};

// The strings of an optional array key, checked as variable names.
std::vector<std::string> names_at(Reader& r, const Scope& s, std::string_view key) {
  std::vector<std::string> out;
  if (s.table.get(key) == nullptr) {
    return out;
  }
  auto items = r.strings_at(s, key, "[\"API_KEY\"]");
  if (!items) {
    return out;
  }
  for (const auto* v : *items) {
    if (!model::is_valid_env_name(v->get())) {
      r.fail(*v, s.key(key) + ": " + in_quotes(v->get()) +
                     " is not a variable name; use letters, digits and '_', not starting with a "
                     "digit");
    } else {
      out.push_back(v->get());
    }
  }
  return out;
}

// A table of strings (`set`, `formats`) by variable name.
std::map<std::string, std::string> string_table_at(Reader& r, const Scope& s,
                                                   std::string_view key) {
  std::map<std::string, std::string> out;
  const toml::node* n = s.table.get(key);
  if (n == nullptr) {
    return out;
  }
  const auto* t = n->as_table();
  if (t == nullptr) {
    r.fail(*n, s.key(key) + " must be a table of strings, e.g. " + std::string(key) +
                   " = { LOG_LEVEL = \"info\" }");
    return out;
  }
  for (const auto& [name, value] : *t) {
    const auto* text = value.as_string();
    if (!model::is_valid_env_name(name.str())) {
      r.fail(value, s.key(key) + ": " + in_quotes(name.str()) + " is not a variable name");
    } else if (text == nullptr) {
      r.fail(value, s.key(key) + ": " + std::string(name.str()) + " must be a string, got " +
                        type_name(value));
    } else {
      out.emplace(std::string(name.str()), text->get());
    }
  }
  return out;
}

void read_env(Reader& r, const Scope& version, model::RunSpec& run) {
  const toml::table* t = r.sub_table(version, "env", "[service.version.env]");
  if (t == nullptr) {
    return;
  }
  const Scope s{*t, version.prefix, "in [service.version.env]"};
  r.reject_unknown(s, kEnvKeys);
  run.env = string_table_at(r, s, "set");
  if (auto port = run.env.find("PORT"); port != run.env.end()) {
    r.fail(*t, s.key("set") + ": PORT is set by rampart to each instance's port; remove it");
  }
  run.env_spec.required = names_at(r, s, "required");
  run.env_spec.optional = names_at(r, s, "optional");
  run.env_spec.formats = string_table_at(r, s, "formats");
}

}  // namespace

std::optional<model::RunSpec> read_run(Reader& r, const Scope& s) {
  if (s.table.get("run") == nullptr) {
    for (auto key : kRunKeys) {
      if (const toml::node* n = s.table.get(key); n != nullptr && key != "run") {
        r.fail(*n, s.key(key) +
                       " is only for a version that rampart runs; add run = "
                       "[\"./server\", \"--port\", \"{port}\"] or remove it");
      }
    }
    return std::nullopt;
  }
  model::RunSpec run;
  if (auto argv = r.strings_at(s, "run", "run = [\"./server\", \"--port\", \"{port}\"]")) {
    for (const auto* v : *argv) {
      run.argv.push_back(v->get());
    }
    if (run.argv.empty() || run.argv.front().empty()) {
      r.fail(*s.table.get("run"), s.key("run") +
                                      " must name a command, e.g. run = "
                                      "[\"./server\", \"--port\", \"{port}\"]");
    }
  }
  r.int_at(s, "instances", kInstances, run.instances);
  if (const auto* w = r.string_at(s, "workdir")) {
    run.workdir = w->get();
  }
  if (auto grace = r.duration_at(s, "grace", std::chrono::milliseconds(0),
                                 std::chrono::milliseconds(model::kMaxGraceMs))) {
    run.grace_ms = static_cast<std::uint32_t>(grace->count());
  }
  if (s.table.get("secrets") != nullptr) {
    run.secrets = names_at(r, s, "secrets");
  }
  read_env(r, s, run);
  return run;
}

}  // namespace rampart::config
