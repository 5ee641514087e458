#include "cli/commands.hpp"

#include "cli/render.hpp"
#include "cli/rollout_commands.hpp"
#include "cli/split_arg.hpp"
#include "cli/times.hpp"
#include "common/json_text.hpp"
#include "config/config.hpp"
#include "model/codec.hpp"
#include "model/records.hpp"

#include <fmt/format.h>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

namespace rampart::cli {
namespace json = boost::json;

int fail(Context& ctx, int code, std::string_view message) {
  std::string_view rest = message;
  do {
    const auto end = rest.find('\n');
    ctx.err << "rampart: " << rest.substr(0, end) << "\n";
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  } while (!rest.empty());
  ctx.err.flush();
  if (ctx.json) {
    json::object o;
    o["error"] = code == kExitUsage ? "invalid_argument" : "failed";
    o["detail"] = message;
    ctx.out << to_json_text(o) << "\n";
  }
  return code;
}

namespace {

std::int64_t now(const Context& ctx) { return ctx.now_ms ? ctx.now_ms() : now_unix_ms(); }

}  // namespace

std::optional<json::value> call(Context& ctx, std::string method, std::string target, Shape shape,
                                const json::object* body) {
  ApiRequest req{std::move(method), std::move(target),
                 body == nullptr ? std::string() : json::serialize(*body)};
  Result<HttpResult> answer = ctx.transport
                                  ? ctx.transport(req)
                                  : admin_request(ctx.settings.address, req.method, req.target,
                                                  req.body, ctx.settings.token);
  if (!answer) {
    fail(ctx, kExitFailure, answer.error().message);
    return std::nullopt;
  }
  if (answer->status < 200 || answer->status > 299) {
    fail(ctx, kExitFailure, api_error_message(answer->status, answer->body, ctx.settings));
    return std::nullopt;
  }
  auto not_rampart = [&](std::string_view why) {
    fail(ctx, kExitFailure,
         fmt::format("{} does not answer as a rampart admin API ({} {}: {}); check --addr, "
                     "$RAMPART_ADDR or the data directory's admin.addr",
                     ctx.settings.address, req.method, req.target, why));
    return std::nullopt;
  };
  auto v = parse_json(answer->body);
  if (!v) {
    return not_rampart("the answer is not JSON");
  }
  const auto* o = v->if_object();
  if (o == nullptr) {
    return not_rampart("the answer is not a JSON object");
  }
  for (std::string_view member : shape) {
    if (!o->contains(member)) {
      return not_rampart(fmt::format("the answer has no \"{}\"", member));
    }
  }
  return std::move(*v);
}

namespace {

// The service a verb names: an empty name is a usage error.
bool named(Context& ctx, std::string_view verb, std::string_view service) {
  if (!service.empty()) {
    return true;
  }
  fail(ctx, kExitUsage, fmt::format("{}: the service name is empty; name a service", verb));
  return false;
}

void print_json(Context& ctx, const json::value& v) { ctx.out << to_json_text(v) << "\n"; }

// Prints `value`: as JSON with --json, else as `human` renders it. Answers kExitOk.
template <class Human>
int show(Context& ctx, const json::value& value, Human human) {
  if (ctx.json) {
    print_json(ctx, value);
  } else {
    ctx.out << human(value);
  }
  return kExitOk;
}

// The array under `key` of an answer object (an empty one when it has none).
json::value list_of(const json::value& answer, std::string_view key) {
  if (const auto* obj = answer.if_object()) {
    if (const auto* v = obj->if_contains(key); v != nullptr && v->is_array()) {
      return *v;
    }
  }
  return json::array();
}

}  // namespace

std::string service_path(std::string_view service) {
  return "/api/v1/services/" + encode_path_segment(service);
}

namespace {

// Adds "?name=value" or "&name=value".
void add_query(std::string& target, std::string_view name, std::int64_t value) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += fmt::format("{}={}", name, value);
}

}  // namespace

Result<std::int64_t> parse_integer_option(std::string_view option, std::string_view text,
                                          std::int64_t min, std::int64_t max) {
  const std::string range = max == std::numeric_limits<std::int64_t>::max()
                                ? fmt::format("give a whole number from {} up", min)
                                : fmt::format("give a whole number from {} to {}", min, max);
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || p != end || (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: \"{}\" is not a whole number; {}", option, text, range));
  }
  if (ec == std::errc::result_out_of_range || v < min || v > max) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: {} is out of range; {}", option, text, range));
  }
  return v;
}

std::string encode_path_segment(std::string_view segment) {
  std::string out;
  for (char c : segment) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

int run_apply(Context& ctx, const ApplyArgs& args) {
  // The whole file is checked here first, so that a typo is reported with its line before
  // anything is sent.
  auto config = config::load_config(args.file);
  if (!config) {
    return fail(ctx, kExitFailure, config.error().message);
  }
  std::ifstream in(args.file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return fail(ctx, kExitFailure, fmt::format("cannot read config file \"{}\"", args.file));
  }
  json::object body;
  body["config"] = text.str();
  body["source"] = args.file;
  if (!args.message.empty()) {
    body["message"] = args.message;
  }
  auto answer = call(ctx, "POST", "/api/v1/apply", {"changed", "revision", "deployments"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return apply_summary(v, args.file); });
}

int run_status(Context& ctx, const StatusArgs& args) {
  if (!args.service && args.watch) {
    return fail(ctx, kExitUsage, "status: --watch follows one service's rollout; name it");
  }
  if (!args.service) {
    auto answer = call(ctx, "GET", "/api/v1/services", {"services"});
    if (!answer) {
      return kExitFailure;
    }
    return show(ctx, *answer, [&](const json::value& v) {
      return services_table(list_of(v, "services"), now(ctx));
    });
  }
  if (!named(ctx, "status", *args.service)) {
    return kExitUsage;
  }
  auto answer = call(ctx, "GET", service_path(*args.service), {"name", "versions"});
  if (!answer) {
    return kExitFailure;
  }
  const int code = show(ctx, *answer, [&](const json::value& v) {
    return service_detail(v, now(ctx)) + active_rollout_text(ctx, *args.service);
  });
  return args.watch ? watch_active_rollout(ctx, *args.service) : code;
}

int run_split(Context& ctx, const SplitArgs& args) {
  if (!named(ctx, "split", args.service)) {
    return kExitUsage;
  }
  auto shares = parse_split_args(args.shares);
  if (!shares) {
    return fail(ctx, kExitUsage, shares.error().message);
  }
  json::object split;
  for (const auto& share : *shares) {
    split[share.version] = model::percent_json(share.basis_points);
  }
  json::object body;
  body["split"] = std::move(split);
  if (!args.message.empty()) {
    body["message"] = args.message;
  }
  if (args.expect_revision) {
    body["expected_revision"] = *args.expect_revision;
  }
  if (args.force) {
    body["force"] = true;
  }
  auto answer = call(ctx, "POST", service_path(args.service) + "/deployments",
                     {"service", "id", "split"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return split_summary(v); });
}

int run_deployments_list(Context& ctx, const DeploymentsListArgs& args) {
  if (!named(ctx, "deployments list", args.service)) {
    return kExitUsage;
  }
  std::string target = service_path(args.service) + "/deployments";
  if (args.limit) {
    add_query(target, "limit", *args.limit);
  }
  auto answer = call(ctx, "GET", target, {"deployments"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer,
              [&](const json::value& v) { return deployments_table(list_of(v, "deployments")); });
}

int run_rollback(Context& ctx, const RollbackArgs& args) {
  if (!named(ctx, "rollback", args.service)) {
    return kExitUsage;
  }
  if (args.deployment_id && args.checkpoint_id) {
    return fail(ctx, kExitUsage,
                "rollback: give a deployment ID or --checkpoint N, not both (neither: the "
                "deployment before the latest)");
  }
  json::object body;
  if (args.deployment_id) {
    body["deployment_id"] = *args.deployment_id;
  }
  if (args.checkpoint_id) {
    body["checkpoint_id"] = *args.checkpoint_id;
  }
  if (!args.message.empty()) {
    body["message"] = args.message;
  }
  auto answer = call(ctx, "POST", service_path(args.service) + "/rollback",
                     {"service", "id", "split"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return deployment_line(v) + "\n"; });
}

int run_checkpoint(Context& ctx, const CheckpointArgs& args) {
  if (!named(ctx, "checkpoint", args.service)) {
    return kExitUsage;
  }
  if (args.note.find_first_not_of(" \t") == std::string::npos) {
    return fail(ctx, kExitUsage,
                "checkpoint: --note is empty; say what this point is, e.g. --note \"before the "
                "freeze\"");
  }
  json::object body;
  body["note"] = args.note;
  auto answer = call(ctx, "POST", service_path(args.service) + "/checkpoints",
                     {"service", "id", "deployment_id"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return checkpoint_line(v) + "\n"; });
}

int run_audit(Context& ctx, const AuditArgs& args) {
  std::string target = "/api/v1/audit";
  if (args.after) {
    add_query(target, "after", *args.after);
  }
  if (!args.since.empty()) {
    auto since = parse_since(args.since, now(ctx));
    if (!since) {
      return fail(ctx, kExitUsage, "audit: " + since.error().message);
    }
    add_query(target, "since", *since);
  }
  if (args.limit) {
    add_query(target, "limit", *args.limit);
  }
  auto answer = call(ctx, "GET", target, {"events"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer,
              [&](const json::value& v) { return audit_table(list_of(v, "events")); });
}

int run_token_create(Context& ctx, const TokenCreateArgs& args) {
  if (!model::parse_role(args.role)) {
    return fail(ctx, kExitUsage,
                fmt::format("token create: --role must be admin, deployer or read-only, not \"{}\"",
                            args.role));
  }
  json::object body;
  body["name"] = args.name;
  body["role"] = args.role;
  if (!args.expires.empty()) {
    auto ttl = parse_duration_ms(args.expires);
    if (!ttl) {
      return fail(ctx, kExitUsage, "token create: --expires: " + ttl.error().message);
    }
    body["expires_at"] = format_rfc3339(now(ctx) + *ttl);
  }
  auto answer = call(ctx, "POST", "/api/v1/tokens", {"name", "role", "token"}, &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return token_created(v); });
}

int run_token_list(Context& ctx) {
  auto answer = call(ctx, "GET", "/api/v1/tokens", {"tokens"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer,
              [&](const json::value& v) { return tokens_table(list_of(v, "tokens")); });
}

int run_token_revoke(Context& ctx, const TokenRevokeArgs& args) {
  if (args.name.empty()) {
    return fail(ctx, kExitUsage, "token revoke: the token name is empty; name a token");
  }
  auto answer = call(ctx, "DELETE", "/api/v1/tokens/" + encode_path_segment(args.name),
                     {"name", "revoked_at"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return token_revoked(v); });
}

int run_reload(Context& ctx) {
  auto answer = call(ctx, "POST", "/reload", {"status"});
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return reload_summary(v); });
}

}  // namespace rampart::cli
