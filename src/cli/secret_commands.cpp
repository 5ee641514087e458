#include "cli/secret_commands.hpp"

#include "cli/table.hpp"
#include "common/json_text.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

namespace rampart::cli {
namespace json = boost::json;

namespace {

Error invalid(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

void wipe(std::string& s) {
  std::fill(s.begin(), s.end(), '\0');
  s.clear();
}

// A member of an answer as text: a string as it is, a number in decimal, else "-".
std::string text_of(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* m = o == nullptr ? nullptr : o->if_contains(key);
  if (m == nullptr) {
    return "-";
  }
  if (m->is_string()) {
    return std::string(m->as_string());
  }
  if (m->is_int64()) {
    return std::to_string(m->as_int64());
  }
  return "-";
}

bool usable(Context& ctx, std::string_view verb, const SecretArgs& args, bool needs_name) {
  if (args.service.empty()) {
    fail(ctx, kExitUsage, fmt::format("{}: the service name is empty; name a service", verb));
    return false;
  }
  if (needs_name && args.name.empty()) {
    fail(ctx, kExitUsage, fmt::format("{}: the secret name is empty; name a secret", verb));
    return false;
  }
  return true;
}

std::string secret_path(const SecretArgs& args) {
  return service_path(args.service) + "/secrets/" + encode_path_segment(args.name);
}

// Echo off on the terminal `fd` while the object lives.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~EchoOff() {
    if (active_) {
      ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

Result<std::string> prompt_value(std::string_view name) {
  std::cerr << "value for " << name << ": " << std::flush;
  std::string line;
  {
    EchoOff quiet(STDIN_FILENO);
    std::getline(std::cin, line);
  }
  std::cerr << "\n";
  if (line.size() > kMaxSecretValueBytes) {
    wipe(line);
    return invalid(fmt::format("the value is longer than {} bytes", kMaxSecretValueBytes));
  }
  return line;
}

}  // namespace

Result<std::string> read_value(std::istream& in) {
  // One byte past the limit and its newline tells "too long" from "at the limit".
  const std::size_t most = kMaxSecretValueBytes + 1;
  std::string value(most + 1, '\0');
  in.read(value.data(), static_cast<std::streamsize>(value.size()));
  if (in.bad()) {
    wipe(value);
    return invalid("cannot read the value from stdin");
  }
  value.resize(static_cast<std::size_t>(in.gcount()));
  if (!value.empty() && value.back() == '\n') {
    value.pop_back();
  }
  if (value.size() > kMaxSecretValueBytes) {
    wipe(value);
    return invalid(
        fmt::format("the value on stdin is longer than {} bytes, the most a secret holds",
                    kMaxSecretValueBytes));
  }
  return value;
}

Result<std::string> read_value_from_stdin(std::string_view name) {
  if (::isatty(STDIN_FILENO) == 1) {
    return prompt_value(name);
  }
  return read_value(std::cin);
}

int run_secret_put(Context& ctx, const SecretArgs& args, const ValueReader& read) {
  if (!usable(ctx, "secret put", args, true)) {
    return kExitUsage;
  }
  auto value = read(args.name);
  if (!value) {
    return fail(ctx, kExitUsage, "secret put: " + value.error().message);
  }
  if (value->empty()) {
    return fail(ctx, kExitUsage,
                "secret put: the value is empty; give it on stdin, e.g. "
                "`printf %s \"$VALUE\" | rampart secret put SERVICE NAME`");
  }
  json::object body{{"value", *value}};
  wipe(*value);
  auto answer = call(ctx, "PUT", secret_path(args), {"name", "version"}, &body);
  auto& sent = body["value"].as_string();
  std::fill(sent.begin(), sent.end(), '\0');
  if (!answer) {
    return kExitFailure;
  }
  if (ctx.json) {
    ctx.out << to_json_text(*answer) << "\n";
    return kExitOk;
  }
  ctx.out << fmt::format("{}: secret {} version {} stored\n", args.service,
                         text_of(*answer, "name"), text_of(*answer, "version"));
  return kExitOk;
}

int run_secret_list(Context& ctx, const SecretArgs& args) {
  if (!usable(ctx, "secret list", args, false)) {
    return kExitUsage;
  }
  auto answer = call(ctx, "GET", service_path(args.service) + "/secrets", {"secrets"});
  if (!answer) {
    return kExitFailure;
  }
  if (ctx.json) {
    ctx.out << to_json_text(*answer) << "\n";
    return kExitOk;
  }
  ctx.out << secrets_table(answer->as_object().at("secrets"));
  return kExitOk;
}

int run_secret_delete(Context& ctx, const SecretArgs& args) {
  if (!usable(ctx, "secret delete", args, true)) {
    return kExitUsage;
  }
  auto answer = call(ctx, "DELETE", secret_path(args), {"name", "version"});
  if (!answer) {
    return kExitFailure;
  }
  if (ctx.json) {
    ctx.out << to_json_text(*answer) << "\n";
    return kExitOk;
  }
  ctx.out << fmt::format("{}: secret {} deleted (it was at version {})\n", args.service,
                         text_of(*answer, "name"), text_of(*answer, "version"));
  return kExitOk;
}

std::string secrets_table(const json::value& secrets) {
  std::vector<Row> rows;
  if (const auto* a = secrets.if_array()) {
    for (const auto& s : *a) {
      rows.push_back({text_of(s, "name"), text_of(s, "version"), text_of(s, "created_at")});
    }
  }
  return render_table({"NAME", "VERSION", "UPDATED"}, rows);
}

std::vector<Verb> register_secret_verbs(CLI::App& app, ClientOptions& client) {
  auto* secret = app.add_subcommand("secret", "A service's secrets (values never shown)");
  secret->require_subcommand(1);
  auto put_args = std::make_shared<SecretArgs>();
  auto* put = secret->add_subcommand(
      "put", "Store a secret's next version; the value is read from stdin, never an argument");
  put->add_option("SERVICE", put_args->service, "The service")->required();
  put->add_option("NAME", put_args->name, "The secret's name, e.g. API_KEY")->required();
  add_client_flags(put, client);
  auto list_args = std::make_shared<SecretArgs>();
  auto* list = secret->add_subcommand("list", "A service's secrets: names, versions, times");
  list->add_option("SERVICE", list_args->service, "The service")->required();
  add_client_flags(list, client);
  auto delete_args = std::make_shared<SecretArgs>();
  auto* remove = secret->add_subcommand("delete", "Delete a secret (audited)");
  remove->add_option("SERVICE", delete_args->service, "The service")->required();
  remove->add_option("NAME", delete_args->name, "The secret's name")->required();
  add_client_flags(remove, client);
  return {
      {put,
       [put_args](Context& ctx) { return run_secret_put(ctx, *put_args, &read_value_from_stdin); }},
      {list, [list_args](Context& ctx) { return run_secret_list(ctx, *list_args); }},
      {remove, [delete_args](Context& ctx) { return run_secret_delete(ctx, *delete_args); }}};
}

}  // namespace rampart::cli
