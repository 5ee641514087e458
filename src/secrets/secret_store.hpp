#pragma once
// SecretStore: a service's secrets (API keys, passwords) kept in the store, sealed under the
// master key (secrets/cipher.hpp). docs/secrets.md describes the whole.
//
// Each secret is one key, /rampart/secrets/{service}/{name}, holding its latest secret version
// as a JSON record: {"schema", "version", "created_at", "sealed"} where "sealed" is the
// envelope of the value, bound to (service, name, version); the service and the name are the
// key's, so a record copied under another key does not open there. put() of a name
// makes its next version (1, 2, 3, ...); remove() deletes the key, and a later put() starts
// again at version 1. The service need not exist yet: secrets may be put before a first deploy.
//
// Mutations run through control::detail::mutate (control/mutation.hpp), as every change under
// /rampart/ does: one transaction writes the secret and its audit event ("secret.put",
// "secret.delete"; target "secret:{service}/{name}"; before/after hold the name, version and
// time, never the value nor its ciphertext).
//
// The plaintext exists only in the caller's buffer and, in get(), in the Secret it answers; the
// store, the audit log and list() never see it.
//
// Errors: invalid service or name, an empty value or one too large, a full service ->
// kInvalidArgument starting with the field; an unknown secret -> kNotFound; a value that does not
// open -> kInternal with cipher.hpp's messages; store failures pass through.
// Thread safety: as DeploymentService (no state but its references and the key).

#include "common/result.hpp"
#include "control/deployment_service.hpp"
#include "secrets/master_key.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::secrets {

// A secret's name is an environment variable's name: [A-Z_][A-Z0-9_]*.
inline constexpr std::size_t kMaxNameBytes = 128;
inline constexpr std::size_t kMaxValueBytes = 64 * 1024;
inline constexpr std::size_t kMaxSecretsPerService = 256;
inline constexpr int kSecretSchema = 1;

// A secret without its value: what list() answers.
struct SecretInfo {
  std::string name{};
  std::int64_t version = 0;     // 1, 2, 3, ...: one per put
  std::int64_t created_at = 0;  // unix ms of the put that made this version

  friend bool operator==(const SecretInfo&, const SecretInfo&) = default;
};

// A secret with its value; the value is wiped when the Secret is destroyed.
struct Secret {
  Secret() = default;
  Secret(SecretInfo i, std::string v) : info(std::move(i)), value(std::move(v)) {}
  Secret(Secret&&) = default;
  Secret& operator=(Secret&&) = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret();

  SecretInfo info{};
  std::string value{};
};

Status validate_secret_name(std::string_view field, std::string_view name);

class SecretStore {
 public:
  // REQUIRES: `store` outlives this object. An empty clock means control::system_unix_ms.
  SecretStore(store::Store& store, const MasterKey& key, control::UnixClock clock = {});

  // Seals `value` as the next version of `name` and answers that version. `value` must not be
  // empty, hold a NUL byte (an environment variable cannot) or exceed kMaxValueBytes; a new
  // name must not make the service hold more than kMaxSecretsPerService secrets.
  Result<SecretInfo> put(std::string_view service, std::string_view name, std::string_view value,
                         std::string_view actor);

  // The service's secrets by name, without values; none is an empty list.
  Result<std::vector<SecretInfo>> list(std::string_view service);

  // Deletes the secret and answers what it was.
  Result<SecretInfo> remove(std::string_view service, std::string_view name,
                            std::string_view actor);

  // The secret's latest version with its value.
  Result<Secret> get(std::string_view service, std::string_view name);

  // Whether the master key opens the secrets already stored: opens the first of them (in key
  // order) and answers get()'s error when it does not open; none stored is success. The server
  // calls it at start-up to say at once that it was started with another master key.
  Status check_key();

 private:
  Status validate_names(std::string_view service, std::string_view name,
                        std::string_view actor) const;

  store::Store& store_;
  MasterKey key_;
  control::UnixClock clock_;
};

}  // namespace rampart::secrets
