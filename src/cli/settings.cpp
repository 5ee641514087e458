#include "cli/settings.hpp"

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

ClientSettings resolve_client(const ClientFlags& flags) {
  ClientSettings s;
  s.data_dir = resolve_data_dir(flags.data_dir);
  const std::string addr_file = (std::filesystem::path(s.data_dir) / "admin.addr").string();
  const std::string token_file = (std::filesystem::path(s.data_dir) / "admin.token").string();

  if (!flags.address.empty()) {
    s.address = flags.address;
    s.address_source = "--addr";
  } else if (std::string v = env("RAMPART_ADDR"); !v.empty()) {
    s.address = v;
    s.address_source = "$RAMPART_ADDR";
  } else if (!flags.config_address.empty()) {
    s.address = flags.config_address;
    s.address_source = "the config file's [server].admin";
  } else if (std::string f = read_small_file(addr_file); !f.empty()) {
    s.address = f;
    s.address_source = addr_file;
  } else {
    s.address = kDefaultAdminAddress;
    s.address_source = "the default";
  }

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
