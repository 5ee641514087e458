#include "cli/verbs.hpp"

#include <CLI/CLI.hpp>

namespace rampart::cli {

void add_client_flags(CLI::App* verb, ClientOptions& o, const std::string& addr_names) {
  verb->add_option(addr_names, o.flags.address,
                   "Admin API address HOST:PORT or http://HOST:PORT (default: $RAMPART_ADDR, "
                   "else DATA/admin.addr, else 127.0.0.1:9901)");
  verb->add_option("--token", o.flags.token,
                   "API token (default: $RAMPART_TOKEN, else DATA/admin.token)");
  verb->add_option("--data", o.flags.data_dir,
                   "The server's data directory DATA (default: $RAMPART_DATA, else rampart-data)");
  verb->add_flag("--json", o.json, "Print the API's JSON instead of text");
}

void add_integer(CLI::App* verb, IntegerOption& o, const std::string& name, const std::string& help,
                 std::int64_t min, std::int64_t max) {
  o.option = verb->add_option(name, o.text, help);
  o.min = min;
  o.max = max;
}

Result<std::optional<std::int64_t>> given(const IntegerOption& o) {
  if (o.option == nullptr || o.option->count() == 0) {
    return std::optional<std::int64_t>{};
  }
  auto v = parse_integer_option(o.option->get_name(), o.text, o.min, o.max);
  if (!v) {
    return v.error();
  }
  return std::optional<std::int64_t>(*v);
}

std::string parsed_verb_path(const CLI::App& app) {
  std::string path;
  const CLI::App* at = &app;
  for (;;) {
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->parsed()) {
        next = sub;
        break;
      }
    }
    if (next == nullptr) {
      return path;
    }
    path += (path.empty() ? "" : " ") + next->get_name();
    at = next;
  }
}

int usage_error(std::ostream& err, const CLI::App& verb, std::string_view what) {
  std::string path = verb.get_name();
  for (const CLI::App* up = verb.get_parent(); up != nullptr && up->get_parent() != nullptr;
       up = up->get_parent()) {
    path.insert(0, " ").insert(0, up->get_name());
  }
  err << "rampart: " << path << ": " << what << " (see rampart " << path << " --help)\n";
  return kExitUsage;
}

}  // namespace rampart::cli
