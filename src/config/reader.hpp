#pragma once
// Internal to src/config: reading one TOML table at a time into plain data, collecting every
// problem with its line instead of stopping at the first (so one run reports all of them, each
// as `FILE:LINE: what is wrong and how to fix it`). config.cpp reads the file's tables with it;
// rollout_reader.cpp reads [service.rollout].

#include "config/quote.hpp"

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::config {

using Keys = std::span<const std::string_view>;

// An inclusive range for an integer key, with how it reads to a person.
struct Range {
  int64_t min;
  int64_t max;
  std::string_view text;  // how it reads, when the numbers alone do not say it
};

uint32_t line_of(const toml::node& n);
// "a string", "an integer", ... for messages.
std::string type_name(const toml::node& n);
std::size_t edit_distance(std::string_view a, std::string_view b);

// A table being read: where its messages start and how they name it.
struct Scope {
  const toml::table& table;
  std::string prefix;  // "" or `service "shop": `
  std::string label;   // "in [server]", "at the top level", ...

  std::string key(std::string_view k) const { return prefix + in_quotes(k) + " " + label; }
};

class Reader {
 public:
  explicit Reader(std::string_view source_name) : source_(source_name) {}

  // "FILE:LINE: ".
  std::string at(uint32_t line) const { return source_ + ":" + std::to_string(line) + ": "; }
  // Every problem reported so far, sorted by line, one per line of the answer; {} when none.
  std::optional<std::string> problems();

  void fail(uint32_t line, std::string text) { issues_.emplace_back(line, std::move(text)); }
  void fail(const toml::node& n, std::string text) { fail(line_of(n), std::move(text)); }

  // Reports each key of the table not in `known`, with a "did you mean" for near misses.
  void reject_unknown(const Scope& s, Keys known);
  void missing(const Scope& s, std::string_view key, std::string_view example);
  const toml::table* sub_table(const Scope& s, std::string_view key, std::string_view header);
  // nullptr when absent (reported when `example` is given: the key is required) or mistyped.
  const toml::value<std::string>* string_at(const Scope& s, std::string_view key,
                                            std::string_view example = {});
  // The strings of an array key; nullopt when absent (then reported: it is required) or wrong.
  std::optional<std::vector<const toml::value<std::string>*>> strings_at(const Scope& s,
                                                                         std::string_view key,
                                                                         std::string_view example);
  // The tables of an array-of-tables key ([[service]], [[service.version]]); nullopt on error.
  std::optional<std::vector<const toml::table*>> tables_at(const Scope& s, const toml::node& n,
                                                           std::string_view key,
                                                           std::string_view header);
  // A number (integer or float) in [min, max]; nullopt when absent or wrong (reported).
  std::optional<double> number_at(const Scope& s, std::string_view key, double min, double max);
  std::optional<bool> bool_at(const Scope& s, std::string_view key);
  // A duration string ("30s", common/duration.hpp) in [min, max]; nullopt when absent or wrong.
  std::optional<std::chrono::milliseconds> duration_at(const Scope& s, std::string_view key,
                                                       std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max);

  template <class T>
  void int_at(const Scope& s, std::string_view key, Range range, T& out) {
    const toml::node* n = s.table.get(key);
    if (n == nullptr) {
      return;
    }
    const auto* v = n->as_integer();
    if (v == nullptr) {
      fail(*n, s.key(key) + " must be an integer, got " + type_name(*n));
      return;
    }
    if (v->get() < range.min || v->get() > range.max) {
      fail(*n, s.key(key) + " must be from " + std::to_string(range.min) + " to " +
                   std::to_string(range.max) +
                   (range.text.empty() ? "" : " (" + std::string(range.text) + ")") + ", got " +
                   std::to_string(v->get()));
      return;
    }
    out = static_cast<T>(v->get());
  }

 private:
  std::string source_;
  std::vector<std::pair<uint32_t, std::string>> issues_;
};

}  // namespace rampart::config
