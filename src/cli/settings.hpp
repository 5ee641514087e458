#pragma once
// Where a client verb finds the server: the data directory, the admin address and the token.
//
// Each is resolved in a fixed order, the first that is set wins:
//   data dir: --data, $RAMPART_DATA, "rampart-data" (relative to the working directory);
//   address:  --addr, $RAMPART_ADDR, a config file's [server].admin (only `reload --config`),
//             DATA/admin.addr (written by the server when it listens), "127.0.0.1:9901";
//   token:    --token, $RAMPART_TOKEN, DATA/admin.token (written by the server at its first
//             start), none.
// An empty flag or variable counts as unset. A file of the data directory that is missing or
// unreadable counts as unset too; its content is trimmed of surrounding white space. But a
// data directory or config file the user named (--data, $RAMPART_DATA, --config) that does
// not exist is an error, and so is an address that parse_admin_address() refuses.

#include "common/result.hpp"

#include <string>
#include <string_view>

namespace rampart::cli {

inline constexpr const char* kDefaultDataDir = "rampart-data";
inline constexpr const char* kDefaultAdminAddress = "127.0.0.1:9901";

struct ClientFlags {
  std::string data_dir{};  // --data
  std::string address{};   // --addr
  std::string token{};     // --token
  // `rampart reload --config FILE`: FILE's [server].admin is the address after
  // $RAMPART_ADDR, unless its port is 0 (picked at start: only DATA/admin.addr knows it).
  std::string config_path{};
};

struct ClientSettings {
  std::string data_dir{};
  std::string address{};  // "host:port", as parse_admin_address() answers it
  std::string token{};    // empty: none
  // Where each came from, for error messages: "--addr", "$RAMPART_ADDR", the file's path, or
  // "the default".
  std::string address_source;
  std::string token_source;  // "" when there is no token
};

// --data, then $RAMPART_DATA, then "rampart-data". Never empty.
std::string resolve_data_dir(const std::string& flag);

// Reads the environment, the data directory's files and the config file. Errors are
// kInvalidArgument, one line naming where the value came from and how to fix it.
Result<ClientSettings> resolve_client(const ClientFlags& flags);

// An admin API address as people write it -> "host:port". Takes "host:port" and
// "http://host:port", with surrounding white space and a trailing '/'; the host is checked as
// the config file's [server].admin is (config::parse_endpoint), the port must be 1..65535.
// Refuses https:// (the admin API has no TLS), other schemes and paths, with the reason:
// kInvalidArgument "\"TEXT\" is not an admin API address: WHY; write host:port, ...".
Result<std::string> parse_admin_address(std::string_view text);

}  // namespace rampart::cli
