#include "cli/rollout_text.hpp"

#include "common/json_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace rampart::cli::rollout_text {
namespace json = boost::json;

const json::value& member(const json::value& v, std::string_view key) {
  static const json::value kNull;
  const auto* o = v.if_object();
  const auto* m = o == nullptr ? nullptr : o->if_contains(key);
  return m == nullptr ? kNull : *m;
}

std::string value_text(const json::value& v) {
  double d = 0;
  return number(v, d) ? fmt::format("{:.4g}", d) : std::string("-");
}

std::string text(const json::value& v) {
  if (const auto* s = v.if_string()) {
    return std::string(*s);
  }
  if (v.is_null() || v.is_object() || v.is_array()) {
    return "-";
  }
  return to_json_text(v);
}

std::string text(const json::value& v, std::string_view key) { return text(member(v, key)); }

std::string percent_text(const json::value& v) {
  return v.is_number() ? to_json_text(v) + "%" : std::string("-");
}

const json::array& array_of(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  const auto* a = member(v, key).if_array();
  return a == nullptr ? kEmpty : *a;
}

bool number(const json::value& v, double& out) {
  if (!v.is_number()) {
    return false;
  }
  out = v.to_number<double>();
  return true;
}

bool is_final(std::string_view phase) { return phase == "promoted" || phase == "rolled_back"; }

std::string thresholds(const json::value& check) {
  std::string out;
  for (auto [key, name] : {std::pair{"max", "max"},
                           {"min", "min"},
                           {"critical", "critical"},
                           {"max_ratio_to_stable", "ratio to stable"}}) {
    const auto& v = member(check, key);
    if (v.is_number()) {
      out += (out.empty() ? "" : ", ") + fmt::format("{} {}", name, to_json_text(v));
    }
  }
  return out.empty() ? "-" : out;
}

std::string thresholds_of(const json::value& rollout, std::string_view metric) {
  for (const auto& check : array_of(member(rollout, "analysis"), "checks")) {
    if (text(check, "metric") == metric) {
      return thresholds(check);
    }
  }
  return "-";
}

std::string step_of_total(const json::value& r) {
  const std::size_t total = std::max<std::size_t>(1, array_of(r, "steps").size());
  return fmt::format("step {} of {}", text(r, "step"), total);
}

std::string analysis_text(const json::value& r) {
  const auto& a = member(r, "analysis");
  if (text(a, "judge") == "sequential") {
    double alpha = 0;
    number(member(a, "alpha"), alpha);
    return fmt::format(
        "sequential judge at alpha {:g}% (of 100 canaries no worse than stable, at most {:g} "
        "rolled back), looking every 250ms, its evidence written every {}; a step needs {} "
        "canary requests to move on, inconclusive: {}",
        100 * alpha, 100 * alpha, text(r, "interval"), text(a, "min_requests"),
        text(a, "inconclusive"));
  }
  return fmt::format(
      "every {}, at least {} requests per version, {} failed windows roll back, inconclusive: {}",
      text(r, "interval"), text(a, "min_requests"), text(a, "failure_limit"),
      text(a, "inconclusive"));
}

}  // namespace rampart::cli::rollout_text
