#include "model/validate.hpp"

#include "config/config.hpp"
#include "rollout/strategy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace rampart::model {

namespace {

Error invalid(std::string_view field, std::string_view what) {
  return make_error(Errc::kInvalidArgument, fmt::format("{}: {}", field, what));
}

// Structural UTF-8 check (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

Status validate_service_name(std::string_view field, std::string_view name) {
  if (!config::is_valid_service_name(name)) {
    return invalid(field, fmt::format("\"{}\" is not a valid service name; use 1 to 63 of a-z, "
                                      "0-9, '_' and '-', starting with a letter or digit",
                                      name));
  }
  return {};
}

Status validate_version_name(std::string_view field, std::string_view name) {
  if (!config::is_valid_version_name(name)) {
    return invalid(field, fmt::format("\"{}\" is not a valid version name; use 1 to 63 of "
                                      "A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter "
                                      "or digit",
                                      name));
  }
  return {};
}

Status validate_token_name(std::string_view field, std::string_view name) {
  if (!config::is_valid_version_name(name)) {
    return invalid(field, fmt::format("\"{}\" is not a valid token name; use 1 to 63 of "
                                      "A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter "
                                      "or digit",
                                      name));
  }
  return {};
}

Status validate_text(std::string_view field, std::string_view text) {
  if (text.size() > kMaxTextBytes) {
    return invalid(
        field, fmt::format("is {} bytes long, at most {} are allowed", text.size(), kMaxTextBytes));
  }
  if (!is_utf8(text)) {
    return invalid(field, "is not valid UTF-8");
  }
  return {};
}

Status validate_id(std::string_view field, std::int64_t id) {
  if (id < 1 || id > kMaxId) {
    return invalid(field, fmt::format("{} is not a valid id; ids run from 1 to {}", id, kMaxId));
  }
  return {};
}

Status validate_split(std::string_view service, const std::vector<SplitEntry>& split,
                      const std::vector<Version>& versions) {
  if (split.empty()) {
    return invalid("split",
                   "is empty; give at least one version its share (the shares sum to "
                   "100%)");
  }
  std::set<std::string_view> seen;
  std::uint64_t sum = 0;
  for (const auto& entry : split) {
    if (!seen.insert(entry.version).second) {
      return invalid("split", fmt::format("names version \"{}\" twice", entry.version));
    }
    const bool known = std::any_of(versions.begin(), versions.end(),
                                   [&](const Version& v) { return v.name == entry.version; });
    if (!known) {
      return invalid("split", fmt::format("names version \"{}\", which service \"{}\" does not "
                                          "have; deploy it first",
                                          entry.version, service));
    }
    if (entry.basis_points > kTotalBasisPoints) {
      return invalid("split", fmt::format("gives version \"{}\" {} bp ({}), more than 10000 bp "
                                          "(100%)",
                                          entry.version, entry.basis_points,
                                          rollout::percent_text(entry.basis_points)));
    }
    sum += entry.basis_points;
  }
  if (sum != kTotalBasisPoints) {
    return invalid("split", fmt::format("sums to {} bp ({}); it must sum to 10000 bp (100%)", sum,
                                        rollout::percent_text(static_cast<std::uint32_t>(sum))));
  }
  return {};
}

std::vector<SplitEntry> canonical_split(std::vector<SplitEntry> split,
                                        const std::vector<Version>& versions) {
  auto ordinal = [&](const SplitEntry& entry) {
    for (const auto& v : versions) {
      if (v.name == entry.version) {
        return v.ordinal;
      }
    }
    return std::int64_t{0};
  };
  std::stable_sort(split.begin(), split.end(), [&](const SplitEntry& a, const SplitEntry& b) {
    return ordinal(a) < ordinal(b);
  });
  return split;
}

}  // namespace rampart::model
