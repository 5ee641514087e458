#include "rollout/strategy.hpp"

#include "common/duration.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <utility>

namespace rampart::rollout {

namespace {

using std::chrono::milliseconds;

constexpr uint32_t kFull = 10000;
constexpr std::string_view kForms =
    "canary, canaryP-D (canary10-5m), linearP-D (linear10-1m), exponential, exponential-D, "
    "all-at-once or blue-green";

Error unknown_strategy(std::string_view name, std::string_view why = "") {
  return make_error(Errc::kInvalidArgument,
                    fmt::format("strategy \"{}\" is not one rampart knows{}: use {}", name,
                                why.empty() ? "" : fmt::format(" ({})", why), kForms));
}

// "10" -> 1000 bp, for 1..100.
std::optional<uint32_t> percent_bp(std::string_view text) {
  uint32_t p = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
  if (ec != std::errc{} || end != text.data() + text.size() || p == 0 || p > 100) {
    return std::nullopt;
  }
  return p * 100;
}

// "10-5m" -> (1000 bp, 5m).
Result<std::pair<uint32_t, milliseconds>> percent_and_pause(std::string_view name,
                                                            std::string_view rest) {
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos) {
    return unknown_strategy(name, "it needs a percent and a pause, as in canary10-5m");
  }
  auto bp = percent_bp(rest.substr(0, dash));
  if (!bp) {
    return unknown_strategy(name, "the percent must be a whole number from 1 to 100");
  }
  auto pause = parse_duration(rest.substr(dash + 1));
  if (!pause) {
    return unknown_strategy(name, pause.error().message);
  }
  return std::pair{*bp, *pause};
}

std::vector<Step> canary_steps(uint32_t bp, milliseconds pause) {
  std::vector<Step> steps{Step{bp, pause}};
  if (bp < kFull) {
    steps.push_back(Step{kFull, milliseconds(0)});
  }
  return steps;
}

std::vector<Step> linear_steps(uint32_t bp, milliseconds pause) {
  std::vector<Step> steps;
  for (uint32_t w = bp; w < kFull; w += bp) {
    steps.push_back(Step{w, pause});
  }
  steps.push_back(Step{kFull, milliseconds(0)});
  return steps;
}

std::vector<Step> exponential_steps(milliseconds pause) {
  std::vector<Step> steps;
  for (uint32_t w = 100; w < kFull; w *= 2) {
    steps.push_back(Step{w, pause});
  }
  steps.push_back(Step{kFull, milliseconds(0)});
  return steps;
}

}  // namespace

std::string percent_text(uint32_t bp) {
  // Exact at any size ("42949672.95%", which validation messages may show), not "{:g}".
  if (bp % 100 == 0) {
    return fmt::format("{}%", bp / 100);
  }
  std::string out = fmt::format("{}.{:02}", bp / 100, bp % 100);
  if (out.back() == '0') {
    out.pop_back();
  }
  return out + "%";
}

Result<Strategy> strategy_from_name(std::string_view name) {
  Strategy s;
  if (name == "canary") {
    s.steps = {Step{1000, std::chrono::minutes(5)}, Step{5000, std::chrono::minutes(5)},
               Step{kFull, milliseconds(0)}};
    return s;
  }
  if (name == "all-at-once") {
    s.steps = {Step{kFull, milliseconds(0)}};
    return s;
  }
  if (name == "blue-green") {
    s.kind = StrategyKind::kBlueGreen;
    return s;
  }
  if (name == "exponential") {
    s.steps = exponential_steps(std::chrono::minutes(1));
    return s;
  }
  if (name.starts_with("exponential-")) {
    auto pause = parse_duration(name.substr(12));
    if (!pause) {
      return unknown_strategy(name, pause.error().message);
    }
    s.steps = exponential_steps(*pause);
    return s;
  }
  for (auto [prefix, expand] : {std::pair{std::string_view("canary"), &canary_steps},
                                std::pair{std::string_view("linear"), &linear_steps}}) {
    if (name.starts_with(prefix) && name.size() > prefix.size()) {
      auto pp = percent_and_pause(name, name.substr(prefix.size()));
      if (!pp) {
        return pp.error();
      }
      s.steps = expand(pp->first, pp->second);
      return s;
    }
  }
  return unknown_strategy(name);
}

Result<std::vector<Step>> steps_from_percents(std::string_view percents, milliseconds pause) {
  std::vector<Step> steps;
  std::string_view rest = percents;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view piece = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto bp = percent_bp(piece);
    if (!bp) {
      return make_error(Errc::kInvalidArgument,
                        fmt::format("--steps \"{}\": \"{}\" is not a whole percent from 1 to 100; "
                                    "write the weights in percent, as in 10,50,100",
                                    percents, piece));
    }
    steps.push_back(Step{*bp, pause});
  }
  if (!steps.empty()) {
    steps.back().pause = milliseconds(0);
  }
  if (auto s = validate_steps("--steps", steps); !s) {
    return s.error();
  }
  return steps;
}

Status validate_steps(std::string_view field, const std::vector<Step>& steps) {
  auto invalid = [&](std::string what) {
    return make_error(Errc::kInvalidArgument, fmt::format("{}: {}", field, what));
  };
  if (steps.empty()) {
    return invalid("there are no steps; give at least one, ending at 100%");
  }
  uint32_t last = 0;
  for (const Step& s : steps) {
    if (s.weight_bp == 0 || s.weight_bp > kFull) {
      return invalid(fmt::format("a step's weight must be over 0% and at most 100%, got {}",
                                 percent_text(s.weight_bp)));
    }
    if (s.weight_bp <= last) {
      return invalid(fmt::format("weights must rise from step to step: {} comes after {}",
                                 percent_text(s.weight_bp), percent_text(last)));
    }
    last = s.weight_bp;
  }
  if (last != kFull) {
    return invalid(fmt::format("the last step must be 100%, not {}", percent_text(last)));
  }
  return {};
}

std::string describe(const std::vector<Step>& steps) {
  std::string out;
  for (const Step& s : steps) {
    out += out.empty() ? "" : ", ";
    out += percent_text(s.weight_bp);
    if (s.until_promoted) {
      out += " until promoted";
    } else if (s.pause.count() > 0) {
      out += " for " + format_duration(s.pause);
    }
  }
  return out.empty() ? "one cut-over" : out;
}

}  // namespace rampart::rollout
