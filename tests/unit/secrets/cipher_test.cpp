// Sealing and opening: round trips, and each way an envelope fails to open with its message.

#include "secrets/cipher.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rampart::secrets {
namespace {

constexpr std::size_t kHeader = 1 + 8 + 8 + 12;

MasterKey key_of(unsigned char fill) {
  MasterKey::Bytes bytes{};
  bytes.fill(fill);
  return MasterKey(bytes);
}

const Binding kBinding{"shop", "API_KEY", 2};

// The envelope with one byte of its decoded form flipped.
std::string flip(const std::string& envelope, std::size_t at) {
  auto raw = base64_decode(envelope);
  EXPECT_TRUE(raw);
  (*raw)[at] = static_cast<char>((*raw)[at] ^ 0x01);
  return base64_encode(*raw);
}

bool starts_with(const Result<std::string>& r, std::string_view prefix) {
  return !r && r.error().message.starts_with(prefix);
}

TEST(CipherTest, RoundTrip) {
  const MasterKey key = key_of(7);
  const std::vector<std::string> values = {"x", "hunter2", std::string("a\x01\xff\x7f b", 6),
                                           std::string(64 * 1024, 'v')};
  for (const auto& value : values) {
    auto sealed = seal(key, kBinding, value);
    ASSERT_TRUE(sealed) << sealed.error().message;
    if (value.size() >= 7) {  // shorter ones may occur in any base64 text by chance
      EXPECT_EQ(sealed->find(value), std::string::npos);
    }
    auto raw = base64_decode(*sealed);
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->size(), kHeader + value.size() + 16);
    EXPECT_EQ((*raw)[0], static_cast<char>(kEnvelopeFormat));
    auto opened = open(key, kBinding, *sealed);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, value);
  }
}

TEST(CipherTest, EachSealHasItsOwnNonce) {
  const MasterKey key = key_of(7);
  auto a = seal(key, kBinding, "same value");
  auto b = seal(key, kBinding, "same value");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_NE(base64_decode(*a)->substr(17, 12), base64_decode(*b)->substr(17, 12));
}

TEST(CipherTest, AChangedCiphertextTagOrNonceIsReportedAsChanged) {
  const MasterKey key = key_of(7);
  const std::string value = "correct horse battery staple";
  auto sealed = seal(key, kBinding, value);
  ASSERT_TRUE(sealed);
  const std::size_t size = kHeader + value.size() + 16;
  for (std::size_t at : {kHeader - 1, kHeader, kHeader + 5, size - 16, size - 1}) {
    auto opened = open(key, kBinding, flip(*sealed, at));
    ASSERT_FALSE(opened) << "byte " << at;
    EXPECT_EQ(opened.error().code, Errc::kInternal);
    EXPECT_EQ(opened.error().message, kTamperedMessage) << "byte " << at;
  }
}

TEST(CipherTest, AnotherMasterKeyIsReportedAsSuch) {
  auto sealed = seal(key_of(7), kBinding, "hunter2");
  ASSERT_TRUE(sealed);
  auto opened = open(key_of(8), kBinding, *sealed);
  ASSERT_TRUE(starts_with(opened, kWrongKeyMessage)) << opened.error().message;
  EXPECT_NE(opened.error().message.find("RAMPART_MASTER_KEY"), std::string::npos);
  EXPECT_EQ(opened.error().message.find("hunter2"), std::string::npos);
  // A changed key id reads as another key: the id is all open() has to tell them apart.
  EXPECT_TRUE(starts_with(open(key_of(7), kBinding, flip(*sealed, 1)), kWrongKeyMessage));
}

TEST(CipherTest, ACiphertextMovedToAnotherSecretOrVersionDoesNotOpen) {
  const MasterKey key = key_of(7);
  auto sealed = seal(key, kBinding, "hunter2");
  ASSERT_TRUE(sealed);
  const std::vector<Binding> others = {{"shop", "API_KEY", 1},
                                       {"shop", "API_KEY", 3},
                                       {"shop", "DB_PASSWORD", 2},
                                       {"shop2", "API_KEY", 2},
                                       {"sho", "pAPI_KEY", 2}};
  for (const auto& other : others) {
    auto opened = open(key, other, *sealed);
    ASSERT_TRUE(starts_with(opened, kWrongBindingMessage))
        << other.service << "/" << other.name << " " << other.version;
    EXPECT_NE(opened.error().message.find(
                  fmt::format("{}/{} version {}", other.service, other.name, other.version)),
              std::string::npos)
        << opened.error().message;
  }
  // A changed binding id reads as another secret.
  EXPECT_TRUE(starts_with(open(key, kBinding, flip(*sealed, 9)), kWrongBindingMessage));
}

TEST(CipherTest, TextThatIsNotAnEnvelopeIsRefused) {
  const MasterKey key = key_of(7);
  auto sealed = seal(key, kBinding, "hunter2");
  ASSERT_TRUE(sealed);
  struct Case {
    std::string envelope;
    std::string expected;
  };
  std::string future = *base64_decode(*sealed);
  future[0] = 2;
  const std::vector<Case> cases = {
      {"", "shorter than any"},
      {"not base64!", "is not base64"},
      {*sealed + "\n", "is not base64"},
      {base64_encode(std::string(kHeader + 15, 'a')), "shorter than any"},
      {base64_encode(future), "has format 2"},
  };
  for (const auto& c : cases) {
    auto opened = open(key, kBinding, c.envelope);
    ASSERT_FALSE(opened) << c.envelope;
    EXPECT_EQ(opened.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(opened.error().message.starts_with("the secret cannot be decrypted: its envelope"))
        << opened.error().message;
    EXPECT_NE(opened.error().message.find(c.expected), std::string::npos) << opened.error().message;
  }
}

TEST(CipherTest, Base64RoundTripsAndRefusesTheRest) {
  for (const std::string bytes : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto decoded = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(decoded) << bytes;
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  for (const std::string text : {"Zm8", "Zm=8", "Z m8", "Zm8=\n", "====", "Zg===", "Zm9v-A=="}) {
    EXPECT_FALSE(base64_decode(text)) << text;
  }
}

}  // namespace
}  // namespace rampart::secrets
