#include "cli/split_arg.hpp"

#include "config/config.hpp"

#include <fmt/format.h>

namespace rampart::cli {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Error not_a_share(std::string_view arg, std::string_view why) {
  return make_error(Errc::kInvalidArgument,
                    fmt::format("split: \"{}\" is not VERSION=PERCENT ({})", arg, why));
}

}  // namespace

Result<SplitShare> parse_split_arg(std::string_view arg) {
  auto sep = arg.find_first_of("=@");
  if (sep == std::string_view::npos) {
    return not_a_share(arg, "e.g. v1=90 or v1@12.5");
  }
  std::string_view version = arg.substr(0, sep);
  std::string_view percent = arg.substr(sep + 1);
  if (version.empty()) {
    return not_a_share(arg, "the version name is missing");
  }
  if (!config::is_valid_version_name(version)) {
    return not_a_share(arg, fmt::format("\"{}\" is not a version name", version));
  }
  if (!percent.empty() && percent.back() == '%') {
    percent.remove_suffix(1);
  }
  // Whole part: 1 to 3 digits; fraction: '.' and 1 or 2 digits.
  std::size_t i = 0;
  std::uint32_t whole = 0;
  while (i < percent.size() && is_digit(percent[i]) && i < 4) {
    whole = whole * 10 + static_cast<std::uint32_t>(percent[i] - '0');
    ++i;
  }
  if (i == 0 || i > 3) {
    return not_a_share(arg, "PERCENT is a number from 0 to 100 with at most two decimals");
  }
  std::uint32_t hundredths = 0;
  if (i < percent.size() && percent[i] == '.') {
    ++i;
    std::size_t digits = 0;
    while (i < percent.size() && is_digit(percent[i])) {
      if (digits == 2) {
        return not_a_share(arg, "PERCENT has at most two decimals");
      }
      hundredths = hundredths * 10 + static_cast<std::uint32_t>(percent[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) {
      return not_a_share(arg, "PERCENT is a number from 0 to 100 with at most two decimals");
    }
    if (digits == 1) {
      hundredths *= 10;
    }
  }
  if (i != percent.size()) {
    return not_a_share(arg, "PERCENT is a number from 0 to 100 with at most two decimals");
  }
  std::uint32_t bp = whole * 100 + hundredths;
  if (bp > 10000) {
    return not_a_share(arg, "PERCENT is at most 100");
  }
  return SplitShare{std::string(version), bp};
}

Result<std::vector<SplitShare>> parse_split_args(const std::vector<std::string>& args) {
  std::vector<SplitShare> shares;
  if (args.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "split: give each version's share, e.g. `rampart split shop v1=90 v2=10`");
  }
  for (const auto& arg : args) {
    auto share = parse_split_arg(arg);
    if (!share) {
      return share.error();
    }
    for (const auto& seen : shares) {
      if (seen.version == share->version) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("split: version \"{}\" is named twice", seen.version));
      }
    }
    shares.push_back(std::move(*share));
  }
  return shares;
}

std::string format_percent(std::uint32_t basis_points) {
  std::uint32_t whole = basis_points / 100;
  std::uint32_t frac = basis_points % 100;
  if (frac == 0) {
    return std::to_string(whole);
  }
  if (frac % 10 == 0) {
    return fmt::format("{}.{}", whole, frac / 10);
  }
  return fmt::format("{}.{:02}", whole, frac);
}

}  // namespace rampart::cli
