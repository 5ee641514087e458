#pragma once
// Internal to src/config: the keys of a [[service.version]] that rampart runs —
//   run = ["./server", "--port", "{port}"]   instances = 2   workdir = "/srv/shop"
//   grace = "10s"   secrets = ["API_KEY"]
//   [service.version.env]  set = { LOG_LEVEL = "info" }  required = ["DATABASE_URL"]
//                          optional = ["SENTRY_DSN"]  formats = { DATABASE_URL = "^postgres://" }
// -> model::RunSpec. (`health` is any version's: config.cpp reads it.)

#include "config/reader.hpp"
#include "model/run_spec.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace rampart::config {

// The version keys only a run version takes (config.cpp accepts them beside name/upstreams).
inline constexpr std::array<std::string_view, 6> kRunKeys = {"run",   "instances", "workdir",
                                                             "grace", "secrets",   "env"};

// Reads the run keys of version scope `s`; nullopt when it has no `run` (then any other run
// key is reported: it needs `run`). Problems are reported to `r`.
std::optional<model::RunSpec> read_run(Reader& r, const Scope& s);

}  // namespace rampart::config
