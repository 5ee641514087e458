// The single-value parsers of config.hpp: endpoints, upstream URLs, routes, sticky keys, names.

#include "config/config.hpp"
#include "config/quote.hpp"

#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace rampart::config {

namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::size_t kMaxHostLength = 253;  // RFC 1035's limit on a name's text

// A host name or IPv4 address as text: letters, digits, '.', '-'; not resolved here.
bool is_host_name(std::string_view s) {
  return !s.empty() && s.size() <= kMaxHostLength && std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '-';
  });
}

// Why `host` (not empty, not bracketed) is not a host name, in the words of the problem.
std::string host_problem(std::string_view host) {
  if (host.size() > kMaxHostLength) {
    return "the host is " + std::to_string(host.size()) + " characters long; at most " +
           std::to_string(kMaxHostLength) + " are allowed";
  }
  return "the host may only contain letters, digits, '.' and '-'";
}

// RFC 9110 tchar: the characters of a header or cookie name.
bool is_token(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return is_alnum(c) || kExtra.find(c) != std::string_view::npos;
  });
}

std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint32_t v = 0;
  for (char c : s) {
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

bool is_name(std::string_view s, bool (*first)(char), bool (*rest)(char)) {
  return !s.empty() && s.size() <= 63 && first(s.front()) &&
         std::all_of(s.begin() + 1, s.end(), rest);
}

}  // namespace

std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool is_valid_service_name(std::string_view name) {
  auto first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  auto rest = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  return is_name(name, first, rest);
}

bool is_valid_version_name(std::string_view name) {
  auto first = [](char c) { return is_alnum(c); };
  auto rest = [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; };
  return is_name(name, first, rest);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::kInvalidArgument,
                      in_quotes(text) + " is not a valid address: " + std::string(why) +
                          "; write host:port, e.g. \"127.0.0.1:8080\" or \"[::1]:8080\"");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("the port is missing");
  }
  const std::string_view host = text.substr(0, colon);
  if (host.empty()) {
    return bad("the host is missing (use 0.0.0.0 or [::] for every interface)");
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']' ||
        !boost::urls::parse_ipv6_address(host.substr(1, host.size() - 2))) {
      return bad("the bracketed host is not an IPv6 address");
    }
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address must be in brackets");
  } else if (!is_host_name(host)) {
    return bad(host_problem(host));
  }
  auto port = parse_port(text.substr(colon + 1));
  if (!port) {
    return bad("the port must be a number from 0 to 65535");
  }
  return Endpoint{std::string(host), *port};
}

Result<Upstream> parse_upstream(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::kInvalidArgument,
                      "upstream " + in_quotes(url) + ": " + std::string(why));
  };
  if (url.empty()) {
    return bad("it is empty; write it as http://host:port, e.g. \"http://127.0.0.1:9001\"");
  }
  if (url.find("://") == std::string_view::npos) {
    return bad("not a URL; write it as http://host:port, e.g. \"http://" + std::string(url) + "\"");
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return bad("not a valid URL (" + parsed.error().message() + "); write it as http://host:port");
  }
  const boost::urls::url_view u = *parsed;
  const std::string scheme = lower(u.scheme());
  if (scheme == "https") {
    return bad(
        "https is not supported (TLS to upstreams is not available yet); use http://host:port");
  }
  if (scheme != "http") {
    return bad("scheme \"" + scheme + "\" is not supported; use http://host:port");
  }
  if (u.has_userinfo()) {
    return bad("user info (\"user@\") is not supported; remove it");
  }
  if (u.has_query() || u.has_fragment()) {
    return bad("a query or fragment is not supported; use http://host:port");
  }
  if (!u.encoded_path().empty() && u.encoded_path() != "/") {
    return bad("a path (\"" + std::string(u.encoded_path()) +
               "\") is not supported: requests are forwarded with their own path; use "
               "http://host:port");
  }
  const std::string_view host = u.encoded_host();
  if (host.empty()) {
    return bad("the host is missing; use http://host:port");
  }
  const bool ip_literal = u.host_type() == boost::urls::host_type::ipv6;
  if (u.host_type() == boost::urls::host_type::ipvfuture || (!ip_literal && !is_host_name(host))) {
    return bad(host.size() > kMaxHostLength
                   ? host_problem(host)
                   : "the host may only contain letters, digits, '.' and '-', or be an IP address");
  }
  uint16_t port = 80;
  if (u.has_port()) {
    auto p = parse_port(u.port());
    if (!p || *p == 0) {
      return bad("the port must be a number from 1 to 65535");
    }
    port = *p;
  }
  Upstream out;
  out.host = lower(host);
  out.port = port;
  out.url = "http://" + out.host + ":" + std::to_string(port);
  return out;
}

Result<Route> parse_route(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::kInvalidArgument,
                      "route " + in_quotes(text) + ": " + std::string(why) +
                          "; write \"host/prefix\", \"host\" or \"/prefix\", e.g. "
                          "\"shop.example.com/\" or \"/shop/\"");
  };
  if (text.empty()) {
    return bad("it is empty");
  }
  if (text.find("://") != std::string_view::npos) {
    return bad("a route is not a URL, drop the scheme");
  }
  const auto slash = text.find('/');
  const std::string_view host = text.substr(0, std::min(slash, text.size()));
  const std::string_view prefix = slash == std::string_view::npos ? "/" : text.substr(slash);
  if (host.find(':') != std::string_view::npos) {
    return bad("a route matches the host without its port; remove the port");
  }
  if (!host.empty() && !is_host_name(host)) {
    return bad(host_problem(host));
  }
  const bool printable = std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '?' && c != '#';
  });
  if (!printable) {
    return bad("the path prefix may not contain spaces, control characters, '?' or '#'");
  }
  return Route{lower(host), std::string(prefix)};
}

Result<Sticky> parse_sticky(std::string_view text) {
  constexpr std::string_view kForms =
      "use \"ip\", \"none\", \"header:<Header-Name>\" or \"cookie:<cookie-name>\"";
  if (text == "ip") {
    return Sticky{StickyKind::kIp, ""};
  }
  if (text == "none") {
    return Sticky{StickyKind::kNone, ""};
  }
  for (auto [form, kind] : {std::pair{std::string_view("header:"), StickyKind::kHeader},
                            std::pair{std::string_view("cookie:"), StickyKind::kCookie}}) {
    if (text.substr(0, form.size()) != form) {
      continue;
    }
    const std::string_view name = text.substr(form.size());
    const std::string what = kind == StickyKind::kHeader ? "header name" : "cookie name";
    const std::string example =
        std::string(form) + (kind == StickyKind::kHeader ? "X-User-Id" : "sid");
    if (name.empty()) {
      return make_error(Errc::kInvalidArgument, "sticky = " + in_quotes(text) + ": the " + what +
                                                    " is missing, e.g. " + in_quotes(example));
    }
    if (!is_token(name)) {
      return make_error(
          Errc::kInvalidArgument,
          "sticky = " + in_quotes(text) + ": " + in_quotes(name) + " is not a valid " + what +
              " (letters, digits and !#$%&'*+-.^_`|~ only), e.g. " + in_quotes(example));
    }
    return Sticky{kind, std::string(name)};
  }
  return make_error(Errc::kInvalidArgument,
                    "sticky = " + in_quotes(text) + " is not valid; " + std::string(kForms));
}

}  // namespace rampart::config
