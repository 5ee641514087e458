// The secret store over a MemoryStore: versions, list without values, audit without values,
// the plaintext nowhere in the store, a wrong key or a changed record detected, the limits.

#include "secrets/secret_store.hpp"

#include "model/codec.hpp"
#include "model/keys.hpp"
#include "secrets/cipher.hpp"
#include "store/memory_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rampart::secrets {
namespace {

namespace keys = model::keys;

constexpr std::int64_t kStart = 1'700'000'000'000;

MasterKey key_of(unsigned char fill) {
  MasterKey::Bytes bytes{};
  bytes.fill(fill);
  return MasterKey(bytes);
}

class SecretStoreTest : public ::testing::Test {
 protected:
  std::int64_t tick() { return now_ += 1000; }

  store::MemoryStore store_;
  std::atomic<std::int64_t> now_{kStart};
  SecretStore secrets_{store_, key_of(1), [this] { return tick(); }};

  std::vector<model::AuditEvent> audit() {
    std::vector<model::AuditEvent> out;
    auto range = store_.range(keys::audit_prefix(), {.prefix = true});
    EXPECT_TRUE(range);
    for (const auto& kv : range->kvs) {
      auto event = model::decode_audit_event(kv.value);
      EXPECT_TRUE(event) << event.error().message;
      out.push_back(std::move(*event));
    }
    return out;
  }

  // Rewrites the stored record of `name` with `edit` applied to its JSON object.
  void edit_record(const std::string& from, const std::string& to,
                   const std::function<void(boost::json::object&)>& edit) {
    auto kv = store_.get(keys::secret("shop", from));
    ASSERT_TRUE(kv && *kv);
    boost::json::object record = boost::json::parse((*kv)->value).as_object();
    edit(record);
    ASSERT_TRUE(store_.put(keys::secret("shop", to), boost::json::serialize(record)));
  }
};

TEST_F(SecretStoreTest, EachPutMakesTheNextVersionAndGetAnswersTheLatest) {
  for (std::int64_t v = 1; v <= 3; ++v) {
    auto put = secrets_.put("shop", "API_KEY", fmt::format("value-{}", v), "alice");
    ASSERT_TRUE(put) << put.error().message;
    EXPECT_EQ(*put, (SecretInfo{"API_KEY", v, kStart + v * 1000}));
    auto got = secrets_.get("shop", "API_KEY");
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->info, *put);
    EXPECT_EQ(got->value, fmt::format("value-{}", v));
  }
  // Another service's secret of the same name is its own.
  ASSERT_TRUE(secrets_.put("api", "API_KEY", "other", "alice"));
  EXPECT_EQ(secrets_.get("api", "API_KEY")->info.version, 1);
  EXPECT_EQ(secrets_.get("shop", "API_KEY")->value, "value-3");
}

TEST_F(SecretStoreTest, ListAnswersNamesVersionsAndTimesOnly) {
  ASSERT_TRUE(secrets_.put("shop", "DB_PASSWORD", "pw-1", "alice"));
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "key-1", "alice"));
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "key-2", "bob"));
  ASSERT_TRUE(secrets_.put("shop2", "OTHER", "x", "bob"));
  auto listed = secrets_.list("shop");
  ASSERT_TRUE(listed) << listed.error().message;
  const std::vector<SecretInfo> expected = {{"API_KEY", 2, kStart + 3000},
                                            {"DB_PASSWORD", 1, kStart + 1000}};
  EXPECT_EQ(*listed, expected);
  auto none = secrets_.list("empty");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(SecretStoreTest, ThePlaintextIsNowhereInTheStoreNorItsHistory) {
  const std::string value = "plaintext-7f3a9c-do-not-store";
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", value, "alice"));
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", value + "-2", "alice"));
  ASSERT_TRUE(secrets_.remove("shop", "API_KEY", "alice"));
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", value, "alice"));
  auto all = store_.range("", {.prefix = true});
  ASSERT_TRUE(all);
  auto history = store_.events_since("", 0);
  ASSERT_TRUE(history);
  std::size_t seen = 0;
  auto check = [&](const store::KeyValue& kv) {
    ++seen;
    EXPECT_EQ(kv.key.find("plaintext"), std::string::npos) << kv.key;
    EXPECT_EQ(kv.value.find("plaintext"), std::string::npos) << kv.key << ": " << kv.value;
  };
  for (const auto& kv : all->kvs) {
    check(kv);
  }
  for (const auto& event : history->events) {
    check(event.kv);
  }
  EXPECT_GE(seen, 10u);
}

TEST_F(SecretStoreTest, EachChangeHasAnAuditEventThatNamesItWithoutTheValue) {
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "first-value", "alice"));
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "second-value", "bob"));
  ASSERT_TRUE(secrets_.remove("shop", "API_KEY", "carol"));
  const auto events = audit();
  ASSERT_EQ(events.size(), 3u);
  auto info = [](std::int64_t version, std::int64_t at) {
    return boost::json::value{{"name", "API_KEY"}, {"version", version}, {"created_at", at}};
  };
  EXPECT_EQ(events[0].action, "secret.put");
  EXPECT_EQ(events[0].actor, "alice");
  EXPECT_EQ(events[0].target, "secret:shop/API_KEY");
  EXPECT_EQ(events[0].at, kStart + 1000);
  EXPECT_TRUE(events[0].before.is_null());
  EXPECT_EQ(events[0].after, info(1, kStart + 1000));
  EXPECT_EQ(events[1].actor, "bob");
  EXPECT_EQ(events[1].before, info(1, kStart + 1000));
  EXPECT_EQ(events[1].after, info(2, kStart + 2000));
  EXPECT_EQ(events[2].action, "secret.delete");
  EXPECT_EQ(events[2].before, info(2, kStart + 2000));
  EXPECT_TRUE(events[2].after.is_null());
  for (const auto& e : events) {
    const std::string text = model::encode(e);
    EXPECT_EQ(text.find("value"), std::string::npos) << text;
    EXPECT_EQ(text.find("sealed"), std::string::npos) << text;
  }
}

TEST_F(SecretStoreTest, RemoveDeletesAndAPutAfterItStartsAgain) {
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "a", "alice"));
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "b", "alice"));
  auto removed = secrets_.remove("shop", "API_KEY", "alice");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->version, 2);
  auto got = secrets_.get("shop", "API_KEY");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kNotFound);
  EXPECT_EQ(got.error().message, "no secret named \"API_KEY\" in service \"shop\"");
  EXPECT_TRUE(secrets_.list("shop")->empty());
  auto again = secrets_.remove("shop", "API_KEY", "alice");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kNotFound);
  EXPECT_EQ(audit().size(), 3u);  // the refused delete wrote nothing
  auto put = secrets_.put("shop", "API_KEY", "c", "alice");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->version, 1);
  EXPECT_EQ(secrets_.get("shop", "API_KEY")->value, "c");
}

TEST_F(SecretStoreTest, AnotherMasterKeyCannotOpenAndSaysWhy) {
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "hunter2", "alice"));
  SecretStore other(store_, key_of(2));
  auto got = other.get("shop", "API_KEY");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kInternal);
  EXPECT_TRUE(got.error().message.starts_with(
      std::string("secret \"API_KEY\" of service \"shop\" (version 1): ") +
      std::string(kWrongKeyMessage)))
      << got.error().message;
  // Listing needs no key.
  EXPECT_EQ(other.list("shop")->size(), 1u);
}

TEST_F(SecretStoreTest, CheckKeyTellsWhetherTheMasterKeyOpensTheStoredSecrets) {
  EXPECT_TRUE(secrets_.check_key());  // nothing stored: nothing to tell
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "hunter2", "alice"));
  ASSERT_TRUE(secrets_.put("cart", "DB_PASSWORD", "pw", "alice"));
  EXPECT_TRUE(secrets_.check_key());
  SecretStore other(store_, key_of(2));
  auto checked = other.check_key();
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, Errc::kInternal);
  // The first secret in key order: cart's.
  EXPECT_TRUE(checked.error().message.starts_with(
      std::string("secret \"DB_PASSWORD\" of service \"cart\" (version 1): ") +
      std::string(kWrongKeyMessage)))
      << checked.error().message;
  EXPECT_EQ(checked.error().message.find("pw"), std::string::npos);
}

TEST_F(SecretStoreTest, AChangedCiphertextIsDetected) {
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "hunter2", "alice"));
  edit_record("API_KEY", "API_KEY", [](boost::json::object& record) {
    std::string raw = *base64_decode(record["sealed"].as_string());
    raw[raw.size() - 20] = static_cast<char>(raw[raw.size() - 20] ^ 0x40);
    record["sealed"] = base64_encode(raw);
  });
  auto got = secrets_.get("shop", "API_KEY");
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find(kTamperedMessage), std::string::npos) << got.error().message;
  EXPECT_EQ(got.error().message.find("hunter2"), std::string::npos);
}

TEST_F(SecretStoreTest, ARecordMovedToAnotherNameOrVersionDoesNotOpen) {
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "key-1", "alice"));
  ASSERT_TRUE(secrets_.put("shop", "API_KEY", "key-2", "alice"));
  // The whole record of API_KEY copied under another name.
  edit_record("API_KEY", "DB_PASSWORD", [](boost::json::object&) {});
  auto moved = secrets_.get("shop", "DB_PASSWORD");
  ASSERT_FALSE(moved);
  EXPECT_NE(moved.error().message.find(kWrongBindingMessage), std::string::npos)
      << moved.error().message;
  // Version 2's ciphertext claiming to be version 3.
  edit_record("API_KEY", "API_KEY", [](boost::json::object& record) { record["version"] = 3; });
  auto renumbered = secrets_.get("shop", "API_KEY");
  ASSERT_FALSE(renumbered);
  EXPECT_NE(renumbered.error().message.find(kWrongBindingMessage), std::string::npos)
      << renumbered.error().message;
  EXPECT_NE(renumbered.error().message.find("shop/API_KEY version 3"), std::string::npos);
}

TEST_F(SecretStoreTest, AnUnreadableRecordNamesItsKey) {
  ASSERT_TRUE(store_.put(keys::secret("shop", "API_KEY"), "{\"schema\":1,\"version\":\"x\"}"));
  auto listed = secrets_.list("shop");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, Errc::kInternal);
  EXPECT_TRUE(
      listed.error().message.starts_with("stored record \"/rampart/secrets/shop/API_KEY\": secret "
                                         "record: field \"version\" must be an integer"))
      << listed.error().message;
}

TEST_F(SecretStoreTest, NamesAreEnvironmentVariableNames) {
  for (const std::string& name :
       std::vector<std::string>{"API_KEY", "_X", "A1", "A", std::string(128, 'N')}) {
    EXPECT_TRUE(validate_secret_name("name", name)) << name;
  }
  struct Case {
    std::string name;
    std::string expected;
  };
  const std::vector<Case> refused = {
      {"", "name: is empty"},
      {"api_key", "\"api_key\" holds a character other than A-Z"},
      {"1A", "\"1A\" starts with a digit"},
      {"A-B", "holds a character"},
      {"A/B", "holds a character"},
      {"A B", "holds a character"},
      {std::string(129, 'N'), "is 129 bytes, longer than 128"},
  };
  for (const auto& c : refused) {
    auto put = secrets_.put("shop", c.name, "v", "alice");
    ASSERT_FALSE(put) << c.name;
    EXPECT_EQ(put.error().code, Errc::kInvalidArgument);
    EXPECT_NE(put.error().message.find(c.expected), std::string::npos) << put.error().message;
    EXPECT_FALSE(secrets_.get("shop", c.name));
    EXPECT_FALSE(secrets_.remove("shop", c.name, "alice"));
  }
  EXPECT_FALSE(secrets_.put("Shop", "API_KEY", "v", "alice"));
  EXPECT_FALSE(secrets_.put("shop", "API_KEY", "v", "not an actor"));
  EXPECT_FALSE(secrets_.list("shop/x"));
  EXPECT_EQ(store_.revision(), 0);
}

TEST_F(SecretStoreTest, ValuesAreBounded) {
  EXPECT_TRUE(secrets_.put("shop", "BIG", std::string(kMaxValueBytes, 'v'), "alice"));
  EXPECT_EQ(secrets_.get("shop", "BIG")->value.size(), kMaxValueBytes);
  struct Case {
    std::string value;
    std::string expected;
  };
  const std::vector<Case> refused = {
      {"", "value: is empty"},
      {std::string(kMaxValueBytes + 1, 'v'), "value: is 65537 bytes; a secret holds at most 65536"},
      {std::string("a\0b", 3), "value: holds a NUL byte"},
  };
  const std::int64_t revision = store_.revision();
  for (const auto& c : refused) {
    auto put = secrets_.put("shop", "API_KEY", c.value, "alice");
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(put.error().message.starts_with(c.expected)) << put.error().message;
  }
  EXPECT_EQ(store_.revision(), revision);
}

TEST_F(SecretStoreTest, AServiceHoldsAtMost256Secrets) {
  for (std::size_t i = 0; i < kMaxSecretsPerService; ++i) {
    ASSERT_TRUE(secrets_.put("shop", fmt::format("S{}", i), "v", "alice")) << i;
  }
  auto full = secrets_.put("shop", "ONE_MORE", "v", "alice");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(full.error().message,
            "name: service \"shop\" has 256 secrets, the most it may have; delete one first");
  // A new version of an existing secret, another service, and a name freed by a delete still go.
  EXPECT_TRUE(secrets_.put("shop", "S0", "v2", "alice"));
  EXPECT_TRUE(secrets_.put("api", "ONE_MORE", "v", "alice"));
  ASSERT_TRUE(secrets_.remove("shop", "S1", "alice"));
  EXPECT_TRUE(secrets_.put("shop", "ONE_MORE", "v", "alice"));
  EXPECT_EQ(secrets_.list("shop")->size(), kMaxSecretsPerService);
}

TEST_F(SecretStoreTest, PutsThatRaceMakeDistinctVersions) {
  constexpr int kThreads = 4;
  constexpr int kPuts = 10;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::int64_t>> versions(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPuts; ++i) {
        auto put = secrets_.put("shop", "API_KEY", fmt::format("{}-{}", t, i), "alice");
        ASSERT_TRUE(put) << put.error().message;
        versions[t].push_back(put->version);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::int64_t> all;
  for (const auto& v : versions) {
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPuts));
  EXPECT_EQ(*all.rbegin(), kThreads * kPuts);
  EXPECT_EQ(secrets_.get("shop", "API_KEY")->info.version, kThreads * kPuts);
  EXPECT_EQ(audit().size(), static_cast<std::size_t>(kThreads * kPuts));
}

TEST(SecretKeysTest, KeysParseBack) {
  EXPECT_EQ(keys::secret("shop", "API_KEY"), "/rampart/secrets/shop/API_KEY");
  EXPECT_EQ(keys::secrets_prefix("shop"), "/rampart/secrets/shop/");
  auto parsed = keys::parse(keys::secret("shop", "API_KEY"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, (keys::ParsedKey{keys::KeyKind::kSecret, "shop", "API_KEY", 0}));
  EXPECT_FALSE(keys::parse("/rampart/secrets/shop"));
  EXPECT_FALSE(keys::parse("/rampart/secrets/shop/A/B"));
}

}  // namespace
}  // namespace rampart::secrets
