#include "secrets/secret_store.hpp"

#include "control/mutation.hpp"
#include "model/fields.hpp"
#include "model/keys.hpp"
#include "model/records.hpp"
#include "model/validate.hpp"
#include "secrets/cipher.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <optional>
#include <utility>

namespace rampart::secrets {

namespace {

namespace keys = model::keys;
using control::detail::Plan;

// A secret as stored: its version and time, and the envelope of its value. The name and the
// service come from the key, so a record copied under another key names that key's secret, and
// its envelope (bound to the original) does not open.
struct Stored {
  SecretInfo info;
  std::string sealed;
  std::int64_t mod_revision = 0;
};

std::string encode(const SecretInfo& info, const std::string& sealed) {
  return boost::json::serialize(boost::json::object{{"schema", kSecretSchema},
                                                    {"version", info.version},
                                                    {"created_at", info.created_at},
                                                    {"sealed", sealed}});
}

Error stored_error(const store::KeyValue& kv, const Error& e) {
  return make_error(Errc::kInternal, fmt::format("stored record \"{}\": {}", kv.key, e.message));
}

Result<Stored> decode(const store::KeyValue& kv) {
  auto key = keys::parse(kv.key);
  if (!key || key->kind != keys::KeyKind::kSecret) {
    return stored_error(kv, make_error(Errc::kInternal, "is not a secret's key"));
  }
  auto record = model::detail::open_record(kv.value, "secret", kSecretSchema);
  if (!record) {
    return stored_error(kv, record.error());
  }
  model::detail::Fields f(record->first, "secret record");
  Stored s;
  s.info.name = key->name;
  s.info.version = f.integer("version", 1, model::kMaxId);
  s.info.created_at = f.integer("created_at", 0, model::detail::kInt64Max);
  s.sealed = f.string("sealed");
  if (auto e = f.error()) {
    return stored_error(kv, *e);
  }
  s.mod_revision = kv.mod_revision;
  return s;
}

// What the audit log says of a secret version: that it exists, never what it holds.
boost::json::object audit_json(const SecretInfo& info) {
  return {{"name", info.name}, {"version", info.version}, {"created_at", info.created_at}};
}

std::string audit_target(std::string_view service, std::string_view name) {
  return fmt::format("secret:{}/{}", service, name);
}

Status validate_value(std::string_view value) {
  if (value.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "value: is empty; give the secret a value (or delete the secret)");
  }
  if (value.size() > kMaxValueBytes) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("value: is {} bytes; a secret holds at most {} bytes",
                                  value.size(), kMaxValueBytes));
  }
  if (value.find('\0') != std::string_view::npos) {
    return make_error(Errc::kInvalidArgument,
                      "value: holds a NUL byte, which an environment variable cannot hold");
  }
  return {};
}

Error not_found(std::string_view service, std::string_view name) {
  return make_error(Errc::kNotFound,
                    fmt::format("no secret named \"{}\" in service \"{}\"", name, service));
}

}  // namespace

Secret::~Secret() { OPENSSL_cleanse(value.data(), value.size()); }

Status validate_secret_name(std::string_view field, std::string_view name) {
  auto bad = [&](std::string_view what) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: {}; a secret's name is an environment variable's name: "
                                  "A-Z, 0-9 and _, not starting with a digit, e.g. API_KEY",
                                  field, what));
  };
  if (name.empty()) {
    return bad("is empty");
  }
  if (name.size() > kMaxNameBytes) {
    return bad(fmt::format("is {} bytes, longer than {}", name.size(), kMaxNameBytes));
  }
  if (name.front() >= '0' && name.front() <= '9') {
    return bad(fmt::format("\"{}\" starts with a digit", name));
  }
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) {
      // Quoting the name is safe: the value is never part of it.
      return bad(fmt::format("\"{}\" holds a character other than A-Z, 0-9 and _", name));
    }
  }
  return {};
}

SecretStore::SecretStore(store::Store& store, const MasterKey& key, control::UnixClock clock)
    : store_(store),
      key_(key),
      clock_(clock ? std::move(clock) : control::UnixClock(&control::system_unix_ms)) {}

Status SecretStore::validate_names(std::string_view service, std::string_view name,
                                   std::string_view actor) const {
  if (auto st = model::validate_service_name("service", service); !st) {
    return st;
  }
  if (auto st = validate_secret_name("name", name); !st) {
    return st;
  }
  return model::validate_token_name("actor", actor);
}

Result<SecretInfo> SecretStore::put(std::string_view service, std::string_view name,
                                    std::string_view value, std::string_view actor) {
  if (auto st = validate_names(service, name, actor); !st) {
    return st.error();
  }
  if (auto st = validate_value(value); !st) {
    return st.error();
  }
  const std::string key = keys::secret(service, name);
  SecretInfo made;
  auto attempt = [&]() -> Result<std::optional<Plan>> {
    auto view = control::detail::read_view(store_, {store::RangeOp{.key = key}});
    if (!view) {
      return view.error();
    }
    std::optional<Stored> existing;
    if (const store::KeyValue* kv = control::detail::only(view->ranges[0])) {
      auto stored = decode(*kv);
      if (!stored) {
        return stored.error();
      }
      existing = std::move(*stored);
    } else {
      // Read after the view: a put that commits in between advances the audit counter, so
      // this attempt's transaction fails its compare and the count is taken again.
      auto count = store_.range(keys::secrets_prefix(service),
                                {.prefix = true, .limit = kMaxSecretsPerService});
      if (!count) {
        return count.error();
      }
      if (count->kvs.size() >= kMaxSecretsPerService) {
        return make_error(Errc::kInvalidArgument,
                          fmt::format("name: service \"{}\" has {} secrets, the most it may "
                                      "have; delete one first",
                                      service, kMaxSecretsPerService));
      }
    }
    const std::int64_t now = clock_();
    made = SecretInfo{std::string(name), existing ? existing->info.version + 1 : 1, now};
    auto sealed = seal(key_, Binding{service, name, made.version}, value);
    if (!sealed) {
      return sealed.error();
    }
    Plan plan(*view);
    plan.put(key, encode(made, *sealed), existing ? existing->mod_revision : 0);
    plan.describe(now, actor, "secret.put", audit_target(service, name),
                  existing ? boost::json::value(audit_json(existing->info)) : nullptr,
                  audit_json(made));
    return std::optional<Plan>{std::move(plan)};
  };
  auto committed = control::detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  return made;
}

Result<std::vector<SecretInfo>> SecretStore::list(std::string_view service) {
  if (auto st = model::validate_service_name("service", service); !st) {
    return st.error();
  }
  auto range = store_.range(keys::secrets_prefix(service), {.prefix = true});
  if (!range) {
    return range.error();
  }
  std::vector<SecretInfo> out;
  out.reserve(range->kvs.size());
  for (const auto& kv : range->kvs) {
    auto stored = decode(kv);
    if (!stored) {
      return stored.error();
    }
    out.push_back(std::move(stored->info));
  }
  return out;
}

Result<SecretInfo> SecretStore::remove(std::string_view service, std::string_view name,
                                       std::string_view actor) {
  if (auto st = validate_names(service, name, actor); !st) {
    return st.error();
  }
  const std::string key = keys::secret(service, name);
  SecretInfo removed;
  auto attempt = [&]() -> Result<std::optional<Plan>> {
    auto view = control::detail::read_view(store_, {store::RangeOp{.key = key}});
    if (!view) {
      return view.error();
    }
    const store::KeyValue* kv = control::detail::only(view->ranges[0]);
    if (kv == nullptr) {
      return not_found(service, name);
    }
    auto stored = decode(*kv);
    if (!stored) {
      return stored.error();
    }
    removed = stored->info;
    Plan plan(*view);
    plan.remove(key, kv->mod_revision);
    plan.describe(clock_(), actor, "secret.delete", audit_target(service, name),
                  audit_json(removed), nullptr);
    return std::optional<Plan>{std::move(plan)};
  };
  auto committed = control::detail::mutate(store_, attempt);
  if (!committed) {
    return committed.error();
  }
  return removed;
}

Result<Secret> SecretStore::get(std::string_view service, std::string_view name) {
  if (auto st = model::validate_service_name("service", service); !st) {
    return st.error();
  }
  if (auto st = validate_secret_name("name", name); !st) {
    return st.error();
  }
  auto kv = store_.get(keys::secret(service, name));
  if (!kv) {
    return kv.error();
  }
  if (!*kv) {
    return not_found(service, name);
  }
  auto stored = decode(**kv);
  if (!stored) {
    return stored.error();
  }
  auto value = secrets::open(key_, Binding{service, name, stored->info.version}, stored->sealed);
  if (!value) {
    return make_error(value.error().code,
                      fmt::format("secret \"{}\" of service \"{}\" (version {}): {}", name, service,
                                  stored->info.version, value.error().message));
  }
  return Secret(std::move(stored->info), std::move(*value));
}

Status SecretStore::check_key() {
  // Every secret key starts with the prefix of the service "" without its last slash.
  std::string prefix = keys::secrets_prefix("");
  prefix.pop_back();
  auto range = store_.range(prefix, {.prefix = true, .limit = 1});
  if (!range) {
    return range.error();
  }
  if (range->kvs.empty()) {
    return {};
  }
  auto key = keys::parse(range->kvs.front().key);
  if (!key || key->kind != keys::KeyKind::kSecret) {
    return stored_error(range->kvs.front(), make_error(Errc::kInternal, "is not a secret's key"));
  }
  auto secret = get(key->service, key->name);
  if (!secret) {
    return secret.error();
  }
  return {};
}

}  // namespace rampart::secrets
