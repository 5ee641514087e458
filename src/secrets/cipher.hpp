#pragma once
// Sealing a secret's value under the master key: AES-256-GCM (OpenSSL EVP) with a random
// 96-bit nonce per seal. The associated data binds the ciphertext to the secret it was sealed
// for (service, name, secret version), so a ciphertext copied to another name or version does
// not open.
//
// The envelope, base64 (standard alphabet, padded) so that it sits in a JSON record:
//   byte 0        format version (kEnvelopeFormat)
//   bytes 1-8     key id: the first 8 bytes of HMAC-SHA256(master key, "rampart master key id")
//   bytes 9-16    binding id: the first 8 bytes of SHA-256 of the binding (service, name, version)
//   bytes 17-28   nonce
//   then          ciphertext (as long as the value), then the 16-byte GCM tag
// The ids only make failures say what went wrong (another key, another secret, a change);
// they are authenticated too (the whole header is associated data), and the tag alone decides
// whether a value opens.
//
// open() fails with kInternal and one of three messages (kWrongKeyMessage, kWrongBindingMessage,
// kTamperedMessage at their start), or kInvalidArgument for text that is not an envelope.
// Thread safety: the functions keep no state.

#include "common/result.hpp"
#include "secrets/master_key.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::secrets {

inline constexpr unsigned char kEnvelopeFormat = 1;
inline constexpr std::size_t kNonceBytes = 12;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kIdBytes = 8;

inline constexpr std::string_view kWrongKeyMessage =
    "the secret cannot be decrypted: the master key is not the one it was sealed with";
inline constexpr std::string_view kWrongBindingMessage =
    "the secret cannot be decrypted: it was sealed for another secret or secret version";
inline constexpr std::string_view kTamperedMessage =
    "the secret cannot be decrypted: its ciphertext was changed after it was sealed";

// What a ciphertext belongs to; part of the associated data.
struct Binding {
  std::string_view service;
  std::string_view name;
  std::int64_t version = 0;
};

// The envelope (base64) of `plaintext` sealed for `binding`.
Result<std::string> seal(const MasterKey& key, const Binding& binding, std::string_view plaintext);

// The plaintext of `envelope`, which must have been sealed under `key` for `binding`.
Result<std::string> open(const MasterKey& key, const Binding& binding, std::string_view envelope);

// Standard base64 with padding. decode answers kInvalidArgument for anything else, whitespace
// and a missing padding included.
std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

}  // namespace rampart::secrets
