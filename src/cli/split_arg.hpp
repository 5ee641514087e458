#pragma once
// The `VERSION=PERCENT` arguments of `rampart split` (also `VERSION@PERCENT`, wrangler's form).

#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::cli {

struct SplitShare {
  std::string version;
  std::uint32_t basis_points = 0;  // 1 bp = 0.01%; 0..10000
};

// "v1=90", "v1@12.5", "v2=33.33", "v1=90%". PERCENT is 0 to 100 with at most two decimals.
// Errors (kInvalidArgument) are one line starting with "split: ".
Result<SplitShare> parse_split_arg(std::string_view arg);

// Every argument in order; also refuses a version named twice. Whether the shares sum to 100
// is the server's to check (it knows the versions).
Result<std::vector<SplitShare>> parse_split_args(const std::vector<std::string>& args);

// 9000 -> "90", 1250 -> "12.5", 3333 -> "33.33".
std::string format_percent(std::uint32_t basis_points);

}  // namespace rampart::cli
