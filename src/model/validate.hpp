#pragma once
// The rules every record obeys before it is written. Each check answers kInvalidArgument with a
// message that starts with the field and says what is wrong, e.g.
//   split: sums to 9000 bp (90%); it must sum to 10000 bp (100%)
// so that the admin API can answer 400 with it as is.

#include "common/result.hpp"
#include "model/records.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::model {

// Messages, notes and other free text: valid UTF-8, at most this many bytes.
inline constexpr std::size_t kMaxTextBytes = 4096;

// [a-z0-9][a-z0-9_-]{0,62}, as in the config file.
Status validate_service_name(std::string_view field, std::string_view name);
// [A-Za-z0-9][A-Za-z0-9._-]{0,62}, as in the config file.
Status validate_version_name(std::string_view field, std::string_view name);
// Token names, which are also the actors of audit events: the version-name alphabet.
Status validate_token_name(std::string_view field, std::string_view name);
// Valid UTF-8 of at most kMaxTextBytes bytes (may be empty).
Status validate_text(std::string_view field, std::string_view text);
// 1 <= id <= kMaxId.
Status validate_id(std::string_view field, std::int64_t id);

// A split for `service` whose versions are `versions`: not empty; each version named once and
// one of `versions`; each share at most 10000 bp; the shares sum to exactly 10000 bp.
Status validate_split(std::string_view service, const std::vector<SplitEntry>& split,
                      const std::vector<Version>& versions);

// The split in its stored order: by the versions' ordinals (the oldest version first, so the
// newest owns the gateway's lowest sticky buckets and a canary keeps its users as it grows).
// REQUIRES: validate_split(service, split, versions) succeeded.
std::vector<SplitEntry> canonical_split(std::vector<SplitEntry> split,
                                        const std::vector<Version>& versions);

}  // namespace rampart::model
