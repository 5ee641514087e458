#include "secrets/master_key.hpp"

#include "common/private_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <utility>

namespace rampart::secrets {

namespace {

constexpr std::size_t kHexDigits = kMasterKeyBytes * 2;
// The file holds the hex digits and a newline; a file without the newline is accepted too.
constexpr std::size_t kFileBytes = kHexDigits + 1;

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Reads at most `limit` bytes (one more than a valid file holds, to see a file that is too big).
Result<std::string> read_at_most(int fd, const std::string& path, std::size_t limit) {
  std::string out(limit, '\0');
  std::size_t got = 0;
  while (got < limit) {
    const ssize_t n = ::read(fd, out.data() + got, limit - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      OPENSSL_cleanse(out.data(), out.size());
      return io_error("cannot read", path, errno);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

// Refuses a key file anyone but its owner could read or change: a leaked master key opens
// every secret, so a wide mode is a mistake to fix, not to work around.
Status check_file(const struct stat& st, const std::string& path) {
  if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("master key file \"{}\": is not a regular file", path));
  }
  const unsigned mode = st.st_mode & 07777;
  if ((mode & ~0600U) != 0) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("master key file \"{}\": has mode {:04o}, wider than 0600; "
                                  "only its owner may read it: run chmod 600 \"{}\"",
                                  path, mode, path));
  }
  if (st.st_size != static_cast<off_t>(kFileBytes) &&
      st.st_size != static_cast<off_t>(kHexDigits)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("master key file \"{}\": is {} bytes; it must hold 64 hex "
                                  "digits and a newline ({} bytes): restore it from your backup",
                                  path, st.st_size, kFileBytes));
  }
  return {};
}

// A temporary name next to `path`, unique to this process.
std::string temporary_name(const std::string& path) {
  return fmt::format("{}.tmp.{}", path, ::getpid());
}

}  // namespace

MasterKey::~MasterKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<MasterKey> MasterKey::generate() {
  Bytes bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return make_error(Errc::kInternal, "RAND_bytes failed: the system has no randomness to give");
  }
  MasterKey key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

Result<MasterKey> MasterKey::from_hex(std::string_view field, std::string_view text) {
  // The message says what is wrong without quoting the text: it may be a real key mistyped.
  auto bad = [&](std::string_view what) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: {}; it must be 64 hex digits (32 bytes), e.g. from "
                                  "`openssl rand -hex 32`",
                                  field, what));
  };
  if (text.empty()) {
    return bad("is empty");
  }
  if (text.size() != kHexDigits) {
    return bad(fmt::format("has {} characters", text.size()));
  }
  Bytes bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const int high = hex_value(text[2 * i]);
    const int low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) {
      OPENSSL_cleanse(bytes.data(), bytes.size());
      return bad("holds a character that is not a hex digit");
    }
    bytes[i] = static_cast<unsigned char>(high * 16 + low);
  }
  MasterKey key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

std::string MasterKey::hex() const {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(kHexDigits);
  for (unsigned char byte : bytes_) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

Result<MasterKey> read_master_key_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return make_error(Errc::kNotFound, fmt::format("master key file \"{}\": missing", path));
    }
    return io_error("cannot open master key file", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return io_error("cannot stat master key file", path, errno);
  }
  if (auto checked = check_file(st, path); !checked) {
    return checked.error();
  }
  auto text = read_at_most(fd.get(), path, kFileBytes + 1);
  if (!text) {
    return text.error();
  }
  std::string_view digits = *text;
  if (digits.size() == kFileBytes && digits.back() == '\n') {
    digits.remove_suffix(1);
  }
  auto key = MasterKey::from_hex(fmt::format("master key file \"{}\"", path), digits);
  OPENSSL_cleanse(text->data(), text->size());
  return key;
}

Result<MasterKey> create_master_key_file(const std::string& path) {
  auto key = MasterKey::generate();
  if (!key) {
    return key.error();
  }
  std::string text = key->hex();
  text += '\n';
  const std::string tmp = temporary_name(path);
  auto written = write_private_file(tmp, text, /*exclusive=*/true);
  OPENSSL_cleanse(text.data(), text.size());
  if (!written) {
    ::unlink(tmp.c_str());
    return written.error();
  }
  // link() publishes the whole file under its name, and fails rather than replace a key.
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) {
      return make_error(Errc::kConflict,
                        fmt::format("master key file \"{}\": exists already", path));
    }
    return io_error("cannot create master key file", path, link_errno);
  }
  if (auto synced = fsync_directory_of(path); !synced) {
    return synced.error();
  }
  return key;
}

Result<MasterKey> load_master_key(const std::string& data_dir, const char* variable_value) {
  if (variable_value != nullptr) {
    return MasterKey::from_hex(kMasterKeyVariable, variable_value);
  }
  const std::string path = (std::filesystem::path(data_dir) / kMasterKeyFileName).string();
  auto existing = read_master_key_file(path);
  if (existing || existing.error().code != Errc::kNotFound) {
    return existing;
  }
  auto created = create_master_key_file(path);
  if (!created && created.error().code == Errc::kConflict) {
    return read_master_key_file(path);  // another process created it meanwhile
  }
  return created;
}

}  // namespace rampart::secrets
