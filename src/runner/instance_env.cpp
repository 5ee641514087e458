#include "runner/instance_env.hpp"

#include "secrets/secret_store.hpp"

#include <cstdlib>

namespace rampart::runner {

SecretValues secret_values(secrets::SecretStore& store) {
  return [&store](const std::string& service, const std::optional<std::vector<std::string>>& names)
             -> Result<std::map<std::string, std::string>> {
    std::vector<std::string> wanted;
    if (names) {
      wanted = *names;
    } else {
      auto all = store.list(service);
      if (!all) {
        return all.error();
      }
      for (const auto& info : *all) {
        wanted.push_back(info.name);
      }
    }
    std::map<std::string, std::string> out;
    for (const auto& name : wanted) {
      auto secret = store.get(service, name);
      if (!secret) {
        return make_error(secret.error().code, "secret " + name + ": " + secret.error().message);
      }
      out.emplace(name, std::move(secret->value));
    }
    return out;
  };
}

Result<std::map<std::string, std::string>> instance_env(const std::string& service,
                                                        const model::RunSpec& run,
                                                        const SecretValues& secrets) {
  std::map<std::string, std::string> env = run.env;
  for (const auto* names : {&run.env_spec.required, &run.env_spec.optional}) {
    for (const auto& name : *names) {
      if (env.contains(name)) {
        continue;
      }
      if (const char* value = std::getenv(name.c_str())) {
        env.emplace(name, value);
      }
    }
  }
  if (!secrets) {
    return env;
  }
  auto values = secrets(service, run.secrets);
  if (!values) {
    return values.error();
  }
  for (auto& [name, value] : *values) {
    env[name] = std::move(value);  // a secret wins over a plain variable of its name
  }
  return env;
}

}  // namespace rampart::runner
