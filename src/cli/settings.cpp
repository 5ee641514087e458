#include "cli/settings.hpp"

#include "config/config.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rampart::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string trimmed(const std::string& s) {
  const char* ws = " \t\r\n";
  auto begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) {
    return "";
  }
  return s.substr(begin, s.find_last_not_of(ws) - begin + 1);
}

// The trimmed content of a small file; "" when it is missing or unreadable.
std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return trimmed(text.str().substr(0, 4096));
}

}  // namespace

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) {
    return flag;
  }
  if (std::string v = env("RAMPART_DATA"); !v.empty()) {
    return v;
  }
  return kDefaultDataDir;
}

Result<std::string> parse_admin_address(std::string_view text) {
  const std::string original(text);
  auto bad = [&](std::string_view why) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("\"{}\" is not an admin API address: {}; write host:port or "
                                  "http://host:port, e.g. 127.0.0.1:9901",
                                  original, why));
  };
  std::string rest = trimmed(original);
  if (rest.empty()) {
    return bad("it is empty");
  }
  if (const auto scheme_end = rest.find("://"); scheme_end != std::string::npos) {
    std::string scheme = rest.substr(0, scheme_end);
    for (char& c : scheme) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (scheme == "https") {
      return bad("https is not supported (the admin API has no TLS yet); use http://");
    }
    if (scheme != "http") {
      return bad(fmt::format("the scheme \"{}\" is not supported; use http://", scheme));
    }
    rest = rest.substr(scheme_end + 3);
  }
  if (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  if (const auto slash = rest.find_first_of("/?#"); slash != std::string::npos) {
    return bad(fmt::format("a path (\"{}\") is not part of it", rest.substr(slash)));
  }
  if (rest.find('@') != std::string::npos) {
    return bad("user info (\"user@\") is not supported");
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || (rest.front() == '[' && rest.back() == ']')) {
    return bad("the port is missing");
  }
  const std::string port = rest.substr(colon + 1);
  const bool digits = !port.empty() && port.size() <= 5 &&
                      port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoul(port) < 1 || std::stoul(port) > 65535) {
    return bad(fmt::format("the port \"{}\" is not a number from 1 to 65535", port));
  }
  auto endpoint = config::parse_endpoint(rest);
  if (!endpoint) {
    // parse_endpoint says why in its own words, after the text; keep only the why.
    std::string why = endpoint.error().message;
    const auto start = why.find(": ");
    const auto end = why.rfind("; write");
    why = start == std::string::npos ? why : why.substr(start + 2, end - start - 2);
    return bad(why);
  }
  return endpoint->host + ":" + std::to_string(endpoint->port);
}

Result<ClientSettings> resolve_client(const ClientFlags& flags) {
  ClientSettings s;
  s.data_dir = resolve_data_dir(flags.data_dir);
  const bool named_data_dir = !flags.data_dir.empty() || !env("RAMPART_DATA").empty();
  std::error_code ec;
  if (named_data_dir && !std::filesystem::is_directory(s.data_dir, ec)) {
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("{} \"{}\" is not a directory; name the server's data directory (the one "
                    "`rampart server --data` uses)",
                    flags.data_dir.empty() ? "$RAMPART_DATA" : "--data", s.data_dir));
  }
  const std::string addr_file = (std::filesystem::path(s.data_dir) / "admin.addr").string();
  const std::string token_file = (std::filesystem::path(s.data_dir) / "admin.token").string();

  std::string config_address;
  if (!flags.config_path.empty()) {
    auto cfg = config::load_config(flags.config_path);
    if (!cfg) {
      return cfg.error();
    }
    if (cfg->server.admin.port != 0) {
      config_address = cfg->server.admin.host + ":" + std::to_string(cfg->server.admin.port);
    }
  }

  if (!flags.address.empty()) {
    s.address = flags.address;
    s.address_source = "--addr";
  } else if (std::string v = env("RAMPART_ADDR"); !v.empty()) {
    s.address = v;
    s.address_source = "$RAMPART_ADDR";
  } else if (!config_address.empty()) {
    s.address = config_address;
    s.address_source = flags.config_path + "'s [server].admin";
  } else if (std::string f = read_small_file(addr_file); !f.empty()) {
    s.address = f;
    s.address_source = addr_file;
  } else {
    s.address = kDefaultAdminAddress;
    s.address_source = "the default";
  }
  auto address = parse_admin_address(s.address);
  if (!address) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: {}", s.address_source, address.error().message));
  }
  s.address = std::move(*address);

  if (!flags.token.empty()) {
    s.token = flags.token;
    s.token_source = "--token";
  } else if (std::string v = env("RAMPART_TOKEN"); !v.empty()) {
    s.token = v;
    s.token_source = "$RAMPART_TOKEN";
  } else if (std::string f = read_small_file(token_file); !f.empty()) {
    s.token = f;
    s.token_source = token_file;
  }
  return s;
}

}  // namespace rampart::cli
