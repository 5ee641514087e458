#include "model/records.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace rampart::model {

namespace {

// RFC 9110 tchar: the characters of a header or cookie name.
bool is_http_token(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           kExtra.find(c) != std::string_view::npos;
  });
}

constexpr std::string_view kHeaderPrefix = "header:";
constexpr std::string_view kCookiePrefix = "cookie:";

}  // namespace

std::string_view to_string(StickyKind kind) {
  switch (kind) {
    case StickyKind::kIp:
      return "ip";
    case StickyKind::kHeader:
      return "header";
    case StickyKind::kCookie:
      return "cookie";
    case StickyKind::kNone:
      return "none";
  }
  return "ip";
}

std::string to_string(const Sticky& sticky) {
  switch (sticky.kind) {
    case StickyKind::kHeader:
    case StickyKind::kCookie:
      return std::string(to_string(sticky.kind)) + ":" + sticky.name;
    case StickyKind::kIp:
    case StickyKind::kNone:
      break;
  }
  return std::string(to_string(sticky.kind));
}

std::string_view to_string(Balance balance) {
  switch (balance) {
    case Balance::kLeastRequest:
      return "least_request";
    case Balance::kRoundRobin:
      return "round_robin";
  }
  return "least_request";
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kDeployer:
      return "deployer";
    case Role::kReadOnly:
      return "read-only";
  }
  return "read-only";
}

std::optional<Sticky> parse_sticky(std::string_view text) {
  if (text == "ip") {
    return Sticky{StickyKind::kIp, ""};
  }
  if (text == "none") {
    return Sticky{StickyKind::kNone, ""};
  }
  for (auto [prefix, kind] : {std::pair{kHeaderPrefix, StickyKind::kHeader},
                              std::pair{kCookiePrefix, StickyKind::kCookie}}) {
    if (text.starts_with(prefix) && is_http_token(text.substr(prefix.size()))) {
      return Sticky{kind, std::string(text.substr(prefix.size()))};
    }
  }
  return std::nullopt;
}

std::optional<Balance> parse_balance(std::string_view text) {
  if (text == "least_request") {
    return Balance::kLeastRequest;
  }
  if (text == "round_robin") {
    return Balance::kRoundRobin;
  }
  return std::nullopt;
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role role : {Role::kAdmin, Role::kDeployer, Role::kReadOnly}) {
    if (text == to_string(role)) {
      return role;
    }
  }
  return std::nullopt;
}

bool role_allows(Role have, Role need) {
  // The enumerators are declared from the most to the least powerful.
  return static_cast<int>(have) <= static_cast<int>(need);
}

std::string hash_token_secret(std::string_view secret) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest.data());
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

}  // namespace rampart::model
