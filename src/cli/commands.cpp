#include "cli/commands.hpp"

#include "cli/render.hpp"
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

#include <fstream>
#include <sstream>

namespace rampart::cli {
namespace json = boost::json;
namespace {

int fail(Context& ctx, int code, std::string_view message) {
  // One line, whatever the message holds.
  std::string line(message.substr(0, message.find('\n')));
  ctx.err << "rampart: " << line << "\n";
  ctx.err.flush();
  return code;
}

std::int64_t now(const Context& ctx) { return ctx.now_ms ? ctx.now_ms() : now_unix_ms(); }

// Sends the request; the answer's JSON on 2xx. Otherwise prints the one-line error and answers
// nullopt.
std::optional<json::value> call(Context& ctx, std::string method, std::string target,
                                const json::object* body = nullptr) {
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
  boost::system::error_code ec;
  json::value v = json::parse(answer->body, ec);
  if (ec) {
    fail(ctx, kExitFailure,
         fmt::format("the admin API at {} answered {} {} with a body that is not JSON ({})",
                     ctx.settings.address, req.method, req.target, ec.message()));
    return std::nullopt;
  }
  return v;
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

// The array under `key` of an answer object; the answer itself when it is not an object.
json::value list_of(const json::value& answer, std::string_view key) {
  if (const auto* obj = answer.if_object()) {
    if (const auto* v = obj->if_contains(key); v != nullptr && v->is_array()) {
      return *v;
    }
    return json::array();
  }
  return answer;
}

std::string service_path(std::string_view service) {
  return "/api/v1/services/" + encode_path_segment(service);
}

// Adds "?name=value" or "&name=value".
void add_query(std::string& target, std::string_view name, std::int64_t value) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += fmt::format("{}={}", name, value);
}

}  // namespace

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
  auto answer = call(ctx, "POST", "/api/v1/apply", &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return apply_summary(v, args.file); });
}

int run_status(Context& ctx, const StatusArgs& args) {
  if (args.service.empty()) {
    auto answer = call(ctx, "GET", "/api/v1/services");
    if (!answer) {
      return kExitFailure;
    }
    json::value services = list_of(*answer, "services");
    return show(ctx, services, [&](const json::value& v) { return services_table(v, now(ctx)); });
  }
  auto answer = call(ctx, "GET", service_path(args.service));
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return service_detail(v, now(ctx)); });
}

int run_split(Context& ctx, const SplitArgs& args) {
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
  auto answer = call(ctx, "POST", service_path(args.service) + "/deployments", &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return deployment_line(v) + "\n"; });
}

int run_deployments_list(Context& ctx, const DeploymentsListArgs& args) {
  std::string target = service_path(args.service) + "/deployments";
  if (args.limit) {
    add_query(target, "limit", *args.limit);
  }
  auto answer = call(ctx, "GET", target);
  if (!answer) {
    return kExitFailure;
  }
  json::value deployments = list_of(*answer, "deployments");
  return show(ctx, deployments, [&](const json::value& v) { return deployments_table(v); });
}

int run_rollback(Context& ctx, const RollbackArgs& args) {
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
  auto answer = call(ctx, "POST", service_path(args.service) + "/rollback", &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return deployment_line(v) + "\n"; });
}

int run_checkpoint(Context& ctx, const CheckpointArgs& args) {
  json::object body;
  body["note"] = args.note;
  auto answer = call(ctx, "POST", service_path(args.service) + "/checkpoints", &body);
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
  auto answer = call(ctx, "GET", target);
  if (!answer) {
    return kExitFailure;
  }
  json::value events = list_of(*answer, "events");
  return show(ctx, events, [&](const json::value& v) { return audit_table(v); });
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
  auto answer = call(ctx, "POST", "/api/v1/tokens", &body);
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return token_created(v); });
}

int run_token_list(Context& ctx) {
  auto answer = call(ctx, "GET", "/api/v1/tokens");
  if (!answer) {
    return kExitFailure;
  }
  json::value tokens = list_of(*answer, "tokens");
  return show(ctx, tokens, [&](const json::value& v) { return tokens_table(v); });
}

int run_reload(Context& ctx) {
  auto answer = call(ctx, "POST", "/reload");
  if (!answer) {
    return kExitFailure;
  }
  return show(ctx, *answer, [&](const json::value& v) { return reload_summary(v); });
}

}  // namespace rampart::cli
