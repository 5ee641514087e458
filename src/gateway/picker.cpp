#include "gateway/picker.hpp"

#include <xxhash.h>

namespace rampart::gateway {

uint64_t salt_seed(std::string_view salt) { return XXH64(salt.data(), salt.size(), 0); }

uint64_t sticky_hash(uint64_t seed, std::string_view key) {
  return XXH64(key.data(), key.size(), seed);
}

uint32_t sticky_bucket(uint64_t seed, std::string_view key) {
  return static_cast<uint32_t>(sticky_hash(seed, key) % kBucketCount);
}

const VersionRoute* version_for_bucket(const ServiceRoute& service, uint32_t bucket) {
  for (const auto& v : service.versions) {
    if (bucket >= v.bucket_begin && bucket < v.bucket_end) {
      return &v;
    }
  }
  return nullptr;
}

Pick pick_version(const ServiceRoute& service, const PickInput& input) {
  if (input.override_version) {
    const VersionRoute* v = service.find_version(*input.override_version);
    if (v == nullptr) {
      return Pick{nullptr, PickError::kVersionNotDeployed};
    }
    return Pick{v, std::nullopt};
  }
  uint32_t bucket = input.random_bucket % kBucketCount;
  uint64_t hash = 0;
  if (service.sticky.kind != config::StickyKind::kNone && input.sticky_key) {
    hash = sticky_hash(service.salt_seed, *input.sticky_key);
    bucket = static_cast<uint32_t>(hash % kBucketCount);
  }
  const VersionRoute* v = version_for_bucket(service, bucket);
  if (v == nullptr) {
    return Pick{nullptr, PickError::kNoVersion};
  }
  return Pick{v, std::nullopt, hash};
}

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}
}  // namespace

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    if (trim(pair.substr(0, eq)) == name) {
      std::string_view value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace rampart::gateway
