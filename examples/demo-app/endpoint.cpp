#include "endpoint.hpp"

#include <fmt/format.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <cctype>
#include <charconv>
#include <iterator>

namespace rampart::demo {
namespace {

namespace json = boost::json;

json::string_view js(std::string_view s) { return json::string_view(s.data(), s.size()); }

// The decimal number that makes up all of `text`; false when there is none or it overflows.
bool parse_number(std::string_view text, uint64_t& out) {
  if (text.empty()) {
    return false;
  }
  const char* end = text.data() + text.size();
  auto [at, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && at == end;
}

// True when `path` starts with `prefix`; `rest` is then what follows it.
bool strip_prefix(std::string_view path, std::string_view prefix, std::string_view& rest) {
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) {
    return false;
  }
  rest = path.substr(prefix.size());
  return true;
}

}  // namespace

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

Endpoint route(std::string_view target) {
  const std::string_view path = path_of(target);
  if (path == "/health") {
    return {EndpointKind::kHealth, 0};
  }
  if (path == "/count") {
    return {EndpointKind::kCount, 0};
  }
  if (path == "/echo") {
    return {EndpointKind::kEcho, 0};
  }
  if (path == "/headers") {
    return {EndpointKind::kHeaders, 0};
  }
  if (std::string_view kind; strip_prefix(path, "/broken/", kind)) {
    for (std::size_t i = 0; i < std::size(kBrokenAnswers); ++i) {
      if (kBrokenAnswers[i].kind == kind) {
        return {EndpointKind::kBroken, i};
      }
    }
    return {EndpointKind::kBadArgument, 0};
  }
  if (std::string_view variable; strip_prefix(path, "/env/", variable)) {
    if (variable.empty() || variable.find_first_of("/=") != std::string_view::npos) {
      return {EndpointKind::kBadArgument, 0};
    }
    return {EndpointKind::kEnv, 0, variable};
  }
  struct Numbered {
    std::string_view prefix;
    EndpointKind kind;
  };
  static constexpr Numbered kNumbered[] = {
      {"/bytes/", EndpointKind::kBytes},         {"/chunked/", EndpointKind::kChunked},
      {"/sleep/", EndpointKind::kSleep},         {"/status/", EndpointKind::kStatus},
      {"/countdown/", EndpointKind::kCountdown}, {"/exit/", EndpointKind::kExit},
  };
  for (const auto& n : kNumbered) {
    std::string_view rest;
    if (!strip_prefix(path, n.prefix, rest)) {
      continue;
    }
    uint64_t number = 0;
    if (!parse_number(rest, number)) {
      return {EndpointKind::kBadArgument, 0};
    }
    if (n.kind == EndpointKind::kSleep && number > kMaxSleepMs) {
      return {EndpointKind::kBadArgument, number};
    }
    if (n.kind == EndpointKind::kStatus && (number < 200 || number > 599)) {
      return {EndpointKind::kBadArgument, number};
    }
    if (n.kind == EndpointKind::kExit && number > 255) {
      return {EndpointKind::kBadArgument, number};
    }
    return {n.kind, number};
  }
  return {EndpointKind::kDefault, 0};
}

std::string health_body(std::string_view name) {
  return json::serialize(json::object{{"status", "ok"}, {"name", js(name)}});
}

std::string default_body(std::string_view name, std::string_view method, std::string_view target) {
  return json::serialize(
      json::object{{"name", js(name)}, {"method", js(method)}, {"path", js(target)}});
}

std::string injected_error_body(std::string_view name) {
  return json::serialize(json::object{{"error", "injected"}, {"name", js(name)}});
}

std::string count_body(uint64_t bytes, uint64_t xxh64) {
  return fmt::format(R"({{"bytes":{},"xxh64":"{:016x}"}})", bytes, xxh64);
}

std::string status_body(unsigned status, std::string_view name) {
  return json::serialize(json::object{{"status", status}, {"name", js(name)}});
}

std::string sleep_body(uint64_t ms, std::string_view name) {
  return json::serialize(json::object{{"slept_ms", ms}, {"name", js(name)}});
}

std::string error_body(std::string_view error, std::string_view detail, std::string_view name) {
  return json::serialize(
      json::object{{"error", js(error)}, {"detail", js(detail)}, {"name", js(name)}});
}

std::string exit_body(uint64_t code, std::string_view name) {
  return json::serialize(json::object{{"exiting", code}, {"name", js(name)}});
}

std::string headers_body(const std::vector<std::pair<std::string, std::string>>& fields) {
  json::object out;
  for (const auto& [raw_name, value] : fields) {
    std::string name = raw_name;
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto it = out.find(name);
    if (it == out.end()) {
      out.emplace(name, js(value));
      continue;
    }
    json::string& joined = it->value().as_string();
    joined.append(", ");
    joined.append(js(value));
  }
  return json::serialize(out);
}

}  // namespace rampart::demo
