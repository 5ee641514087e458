#include "admin/router.hpp"

#include <algorithm>
#include <cctype>

namespace rampart::admin {

namespace bhttp = boost::beast::http;
using Verb = bhttp::verb;

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string percent_decoded(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part[i] == '%' && i + 2 < part.size() && hex_digit(part[i + 1]) >= 0 &&
        hex_digit(part[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(part[i + 1]) * 16 + hex_digit(part[i + 2]));
      i += 2;
    } else {
      out += part[i];
    }
  }
  return out;
}

// Whether `pattern` matches `parts`; the {…} segments in `params` if so.
bool matches(std::string_view pattern, const std::vector<std::string>& parts,
             std::vector<std::string>& params) {
  std::vector<std::string> found;
  std::size_t i = 0;
  while (!pattern.empty()) {
    const auto slash = pattern.find('/');
    const std::string_view segment = pattern.substr(0, slash);
    pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash + 1);
    if (i == parts.size()) {
      return false;
    }
    if (segment.starts_with('{')) {
      found.push_back(parts[i]);
    } else if (segment != parts[i]) {
      return false;
    }
    ++i;
  }
  if (i != parts.size()) {
    return false;
  }
  params = std::move(found);
  return true;
}

bool serves(Verb entry, Verb method) {
  return entry == method || (entry == Verb::get && method == Verb::head);
}

// Appends `method` (and HEAD after GET when the table says so) to the Allow list, once each.
void allow(std::string& list, Verb method, bool names_head) {
  std::vector<std::string_view> names{bhttp::to_string(method)};
  if (method == Verb::get && names_head) {
    names.emplace_back(bhttp::to_string(Verb::head));
  }
  for (const std::string_view name : names) {
    const auto listed = query_names(list);
    if (std::find(listed.begin(), listed.end(), name) == listed.end()) {
      list += (list.empty() ? "" : ", ") + std::string(name);
    }
  }
}

}  // namespace

EndpointMatch match_endpoint(std::span<const EndpointTable> tables, Verb method,
                             const std::vector<std::string>& parts) {
  EndpointMatch match;
  for (const auto& table : tables) {
    for (const auto& entry : table.endpoints) {
      std::vector<std::string> params;
      if (!matches(entry.pattern, parts, params)) {
        continue;
      }
      const bool current = table.conventions == Conventions::kCurrent;
      allow(match.allow, entry.method, current);
      match.query_first = match.query_first && !current;
      if (match.endpoint == nullptr && serves(entry.method, method)) {
        match.endpoint = &entry;
        match.params = std::move(params);
      }
    }
  }
  return match;
}

EndpointMatch match_endpoint(std::span<const Endpoint> table, Verb method,
                             const std::vector<std::string>& parts) {
  const EndpointTable one{table, Conventions::kCurrent};
  return match_endpoint(std::span(&one, 1), method, parts);
}

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty()) {
      parts.push_back(percent_decoded(part));
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool has_empty_segment(std::string_view path) { return path.find("//") != std::string_view::npos; }

std::vector<std::string_view> query_names(std::string_view list) {
  std::vector<std::string_view> names;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    while (name.starts_with(' ')) {
      name.remove_prefix(1);
    }
    if (!name.empty()) {
      names.push_back(name);
    }
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return names;
}

}  // namespace rampart::admin
