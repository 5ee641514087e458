#pragma once
// Where a client verb finds the server: the data directory, the admin address and the token.
//
// Each is resolved in a fixed order, the first that is set wins:
//   data dir: --data, $RAMPART_DATA, "rampart-data" (relative to the working directory);
//   address:  --addr, $RAMPART_ADDR, a config file's [server].admin (only `reload --config`),
//             DATA/admin.addr (written by the server when it listens), "127.0.0.1:9901";
//   token:    --token, $RAMPART_TOKEN, DATA/admin.token (written by the server at its first
//             start), none.
// An empty flag or variable counts as unset. A file that is missing or unreadable counts as
// unset too; its content is trimmed of surrounding white space.

#include <string>

namespace rampart::cli {

inline constexpr const char* kDefaultDataDir = "rampart-data";
inline constexpr const char* kDefaultAdminAddress = "127.0.0.1:9901";

struct ClientFlags {
  std::string data_dir{};  // --data
  std::string address{};   // --addr
  std::string token{};     // --token
  // `rampart reload --config FILE`: FILE's [server].admin when its port is not 0, else empty.
  std::string config_address{};
};

struct ClientSettings {
  std::string data_dir{};
  std::string address{};
  std::string token{};  // empty: none
  // Where each came from, for error messages: "--addr", "$RAMPART_ADDR", the file's path, or
  // "the default".
  std::string address_source;
  std::string token_source;  // "" when there is no token
};

// --data, then $RAMPART_DATA, then "rampart-data". Never empty.
std::string resolve_data_dir(const std::string& flag);

// Reads the environment and the data directory's files.
ClientSettings resolve_client(const ClientFlags& flags);

}  // namespace rampart::cli
