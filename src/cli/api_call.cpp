// What every client verb shares (cli/commands.hpp, "What the verbs in other files share"):
// one admin API call and its answer's shape, the one-line failure, integer options, paths.

#include "cli/commands.hpp"

#include "cli/render.hpp"
#include "common/json_text.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <limits>

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

std::string service_path(std::string_view service) {
  return "/api/v1/services/" + encode_path_segment(service);
}

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

}  // namespace rampart::cli
