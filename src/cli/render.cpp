#include "cli/render.hpp"

#include "cli/split_arg.hpp"
#include "cli/table.hpp"
#include "cli/times.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <filesystem>
#include <optional>

namespace rampart::cli {
namespace json = boost::json;
namespace {

const json::value kNull;

// obj[key], or null when `v` is not an object or lacks the key.
const json::value& field(const json::value& v, std::string_view key) {
  const auto* obj = v.if_object();
  if (obj == nullptr) {
    return kNull;
  }
  const auto* found = obj->if_contains(key);
  return found == nullptr ? kNull : *found;
}

std::optional<double> number(const json::value& v) {
  if (v.is_int64()) {
    return static_cast<double>(v.get_int64());
  }
  if (v.is_uint64()) {
    return static_cast<double>(v.get_uint64());
  }
  if (v.is_double()) {
    return v.get_double();
  }
  return std::nullopt;
}

std::optional<std::int64_t> integer(const json::value& v) {
  if (v.is_int64()) {
    return v.get_int64();
  }
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double() && std::trunc(v.get_double()) == v.get_double() &&
      std::fabs(v.get_double()) < 9e15) {
    return static_cast<std::int64_t>(v.get_double());
  }
  return std::nullopt;
}

// A scalar as text: a string as it is, a number in its shortest form, "-" for null or missing,
// anything else as JSON.
std::string text(const json::value& v) {
  if (v.is_string()) {
    return std::string(v.get_string());
  }
  if (auto i = integer(v)) {
    return std::to_string(*i);
  }
  if (v.is_double()) {
    return fmt::format("{}", v.get_double());
  }
  if (v.is_null()) {
    return "-";
  }
  return json::serialize(v);
}

std::string text(const json::value& v, std::string_view key) { return text(field(v, key)); }

// A number with at most `decimals` decimals, trailing zeros dropped: 0.50 -> "0.5", 2.00 -> "2".
std::string short_number(double x, int decimals) {
  std::string s = fmt::format("{:.{}f}", x, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') {
      s.pop_back();
    }
    if (s.back() == '.') {
      s.pop_back();
    }
  }
  return s == "-0" ? "0" : s;
}

std::string percent_of(const json::value& v) {
  auto x = number(v);
  if (!x || *x < 0 || *x > 100) {
    return text(v);
  }
  return format_percent(static_cast<std::uint32_t>(std::llround(*x * 100))) + "%";
}

std::string milliseconds(const json::value& v) {
  auto x = number(v);
  if (!x) {
    return "-";
  }
  int decimals = *x < 10 ? 2 : (*x < 100 ? 1 : 0);
  return short_number(*x, decimals) + "ms";
}

std::string join_strings(const json::value& v, std::string_view sep) {
  const auto* arr = v.if_array();
  if (arr == nullptr) {
    return text(v);
  }
  std::string out;
  for (const auto& item : *arr) {
    if (!out.empty()) {
      out += sep;
    }
    out += text(item);
  }
  return out.empty() ? "-" : out;
}

std::string plural(std::int64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

const json::array& array_or_empty(const json::value& v) {
  static const json::array kEmpty;
  const auto* arr = v.if_array();
  return arr == nullptr ? kEmpty : *arr;
}

// The first line of `s`.
std::string first_line(std::string_view s) {
  auto nl = s.find('\n');
  std::string line(s.substr(0, nl));
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

// Whether a 404's detail already says so in its own words.
bool says_not_found(std::string_view detail) {
  for (std::string_view phrase : {"not found", "does not exist", "unknown", "no such"}) {
    if (detail.find(phrase) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string split_text(const json::value& split) {
  const auto* obj = split.if_object();
  if (obj == nullptr || obj->empty()) {
    return "-";
  }
  std::string out;
  for (const auto& [version, share] : *obj) {
    if (!out.empty()) {
      out += ", ";
    }
    out += fmt::format("{} {}", std::string_view(version), percent_of(share));
  }
  return out;
}

std::string deployment_line(const json::value& d) {
  std::string line = fmt::format("{}: deployment {} ({}) {}", text(d, "service"), text(d, "id"),
                                 text(d, "cause"), split_text(field(d, "split")));
  if (!field(d, "rolled_back_to").is_null()) {
    line += fmt::format("; rolled back from {} to {}", text(d, "rolled_back_from"),
                        text(d, "rolled_back_to"));
  }
  return line;
}

std::string checkpoint_line(const json::value& c) {
  return fmt::format("{}: checkpoint {} of deployment {}", text(c, "service"), text(c, "id"),
                     text(c, "deployment_id"));
}

std::string apply_summary(const json::value& answer, std::string_view source) {
  const json::value& changed = field(answer, "changed");
  if (changed.is_bool() && !changed.get_bool()) {
    return fmt::format("no change: the store already holds {}\n", source);
  }
  const auto& deployments = array_or_empty(field(answer, "deployments"));
  if (deployments.empty()) {
    return fmt::format("{} applied at revision {}: no split changed\n", source,
                       text(answer, "revision"));
  }
  std::string out;
  for (const auto& d : deployments) {
    out += deployment_line(d) + "\n";
  }
  return out;
}

std::string split_summary(const json::value& answer) {
  const json::value& changed = field(answer, "changed");
  if (changed.is_bool() && !changed.get_bool()) {
    return fmt::format(
        "{}: no change: deployment {} serves {} already (--force makes a new deployment)\n",
        text(answer, "service"), text(answer, "id"), split_text(field(answer, "split")));
  }
  return deployment_line(answer) + "\n";
}

std::string reload_summary(const json::value& answer) {
  if (auto generation = integer(field(answer, "generation"))) {
    return fmt::format("reloaded: routes generation {}\n", *generation);
  }
  const json::value& changed = field(answer, "changed");
  if (changed.is_bool() && !changed.get_bool()) {
    return "reloaded: no change, the store already holds the server's config file\n";
  }
  if (changed.is_bool()) {
    return apply_summary(answer, "the server's config file");
  }
  return "reloaded\n";
}

std::string token_created(const json::value& answer) {
  return fmt::format(
      "token \"{}\" ({}): {}\n"
      "The secret is shown only this once (rampart keeps only its SHA-256); store it now.\n",
      text(answer, "name"), text(answer, "role"), text(answer, "token"));
}

std::string services_table(const json::value& services, std::int64_t now_ms) {
  std::vector<Row> rows;
  for (const auto& s : array_or_empty(services)) {
    const json::value& latest = field(s, "latest");
    Row row{text(s, "name"), join_strings(field(s, "routes"), ",")};
    if (latest.is_object()) {
      row.push_back(fmt::format("{} ({})", text(latest, "id"), text(latest, "cause")));
      row.push_back(split_text(field(latest, "split")));
      row.push_back(age_of(text(latest, "created_at"), now_ms));
    } else {
      row.insert(row.end(), {"none", "-", "-"});
    }
    rows.push_back(std::move(row));
  }
  return render_table({"NAME", "ROUTES", "DEPLOYMENT", "SPLIT", "AGE"}, rows);
}

std::string deployments_table(const json::value& deployments) {
  std::vector<Row> rows;
  for (const auto& d : array_or_empty(deployments)) {
    rows.push_back({text(d, "id"), text(d, "created_at"), text(d, "cause"), text(d, "author"),
                    split_text(field(d, "split")), text(d, "message")});
  }
  return render_table({"ID", "CREATED", "CAUSE", "AUTHOR", "SPLIT", "MESSAGE"}, rows);
}

std::string audit_table(const json::value& events) {
  std::vector<Row> rows;
  for (const auto& e : array_or_empty(events)) {
    rows.push_back(
        {text(e, "seq"), text(e, "at"), text(e, "actor"), text(e, "action"), text(e, "target")});
  }
  return render_table({"SEQ", "AT", "ACTOR", "ACTION", "TARGET"}, rows);
}

std::string tokens_table(const json::value& tokens) {
  std::vector<Row> rows;
  for (const auto& t : array_or_empty(tokens)) {
    const bool revoked = field(t, "revoked_at").is_string();
    rows.push_back({text(t, "name"), text(t, "role"), text(t, "created_at"),
                    field(t, "expires_at").is_string() ? text(t, "expires_at") : "never",
                    revoked ? "revoked " + text(t, "revoked_at") : "active"});
  }
  return render_table({"NAME", "ROLE", "CREATED", "EXPIRES", "STATE"}, rows);
}

std::string token_revoked(const json::value& answer) {
  return fmt::format("token \"{}\" revoked at {}: it is refused from now on\n",
                     text(answer, "name"), text(answer, "revoked_at"));
}

// One "warning:" line per upstream the gateway has no address for, from the API's
// metrics.{version}.upstreams.
std::string upstream_problems(const json::value& metrics) {
  std::string out;
  if (!metrics.is_object()) {
    return out;
  }
  for (const auto& [version, m] : metrics.get_object()) {
    for (const auto& u : array_or_empty(field(m, "upstreams"))) {
      if (text(u, "state") == "ok") {
        continue;
      }
      out += fmt::format("warning: {} upstream {} {}: its requests get 503 until it resolves\n",
                         std::string_view(version), text(u, "upstream"), text(u, "problem"));
    }
  }
  return out;
}

// The UPSTREAMS cell of a version rampart runs: "run: 2/2 ready".
std::string run_cell(const json::value& v) {
  const json::value& status = field(v, "instances");
  const auto wanted = integer(field(field(v, "run"), "instances")).value_or(0);
  std::int64_t ready = 0;
  for (const auto& i : array_or_empty(field(status, "instances"))) {
    const json::value& r = field(i, "ready");
    ready += (r.is_bool() && r.get_bool()) ? 1 : 0;
  }
  if (!status.is_object()) {
    return fmt::format("run: {} (not running)", wanted);
  }
  return fmt::format("run: {}/{} ready ({})", ready, wanted, text(status, "phase"));
}

// One line per instance of the versions rampart runs (seed 001's churn watch: young instances
// and restarts), then a version's start error; empty when none runs.
std::string instances_text(const json::value& versions, std::int64_t now_ms) {
  std::vector<Row> rows;
  std::string errors;
  for (const auto& v : array_or_empty(versions)) {
    const json::value& status = field(v, "instances");
    for (const auto& i : array_or_empty(field(status, "instances"))) {
      const json::value& ready = field(i, "ready");
      const std::string started = text(i, "started_at");
      rows.push_back({text(v, "name") + "/" + text(i, "id"), text(i, "pid"), text(i, "port"),
                      ready.is_bool() && ready.get_bool() ? "ready" : "not ready",
                      started == "-" ? "-" : age_of(started, now_ms), text(i, "requests"),
                      text(i, "restarts"), text(i, "last_exit")});
    }
    if (field(status, "churning").is_bool() && field(status, "churning").get_bool()) {
      errors += fmt::format("warning: {} restarts often ({} restarts)\n", text(v, "name"),
                            text(status, "restarts"));
    }
    if (field(status, "error").is_string()) {
      errors += fmt::format("{}: {}\n", text(v, "name"), text(status, "error"));
    }
  }
  if (rows.empty() && errors.empty()) {
    return "";
  }
  return fmt::format(
      "\n{}{}",
      render_table({"INSTANCE", "PID", "PORT", "STATE", "UP", "REQUESTS", "RESTARTS", "LAST EXIT"},
                   rows),
      errors);
}

std::string service_detail(const json::value& s, std::int64_t now_ms) {
  std::vector<Row> head;
  head.push_back({"service:", text(s, "name")});
  head.push_back({"routes:", join_strings(field(s, "routes"), ", ")});
  head.push_back({"sticky:", text(s, "sticky")});
  if (!field(s, "balance").is_null()) {
    head.push_back({"balance:", text(s, "balance")});
  }
  const json::value& latest = field(s, "latest");
  if (latest.is_object()) {
    std::string created = text(latest, "created_at");
    head.push_back({"deployment:", fmt::format("{} ({}) by {}, {} ({} ago)", text(latest, "id"),
                                               text(latest, "cause"), text(latest, "author"),
                                               created, age_of(created, now_ms))});
    std::string message = text(latest, "message");
    head.push_back({"message:", message.empty() ? "-" : message});
  } else {
    head.push_back({"deployment:", "none"});
  }
  if (!field(s, "checkpoints").is_null()) {
    head.push_back({"checkpoints:", text(s, "checkpoints")});
  }
  // Aligned "key: value" lines: a table whose first line stands in for the header.
  std::string out = render_table(head.front(), {head.begin() + 1, head.end()});

  const json::value& split = latest.is_object() ? field(latest, "split") : kNull;
  const json::value& metrics = field(s, "metrics");
  std::vector<Row> rows;
  for (const auto& v : array_or_empty(field(s, "versions"))) {
    std::string name = text(v, "name");
    const json::value& share = field(split, name);
    std::string weight = split.is_object() ? (share.is_null() ? "0%" : percent_of(share)) : "-";
    Row row{name, weight,
            field(v, "run").is_object() ? run_cell(v) : join_strings(field(v, "upstreams"), ",")};
    const json::value& m = field(metrics, name);
    auto requests = integer(field(m, "requests"));
    if (!m.is_object() || !requests) {
      row.insert(row.end(), {"-", "-", "-", "-"});
    } else {
      auto errors = integer(field(m, "5xx"));
      std::string rate = "-";
      if (*requests > 0 && errors) {
        rate =
            short_number(100.0 * static_cast<double>(*errors) / static_cast<double>(*requests), 2) +
            "%";
      }
      row.push_back(std::to_string(*requests));
      row.push_back(rate);
      row.push_back(milliseconds(field(m, "p50_ms")));
      row.push_back(milliseconds(field(m, "p99_ms")));
    }
    rows.push_back(std::move(row));
  }
  out += "\n";
  out += render_table({"VERSION", "WEIGHT", "UPSTREAMS", "REQUESTS", "5XX%", "P50", "P99"}, rows);
  out += upstream_problems(metrics);
  out += instances_text(field(s, "versions"), now_ms);

  const json::value& a = field(s, "analytics");
  if (a.is_object()) {
    auto count = [&](std::string_view key) { return integer(field(a, key)).value_or(0); };
    auto rate = number(field(a, "success_rate"));
    out += fmt::format("\nanalytics: {}, {}, {} rolled back, success rate {}\n",
                       plural(count("deployments"), "deployment", "deployments"),
                       plural(count("rollbacks"), "rollback", "rollbacks"), count("rolled_back"),
                       rate ? short_number(*rate * 100, 1) + "%" : "-");
  }
  return out;
}

std::string api_error_message(unsigned status, std::string_view body,
                              const ClientSettings& settings) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::value& detail_v = ec ? kNull : field(v, "detail");
  const json::value& code_v = ec ? kNull : field(v, "error");
  if (!detail_v.is_string() && !code_v.is_string()) {
    std::string line = first_line(body);
    if (line.size() > 200) {
      line = line.substr(0, 200) + "...";
    }
    return fmt::format(
        "{} does not answer as a rampart admin API (HTTP {}{}{}); check --addr, $RAMPART_ADDR or "
        "the data directory's admin.addr",
        settings.address, status, line.empty() ? "" : ": ", line);
  }
  std::string code = code_v.is_string() ? std::string(code_v.get_string()) : "";
  std::string detail = !detail_v.is_string()      ? ""
                       : code == "invalid_config" ? std::string(detail_v.get_string())
                                                  : first_line(detail_v.get_string());
  if (status == 401) {
    const std::string how =
        "pass --token SECRET, set RAMPART_TOKEN, or point --data (or RAMPART_DATA) at the "
        "server's data directory, whose admin.token is read";
    if (settings.token.empty()) {
      return fmt::format(
          "the admin API at {} needs a token and none was found (no --token, no $RAMPART_TOKEN, "
          "no {}); {}",
          settings.address, (std::filesystem::path(settings.data_dir) / "admin.token").string(),
          how);
    }
    return fmt::format("the admin API at {} refused the token from {} ({}); {}", settings.address,
                       settings.token_source, detail.empty() ? code : detail, how);
  }
  if (detail.empty()) {
    detail = code;
  }
  const json::value& field_v = field(v, "field");
  if (field_v.is_string() && !field_v.get_string().empty() &&
      !detail.starts_with(std::string_view(field_v.get_string()))) {
    detail = fmt::format("{}: {}", std::string_view(field_v.get_string()), detail);
  }
  if (status == 403 && detail.find("forbidden") == std::string::npos) {
    detail = "forbidden: " + detail;
  }
  if (status == 404 && !says_not_found(detail)) {
    detail = "not found: " + detail;
  }
  return detail;
}

}  // namespace rampart::cli
