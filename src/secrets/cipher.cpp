#include "secrets/cipher.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <limits>
#include <memory>

namespace rampart::secrets {

namespace {

constexpr std::size_t kHeaderBytes = 1 + kIdBytes + kIdBytes + kNonceBytes;
constexpr std::string_view kKeyIdLabel = "rampart master key id";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

using Id = std::array<unsigned char, kIdBytes>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes_of(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Id key_id(const MasterKey& key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.bytes().data(), static_cast<int>(key.bytes().size()),
       bytes_of(kKeyIdLabel), kKeyIdLabel.size(), mac.data(), &length);
  Id id{};
  std::copy_n(mac.begin(), id.size(), id.begin());
  return id;
}

// The binding as bytes: names never hold NUL (they are validated), so NUL separates them.
std::string binding_text(const Binding& b) {
  std::string out = "rampart secret";
  out += '\0';
  out += b.service;
  out += '\0';
  out += b.name;
  out += '\0';
  out += std::to_string(b.version);
  return out;
}

Id binding_id(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(bytes_of(text), text.size(), digest.data());
  Id id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

Error crypto_error(std::string_view what) {
  return make_error(Errc::kInternal, fmt::format("OpenSSL {} failed", what));
}

// Runs AES-256-GCM over `in` into `out` (same size) with `header` + `binding` as associated
// data. Sealing writes the tag to `tag`; opening checks it against `tag` (false: no match).
Result<bool> run_gcm(bool sealing, const MasterKey& key, std::string_view header,
                     std::string_view binding, std::string_view in, unsigned char* out,
                     unsigned char* tag) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  const unsigned char* nonce = bytes_of(header) + header.size() - kNonceBytes;
  int length = 0;
  const bool ready =
      ctx != nullptr &&
      EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, sealing ? 1 : 0) ==
          1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                          nullptr) == 1 &&
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.bytes().data(), nonce, -1) == 1 &&
      EVP_CipherUpdate(ctx.get(), nullptr, &length, bytes_of(header),
                       static_cast<int>(header.size())) == 1 &&
      EVP_CipherUpdate(ctx.get(), nullptr, &length, bytes_of(binding),
                       static_cast<int>(binding.size())) == 1 &&
      EVP_CipherUpdate(ctx.get(), out, &length, bytes_of(in), static_cast<int>(in.size())) == 1;
  if (!ready) {
    return crypto_error("AES-256-GCM");
  }
  if (!sealing &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    return crypto_error("AES-256-GCM set tag");
  }
  if (EVP_CipherFinal_ex(ctx.get(), out + length, &length) != 1) {
    if (sealing) {
      return crypto_error("AES-256-GCM final");
    }
    return false;
  }
  if (sealing &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    return crypto_error("AES-256-GCM get tag");
  }
  return true;
}

Error not_an_envelope(std::string_view why) {
  return make_error(Errc::kInvalidArgument,
                    fmt::format("the secret cannot be decrypted: its envelope {}", why));
}

}  // namespace

Result<std::string> seal(const MasterKey& key, const Binding& binding, std::string_view plaintext) {
  if (plaintext.size() > static_cast<std::size_t>(std::numeric_limits<int>::max() / 2)) {
    return make_error(Errc::kInvalidArgument, "value: too large to seal");
  }
  const std::string bound = binding_text(binding);
  const Id kid = key_id(key);
  const Id bid = binding_id(bound);
  std::string envelope(kHeaderBytes + plaintext.size() + kTagBytes, '\0');
  envelope[0] = static_cast<char>(kEnvelopeFormat);
  std::copy(kid.begin(), kid.end(), envelope.begin() + 1);
  std::copy(bid.begin(), bid.end(), envelope.begin() + 1 + kIdBytes);
  if (RAND_bytes(bytes_of(envelope) + 1 + 2 * kIdBytes, static_cast<int>(kNonceBytes)) != 1) {
    return make_error(Errc::kInternal, "RAND_bytes failed: the system has no randomness to give");
  }
  const std::string_view header(envelope.data(), kHeaderBytes);
  unsigned char* body = bytes_of(envelope) + kHeaderBytes;
  auto sealed = run_gcm(true, key, header, bound, plaintext, body, body + plaintext.size());
  if (!sealed) {
    return sealed.error();
  }
  return base64_encode(envelope);
}

Result<std::string> open(const MasterKey& key, const Binding& binding, std::string_view envelope) {
  auto raw = base64_decode(envelope);
  if (!raw) {
    return not_an_envelope("is not base64");
  }
  if (raw->size() < kHeaderBytes + kTagBytes) {
    return not_an_envelope(fmt::format("is {} bytes, shorter than any", raw->size()));
  }
  const auto format = static_cast<unsigned char>((*raw)[0]);
  if (format != kEnvelopeFormat) {
    return not_an_envelope(fmt::format(
        "has format {}, which this rampart does not know (it knows {}); upgrade rampart", format,
        kEnvelopeFormat));
  }
  const Id kid = key_id(key);
  if (CRYPTO_memcmp(raw->data() + 1, kid.data(), kIdBytes) != 0) {
    return make_error(Errc::kInternal,
                      fmt::format("{}; start rampart with that master key ({} or {} in the data "
                                  "directory)",
                                  kWrongKeyMessage, kMasterKeyVariable, kMasterKeyFileName));
  }
  const std::string bound = binding_text(binding);
  const Id bid = binding_id(bound);
  if (CRYPTO_memcmp(raw->data() + 1 + kIdBytes, bid.data(), kIdBytes) != 0) {
    return make_error(
        Errc::kInternal,
        fmt::format("{} than {}/{} version {}: it was copied from elsewhere", kWrongBindingMessage,
                    binding.service, binding.name, binding.version));
  }
  const std::size_t size = raw->size() - kHeaderBytes - kTagBytes;
  const std::string_view header(raw->data(), kHeaderBytes);
  const std::string_view ciphertext(raw->data() + kHeaderBytes, size);
  std::string plaintext(size, '\0');
  auto opened = run_gcm(false, key, header, bound, ciphertext, bytes_of(plaintext),
                        bytes_of(*raw) + kHeaderBytes + size);
  if (!opened || !*opened) {
    // GCM decrypts before it checks the tag: what is in the buffer must not outlive a failure.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    if (!opened) {
      return opened.error();
    }
    return make_error(Errc::kInternal, std::string(kTamperedMessage));
  }
  return plaintext;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(bytes_of(out), bytes_of(bytes), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  auto invalid = [] { return make_error(Errc::kInvalidArgument, "not base64"); };
  if (text.size() % 4 != 0) {
    return invalid();
  }
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  if (text.substr(0, text.size() - padding).find_first_not_of(kBase64Alphabet) !=
      std::string_view::npos) {
    return invalid();
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(bytes_of(out), bytes_of(text), static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
    return invalid();
  }
  out.resize(out.size() - padding);
  return out;
}

}  // namespace rampart::secrets
