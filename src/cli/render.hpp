#pragma once
// The human output of the client verbs, from the admin API's JSON (docs/api.md). Pure
// functions: they never throw on an answer of an unexpected shape; a missing or mistyped field
// shows as "-".

#include "cli/settings.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::cli {

// A split object {"v1": 90, "v2": 10} -> "v1 90%, v2 10%" (in the object's order).
std::string split_text(const boost::json::value& split);

// A Deployment -> "shop: deployment 5 (split) v1 90%, v2 10%"; a rollback adds
// "; rolled back from 4 to 2". No trailing newline.
std::string deployment_line(const boost::json::value& deployment);

// The answer of POST .../deployments: deployment_line() of the deployment created, or, when
// the split was the one served ("changed": false), "shop: no change: deployment 5 serves v1
// 90%, v2 10% already (--force makes a new deployment)". Ends in a newline.
std::string split_summary(const boost::json::value& answer);

// The answer of DELETE /api/v1/tokens/NAME: `token "ci" revoked at T`. Ends in a newline.
std::string token_revoked(const boost::json::value& answer);

// A Checkpoint -> "shop: checkpoint 2 of deployment 7". No trailing newline.
std::string checkpoint_line(const boost::json::value& checkpoint);

// The answer of POST /api/v1/apply (and of POST /reload): a line per deployment created, or
// "no change: the store already holds SOURCE". Ends in a newline.
std::string apply_summary(const boost::json::value& answer, std::string_view source);

// The answer of POST /reload: "reloaded: routes generation N" (the gateway's own answer) or,
// as an apply, apply_summary's lines. Ends in a newline.
std::string reload_summary(const boost::json::value& answer);

// The answer of POST /api/v1/tokens: `token "ci" (deployer): SECRET` and a note that the
// secret is shown only once. Ends in a newline.
std::string token_created(const boost::json::value& answer);

// Tables; each takes the array the API answered (services, deployments, events, tokens).
// NAME ROUTES DEPLOYMENT SPLIT AGE (age of the latest deployment at `now_ms`).
std::string services_table(const boost::json::value& services, std::int64_t now_ms);
// ID CREATED CAUSE AUTHOR SPLIT MESSAGE, in the array's order.
std::string deployments_table(const boost::json::value& deployments);
// SEQ AT ACTOR ACTION TARGET.
std::string audit_table(const boost::json::value& events);
// NAME ROLE CREATED EXPIRES ("never" without expires_at) STATE ("revoked T", else "active").
std::string tokens_table(const boost::json::value& tokens);

// GET /api/v1/services/{service}: header lines, the versions table (VERSION WEIGHT UPSTREAMS
// REQUESTS 5XX% P50 P99) and the analytics line.
std::string service_detail(const boost::json::value& service, std::int64_t now_ms);

// The one line (without "rampart: ") for an answer that is not 2xx: the API's `detail`, after
// its `field` when it does not already start with it; 401 says where tokens come from; an
// answer that is not the API's error object says that the address does not answer as a
// rampart admin API. A config file's problems (invalid_config) keep one line each.
std::string api_error_message(unsigned status, std::string_view body,
                              const ClientSettings& settings);

}  // namespace rampart::cli
