#pragma once
// The master key: the 32-byte AES-256 key every secret is sealed under (secrets/cipher.hpp).
// docs/secrets.md describes where it lives and what happens without it.
//
// It comes from one of two places, in this order:
//   RAMPART_MASTER_KEY  64 hex digits (upper or lower case), e.g. `openssl rand -hex 32`;
//                       a malformed value is an error naming the variable, never showing it.
//   {data}/master.key   the same 64 hex digits and a newline, mode 0600, created on first use
//                       from OpenSSL's RAND_bytes. A file readable by anyone but its owner, or
//                       of the wrong size, is refused: rampart never "repairs" a key file.
// The hex text is the same in both places, so `cat master.key` is a value for the variable.
//
// The key bytes are wiped when a MasterKey is destroyed. Thread safety: a MasterKey is
// immutable; the functions keep no state.

#include "common/result.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace rampart::secrets {

inline constexpr std::size_t kMasterKeyBytes = 32;
inline constexpr std::string_view kMasterKeyVariable = "RAMPART_MASTER_KEY";
inline constexpr std::string_view kMasterKeyFileName = "master.key";

class MasterKey {
 public:
  using Bytes = std::array<unsigned char, kMasterKeyBytes>;

  explicit MasterKey(const Bytes& bytes) : bytes_(bytes) {}
  MasterKey(const MasterKey& other) = default;
  MasterKey& operator=(const MasterKey& other) = default;
  ~MasterKey();

  // 32 bytes from RAND_bytes.
  static Result<MasterKey> generate();
  // 64 hex digits, nothing else. Errors name `field` and never contain `text`.
  static Result<MasterKey> from_hex(std::string_view field, std::string_view text);

  const Bytes& bytes() const { return bytes_; }
  // 64 lower-case hex digits: what the key file and RAMPART_MASTER_KEY hold.
  std::string hex() const;

 private:
  Bytes bytes_;
};

// Reads the key file at `path`. Refused (kInvalidArgument, naming the path and the fix) when it
// is not a regular file, its mode allows anything to group or others (or execution), or it does
// not hold exactly 64 hex digits and an optional newline. A missing file is kNotFound.
Result<MasterKey> read_master_key_file(const std::string& path);

// Creates the key file at `path` with a new key: written to a temporary file opened with
// O_CREAT|O_EXCL and mode 0600, fsync'd, linked to `path` (which never replaces an existing
// file) and the directory fsync'd, so a crash leaves either no key file or a whole one.
// An existing `path` is kConflict.
Result<MasterKey> create_master_key_file(const std::string& path);

// The key rampart runs with: from `variable_value` (the value of RAMPART_MASTER_KEY; nullptr
// when it is not set) when set, else from {data_dir}/master.key, created when missing.
Result<MasterKey> load_master_key(const std::string& data_dir, const char* variable_value);

}  // namespace rampart::secrets
