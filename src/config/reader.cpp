#include "config/reader.hpp"

#include "common/duration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace rampart::config {

uint32_t line_of(const toml::node& n) { return n.source().begin.line; }

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string> Reader::problems() {
  if (issues_.empty()) {
    return std::nullopt;
  }
  std::stable_sort(issues_.begin(), issues_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string all;
  for (const auto& [line, text] : issues_) {
    if (!all.empty()) {
      all += '\n';
    }
    all += at(line);
    all += text;
  }
  return all;
}

void Reader::reject_unknown(const Scope& s, Keys known) {
  for (auto&& [k, v] : s.table) {
    if (std::find(known.begin(), known.end(), k.str()) != known.end()) {
      continue;
    }
    std::string text = s.prefix + "unknown key " + in_quotes(k.str()) + " " + s.label;
    std::string_view best;
    std::size_t best_distance = std::max<std::size_t>(2, k.str().size() / 3) + 1;
    for (std::string_view candidate : known) {
      if (const std::size_t d = edit_distance(k.str(), candidate); d < best_distance) {
        best = candidate;
        best_distance = d;
      }
    }
    if (!best.empty()) {
      text += "; did you mean " + in_quotes(best) + "?";
    } else {
      text += "; the keys are";
      for (std::string_view candidate : known) {
        text += (candidate == known.front() ? " " : ", ") + std::string(candidate);
      }
    }
    fail(k.source().begin.line, std::move(text));
  }
}

void Reader::missing(const Scope& s, std::string_view key, std::string_view example) {
  fail(s.table, s.prefix + "missing key " + in_quotes(key) + " " + s.label + "; add " +
                    std::string(example));
}

const toml::table* Reader::sub_table(const Scope& s, std::string_view key,
                                     std::string_view header) {
  const toml::node* n = s.table.get(key);
  if (n != nullptr && !n->is_table()) {
    fail(*n, s.key(key) + " must be a table " + std::string(header) + ", got " + type_name(*n));
    return nullptr;
  }
  return n != nullptr ? n->as_table() : nullptr;
}

const toml::value<std::string>* Reader::string_at(const Scope& s, std::string_view key,
                                                  std::string_view example) {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) {
    if (!example.empty()) {
      missing(s, key, example);
    }
    return nullptr;
  }
  if (!n->is_string()) {
    fail(*n, s.key(key) + " must be a string, got " + type_name(*n));
  }
  return n->as_string();
}

std::optional<std::vector<const toml::value<std::string>*>> Reader::strings_at(
    const Scope& s, std::string_view key, std::string_view example) {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) {
    missing(s, key, example);
    return std::nullopt;
  }
  const toml::array* arr = n->as_array();
  if (arr == nullptr) {
    fail(*n, s.key(key) + " must be an array of strings, got " + type_name(*n) + "; write " +
                 std::string(example));
    return std::nullopt;
  }
  std::vector<const toml::value<std::string>*> out;
  for (const toml::node& el : *arr) {
    if (!el.is_string()) {
      fail(el, s.key(key) + " must contain only strings, got " + type_name(el));
      return std::nullopt;
    }
    out.push_back(el.as_string());
  }
  if (out.empty()) {
    fail(*n, s.key(key) + " is empty; write " + std::string(example));
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<const toml::table*>> Reader::tables_at(const Scope& s,
                                                                 const toml::node& n,
                                                                 std::string_view key,
                                                                 std::string_view header) {
  const toml::array* arr = n.as_array();
  if (arr == nullptr ||
      !std::all_of(arr->begin(), arr->end(), [](const toml::node& el) { return el.is_table(); })) {
    fail(n, s.key(key) + " must be an array of tables, got " + type_name(n) +
                "; write each one as " + std::string(header));
    return std::nullopt;
  }
  std::vector<const toml::table*> out;
  for (const toml::node& el : *arr) {
    out.push_back(el.as_table());
  }
  return out;
}

std::optional<double> Reader::number_at(const Scope& s, std::string_view key, double min,
                                        double max) {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) {
    return std::nullopt;
  }
  std::optional<double> v;
  if (const auto* i = n->as_integer()) {
    v = static_cast<double>(i->get());
  } else if (const auto* f = n->as_floating_point()) {
    v = f->get();
  }
  if (!v) {
    fail(*n, s.key(key) + " must be a number, got " + type_name(*n));
    return std::nullopt;
  }
  if (!(*v >= min && *v <= max)) {
    fail(*n, fmt::format("{} must be from {:g} to {:g}, got {:g}", s.key(key), min, max, *v));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Reader::bool_at(const Scope& s, std::string_view key) {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) {
    return std::nullopt;
  }
  if (const auto* b = n->as_boolean()) {
    return b->get();
  }
  fail(*n, s.key(key) + " must be true or false, got " + type_name(*n));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> Reader::duration_at(const Scope& s, std::string_view key,
                                                             std::chrono::milliseconds min,
                                                             std::chrono::milliseconds max) {
  const auto* v = string_at(s, key);
  if (v == nullptr) {
    return std::nullopt;
  }
  auto d = parse_duration(v->get());
  if (!d) {
    fail(*v, s.key(key) + ": " + d.error().message);
    return std::nullopt;
  }
  if (*d < min || *d > max) {
    fail(*v, fmt::format("{} must be from {} to {}, got {}", s.key(key), format_duration(min),
                         format_duration(max), v->get()));
    return std::nullopt;
  }
  return *d;
}

}  // namespace rampart::config
