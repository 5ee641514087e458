// The record codecs: round trips, golden records of the current and of older schemas, newer
// schemas refused, unknown fields ignored, malformed records named precisely.

#include "model/codec.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace rampart::model {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kGolden = fs::path(RAMPART_SOURCE_DIR) / "tests/unit/model/golden";

std::string golden(const std::string& name) {
  std::ifstream in(kGolden / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden file " << name;
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// The JSON text with `field` set to `value` (or removed when value is empty).
std::string with_field(const std::string& text, std::string_view field, std::string_view value) {
  json::object o = json::parse(text).as_object();
  if (value.empty()) {
    o.erase(field);
  } else {
    o[field] = json::parse(value);
  }
  return json::serialize(o);
}

// --- Sample records of every kind --------------------------------------------------------------

// A policy with every part set to something other than its default.
rollout::Policy sample_policy() {
  using std::chrono::milliseconds;
  rollout::Policy p;
  p.strategy_name = "custom";
  p.strategy.steps = {{1000, milliseconds(300000)}, {2500, milliseconds(0), true}, {10000}};
  p.rollback_window = milliseconds(60000);
  p.deploy_windows = {{5, 6}, 120};
  p.interval = milliseconds(5000);
  p.analysis = {.min_requests = 50,
                .failure_limit = 3,
                .inconclusive = rollout::Inconclusive::kPause,
                .require_evidence = true,
                .max_step_duration = milliseconds(600000),
                .on_inconclusive = rollout::Inconclusive::kRollback,
                .checks = {{.metric = rollout::Metric::kErrorRate, .max = 0.01, .critical = 0.05},
                           {.metric = rollout::Metric::kSuccessRate, .min = 0.99},
                           {.metric = rollout::Metric::kP95Ms, .max_ratio_to_stable = 1.2}}};
  p.pre = {{"tests", "make test"}};
  p.health = {"/healthz", 4, milliseconds(250)};
  p.verify = {{"/health", 200, {}}, {"/api/stats", 204, milliseconds(2000)}};
  p.verify_tries = 7;
  p.webhooks = {{"https://hooks.example.com/deploys",
                 {"rollback"},
                 "SHOP_HOOK_SECRET",
                 milliseconds(2000),
                 5}};
  return p;
}

Service sample_service() {
  return Service{.name = "shop",
                 .routes = {{"shop.example.com", "/"}, {"", "/shop/"}},
                 .sticky = {StickyKind::kHeader, "X-User-Id"},
                 .salt = "pepper",
                 .balance = Balance::kRoundRobin,
                 .eject_after = 5,
                 .eject_for_ms = 2500,
                 .rollout = sample_policy()};
}

Version sample_version() {
  return Version{.service = "shop",
                 .name = "v2",
                 .ordinal = 2,
                 .upstreams = {"http://[::1]:9002"},
                 .created_at = 1700000000500,
                 .health_path = "/healthz"};
}

// A version that rampart runs (schema 3's "run").
Version sample_run_version() {
  RunSpec run;
  run.argv = {"./server", "--port", "{port}"};
  run.instances = 2;
  run.workdir = "/srv/shop";
  run.env = {{"LOG_LEVEL", "info"}};
  run.grace_ms = 5000;
  run.env_spec.required = {"DATABASE_URL"};
  run.env_spec.optional = {"SENTRY_DSN"};
  run.env_spec.formats = {{"DATABASE_URL", "^postgres://.+"}};
  run.secrets = std::vector<std::string>{"API_KEY"};
  return Version{.service = "shop",
                 .name = "v3",
                 .ordinal = 3,
                 .upstreams = {},
                 .created_at = 1700000000900,
                 .health_path = "/health",
                 .run = run};
}

Deployment sample_rollback() {
  Deployment d;
  d.service = "shop";
  d.id = 4;
  d.split = {{"v1", 9000}, {"v2", 1000}};
  d.author = "bob";
  d.created_at = 1700000004000;
  d.message = "rollback to deployment 2";
  d.cause = "rollback";
  d.rolled_back_from = 3;
  d.rolled_back_to = 2;
  return d;
}

Checkpoint sample_checkpoint() {
  return Checkpoint{.service = "shop",
                    .id = 1,
                    .deployment_id = 2,
                    .note = "before the sale",
                    .author = "alice",
                    .created_at = 1700000002500};
}

AuditEvent sample_audit_event() {
  AuditEvent a;
  a.seq = 7;
  a.at = 1700000004000;
  a.actor = "bob";
  a.action = "split";
  a.target = "service:shop";
  a.before = nullptr;
  a.after = json::parse(R"({"id":4,"split":[{"version":"v1","basis_points":9000}]})");
  return a;
}

Token sample_token() {
  return Token{.name = "ci",
               .role = Role::kDeployer,
               .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
               .created_at = 1700000000000,
               .expires_at = 1702592000000};
}

// --- Round trips -------------------------------------------------------------------------------

TEST(Codec, ServiceRoundTrips) {
  for (const Service& s :
       {sample_service(), Service{.name = "api", .routes = {{"", "/"}}, .salt = "api"},
        Service{.name = "b",
        .routes = {{"b.example", "/x/"}},
        .sticky = {StickyKind::kNone, ""},
        .salt = "s"},
        Service{.name = "c",
        .routes = {{"", "/"}},
        .sticky = {StickyKind::kCookie, "sid"},
        .salt = "c"}}) {
    auto decoded = decode_service(encode(s));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, s);
  }
}

TEST(Codec, VersionRoundTrips) {
  auto decoded = decode_version(encode(sample_version()));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, sample_version());
}

TEST(Codec, DeploymentRoundTripsWithAndWithoutRollbackLinks) {
  Deployment plain = sample_rollback();
  plain.cause = "split";
  plain.rolled_back_from.reset();
  plain.rolled_back_to.reset();
  plain.message = "";
  for (const Deployment& d : {sample_rollback(), plain}) {
    auto decoded = decode_deployment(encode(d));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, d);
  }
}

TEST(Codec, DeploymentRevisionIsNotEncoded) {
  Deployment d = sample_rollback();
  d.revision = 42;
  auto decoded = decode_deployment(encode(d));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->revision, 0);
  EXPECT_EQ(encode(d), encode(sample_rollback()));
}

TEST(Codec, CheckpointRoundTrips) {
  auto decoded = decode_checkpoint(encode(sample_checkpoint()));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, sample_checkpoint());
}

TEST(Codec, AuditEventRoundTrips) {
  AuditEvent with_objects = sample_audit_event();
  with_objects.before = json::parse(R"({"services":[],"n":-3,"big":18446744073709551615})");
  for (const AuditEvent& a : {sample_audit_event(), with_objects}) {
    auto decoded = decode_audit_event(encode(a));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, a);
  }
}

TEST(Codec, TokenRoundTripsEveryRole) {
  for (Role role : {Role::kAdmin, Role::kDeployer, Role::kReadOnly}) {
    Token t = sample_token();
    t.role = role;
    auto decoded = decode_token(encode(t));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, t);
  }
}

// --- Golden records ------------------------------------------------------------------------------
// The current schema's golden files pin the encoding byte for byte: a change to a record's
// encoding must come with a schema bump or be additive, and show up here.

TEST(Golden, CurrentSchemasEncodeExactly) {
  EXPECT_EQ(encode(sample_service()), golden("service.schema2.json"));
  EXPECT_EQ(encode(sample_version()), golden("version.schema3.json"));
  EXPECT_EQ(encode(sample_run_version()), golden("version.schema3.run.json"));
  EXPECT_EQ(encode(sample_rollback()), golden("deployment.schema2.json"));
  EXPECT_EQ(encode(sample_checkpoint()), golden("checkpoint.schema1.json"));
  EXPECT_EQ(encode(sample_audit_event()), golden("audit_event.schema1.json"));
  EXPECT_EQ(encode(sample_token()), golden("token.schema2.json"));
}

TEST(Golden, CurrentSchemasDecode) {
  auto s = decode_service(golden("service.schema2.json"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s, sample_service());
  auto v = decode_version(golden("version.schema3.json"));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, sample_version());
  auto run = decode_version(golden("version.schema3.run.json"));
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(*run, sample_run_version());
  // Schema 2, before "run": a version served by its upstreams.
  auto two = decode_version(golden("version.schema2.json"));
  ASSERT_TRUE(two) << two.error().message;
  EXPECT_EQ(*two, sample_version());
  auto d = decode_deployment(golden("deployment.schema2.json"));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, sample_rollback());
  auto c = decode_checkpoint(golden("checkpoint.schema1.json"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, sample_checkpoint());
  auto a = decode_audit_event(golden("audit_event.schema1.json"));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, sample_audit_event());
  auto t = decode_token(golden("token.schema2.json"));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, sample_token());
}

TEST(Golden, SchemaOneTokenNeitherExpiresNorWasRevoked) {
  auto t = decode_token(golden("token.schema1.json"));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->name, "ci");
  EXPECT_EQ(t->expires_at, std::nullopt);
  EXPECT_EQ(t->revoked_at, std::nullopt);
  EXPECT_NE(encode(*t).find(R"("schema":2)"), std::string::npos);
  // Schema 2 requires both fields (null when unset).
  auto missing = decode_token(with_field(golden("token.schema2.json"), "revoked_at", ""));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("revoked_at"), std::string::npos)
      << missing.error().message;
}

TEST(Golden, SchemaOneServiceReadsTheDefaultRolloutPolicy) {
  auto s = decode_service(golden("service.schema1.json"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "shop");
  EXPECT_EQ(s->rollout, rollout::default_policy());
  EXPECT_NE(encode(*s).find(R"("schema":2)"), std::string::npos);
  // Schema 2 requires the policy.
  auto missing = decode_service(with_field(golden("service.schema2.json"), "rollout", ""));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("rollout"), std::string::npos) << missing.error().message;
}

// Schema-2 records written before webhooks had secret_env, timeout and tries read the defaults.
TEST(Golden, AWebhookWithOnlyItsUrlAndEventsReadsTheDeliveryDefaults) {
  auto s = decode_service(golden("service.schema2.webhooks_url_only.json"));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->rollout.webhooks.size(), 1u);
  const rollout::Webhook& hook = s->rollout.webhooks[0];
  EXPECT_EQ(hook.url, "https://hooks.example.com/deploys");
  EXPECT_EQ(hook.events, std::vector<std::string>{"rollback"});
  EXPECT_EQ(hook.secret_env, "");
  EXPECT_EQ(hook.timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(hook.tries, 3u);
  std::string text = golden("service.schema2.json");
  text.replace(text.find(R"("tries":5)"), 9, R"("tries":11)");
  auto bad = decode_service(text);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("tries"), std::string::npos) << bad.error().message;
}

// Service policies written before the sequential judge name no judge: they get the default,
// the sequential judge at alpha 1%. A rollout's plan without one was the threshold judge's.
TEST(Golden, APolicyWithoutAJudgeReadsTheSequentialJudge) {
  auto s = decode_service(golden("service.schema2.before_judge.json"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->rollout.analysis.judge, rollout::JudgeKind::kSequential);
  EXPECT_EQ(s->rollout.analysis.alpha, 0.01);
  auto current = decode_service(golden("service.schema2.json"));
  ASSERT_TRUE(current) << current.error().message;
  EXPECT_EQ(*current, sample_service());
  std::string text = golden("service.schema2.json");
  text.replace(text.find(R"("judge":"sequential")"), 20, R"("judge":"oracle")");
  auto bad = decode_service(text);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("judge"), std::string::npos) << bad.error().message;
}

// Service policies written before require_evidence and max_step_duration read their defaults:
// no evidence required, 30 minutes undecided past a step's pause, then a pause for a person.
TEST(Golden, APolicyWithoutRequireEvidenceOrMaxStepDurationReadsTheDefaults) {
  auto s = decode_service(golden("service.schema2.before_evidence.json"));
  ASSERT_TRUE(s) << s.error().message;
  const rollout::AnalysisPolicy& a = s->rollout.analysis;
  EXPECT_FALSE(a.require_evidence);
  EXPECT_EQ(a.max_step_duration, rollout::kDefaultMaxStepDuration);
  EXPECT_EQ(a.on_inconclusive, rollout::Inconclusive::kPause);
  EXPECT_EQ(a.min_requests, 50u);  // the rest as written
  std::string text = golden("service.schema2.json");
  text.replace(text.find(R"("on_inconclusive":"rollback")"), 28, R"("on_inconclusive":"shrug")");
  auto bad = decode_service(text);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("on_inconclusive"), std::string::npos) << bad.error().message;
}

TEST(Golden, SchemaOneVersionReadsTheDefaultHealthPath) {
  auto v = decode_version(golden("version.schema1.json"));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->name, "v1");
  EXPECT_EQ(v->ordinal, 1);
  EXPECT_EQ(v->upstreams,
            (std::vector<std::string>{"http://127.0.0.1:9001", "http://127.0.0.1:9011"}));
  EXPECT_EQ(v->health_path, "/health");
  // Written back, it is a current record.
  EXPECT_NE(encode(*v).find(R"("schema":3)"), std::string::npos);
  EXPECT_NE(encode(*v).find(R"("health_path":"/health")"), std::string::npos);
}

TEST(Golden, ARunVersionWithABadRunIsRefusedNamingTheField) {
  auto text = golden("version.schema3.run.json");
  text.replace(text.find(R"("instances":2)"), 13, R"("instances":0)");
  auto bad = decode_version(text);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("version record: run: field \"instances\""), std::string::npos)
      << bad.error().message;
  auto empty = golden("version.schema3.run.json");
  empty.replace(empty.find(R"(["./server","--port","{port}"])"), 30, "[]");
  auto no_command = decode_version(empty);
  ASSERT_FALSE(no_command);
  EXPECT_NE(no_command.error().message.find("argv"), std::string::npos);
}

TEST(Golden, SchemaOneDeploymentReadsWithoutRollbackLinks) {
  auto d = decode_deployment(golden("deployment.schema1.json"));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->id, 3);
  EXPECT_EQ(d->cause, "rollback");
  EXPECT_EQ(d->split, (std::vector<SplitEntry>{{"v1", 10000}, {"v2", 0}}));
  EXPECT_EQ(d->rolled_back_from, std::nullopt);
  EXPECT_EQ(d->rolled_back_to, std::nullopt);
  auto rewritten = decode_deployment(encode(*d));
  ASSERT_TRUE(rewritten) << rewritten.error().message;
  EXPECT_EQ(*rewritten, *d);
}

// A field a schema added is required in records of that schema: its absence is corruption,
// not an older record.
TEST(Golden, FieldsOfTheirSchemaAreRequired) {
  auto v = decode_version(with_field(golden("version.schema2.json"), "health_path", ""));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message, "version record: field \"health_path\" is missing");
  auto d = decode_deployment(with_field(golden("deployment.schema2.json"), "rolled_back_to", ""));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "deployment record: field \"rolled_back_to\" is missing");
}

// --- Newer schemas and unknown fields, for every record
// --------------------------------------------

struct Kind {
  std::string name;
  std::string current;  // a golden record of the current schema
  int schema;
  std::function<Status(std::string_view)> decode;
};

template <class T>
std::function<Status(std::string_view)> as_status(Result<T> (*decode)(std::string_view)) {
  return [decode](std::string_view text) -> Status {
    auto r = decode(text);
    if (!r) {
      return r.error();
    }
    return {};
  };
}

std::vector<Kind> kinds() {
  return {
      {"service", golden("service.schema1.json"), kServiceSchema, as_status(&decode_service)},
      {"version", golden("version.schema2.json"), kVersionSchema, as_status(&decode_version)},
      {"deployment", golden("deployment.schema2.json"), kDeploymentSchema,
       as_status(&decode_deployment)},
      {"checkpoint", golden("checkpoint.schema1.json"), kCheckpointSchema,
       as_status(&decode_checkpoint)},
      {"audit event", golden("audit_event.schema1.json"), kAuditEventSchema,
       as_status(&decode_audit_event)},
      {"token", golden("token.schema2.json"), kTokenSchema, as_status(&decode_token)},
  };
}

TEST(Schema, NewerSchemaIsRefusedWithBothNumbers) {
  for (const auto& kind : kinds()) {
    const int newer = kind.schema + 1;
    auto r = kind.decode(with_field(kind.current, "schema", std::to_string(newer)));
    ASSERT_FALSE(r) << kind.name;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(r.error().message, kind.name + " record has schema " + std::to_string(newer) +
                                     ", newer than this rampart knows (" +
                                     std::to_string(kind.schema) + "); upgrade rampart to read it");
  }
}

TEST(Schema, UnknownFieldsAreIgnored) {
  for (const auto& kind : kinds()) {
    auto text = with_field(kind.current, "added_by_a_newer_rampart", R"({"x":[1,2,3]})");
    auto r = kind.decode(text);
    EXPECT_TRUE(r) << kind.name << ": " << r.error().message;
  }
  auto d =
      decode_deployment(with_field(golden("deployment.schema2.json"), "rollout", R"({"step":2})"));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, sample_rollback());
}

TEST(Schema, MissingOrInvalidSchemaIsRefused) {
  for (const auto& kind : kinds()) {
    for (const char* schema : {"", "0", "-1", "\"2\"", "1.5", "null"}) {
      auto r = kind.decode(with_field(kind.current, "schema", schema));
      ASSERT_FALSE(r) << kind.name << " with schema " << schema;
      EXPECT_NE(r.error().message.find(kind.name + " record: field \"schema\""), std::string::npos)
          << r.error().message;
    }
  }
}

// --- Malformed records ---------------------------------------------------------------------------

struct MalformedCase {
  std::string record;  // golden file
  std::string field;
  std::string value;  // JSON; empty: remove the field
  std::string message;
};

TEST(Malformed, NamesTheFieldAndTheProblem) {
  const std::vector<MalformedCase> cases = {
      {"service.schema1.json", "name", "", "service record: field \"name\" is missing"},
      {"service.schema1.json", "name", "7", "service record: field \"name\" must be a string"},
      {"service.schema1.json", "routes", "{}", "service record: field \"routes\" must be an array"},
      {"service.schema1.json", "routes", "[1]",
       "service record: field \"routes[0]\" must be an object"},
      {"service.schema1.json", "routes", R"([{"host":""}])",
       "service record: routes[0]: field \"path_prefix\" is missing"},
      {"service.schema1.json", "sticky", "\"header:\"",
       "service record: field \"sticky\" is \"header:\"; expected ip, none, header:NAME or "
       "cookie:NAME"},
      {"service.schema1.json", "balance", "\"random\"",
       "service record: field \"balance\" is \"random\"; expected least_request or round_robin"},
      {"service.schema1.json", "eject_after", "-1",
       "service record: field \"eject_after\" is -1, outside [0, 4294967295]"},
      {"service.schema1.json", "eject_for_ms", "1.0",
       "service record: field \"eject_for_ms\" must be an integer"},
      {"version.schema2.json", "upstreams", R"(["http://a:1", 2])",
       "version record: field \"upstreams[1]\" must be a string"},
      {"version.schema2.json", "ordinal", "0",
       "version record: field \"ordinal\" is 0, outside [1, 9223372036854775807]"},
      {"deployment.schema2.json", "id", "10000000000",
       "deployment record: field \"id\" is 10000000000, outside [1, 9999999999]"},
      {"deployment.schema2.json", "split", R"([{"version":"v1","basis_points":10001}])",
       "deployment record: split[0]: field \"basis_points\" is 10001, outside [0, 10000]"},
      {"deployment.schema2.json", "split", R"([{"basis_points":10000}])",
       "deployment record: split[0]: field \"version\" is missing"},
      {"deployment.schema2.json", "cause", "\"\"", "deployment record: field \"cause\" is empty"},
      {"deployment.schema2.json", "rolled_back_from", "\"3\"",
       "deployment record: field \"rolled_back_from\" must be an integer"},
      {"checkpoint.schema1.json", "deployment_id", "",
       "checkpoint record: field \"deployment_id\" is missing"},
      {"audit_event.schema1.json", "after", "", "audit event record: field \"after\" is missing"},
      {"token.schema1.json", "role", "\"root\"",
       "token record: field \"role\" is \"root\"; expected admin, deployer or read-only"},
      {"token.schema1.json", "sha256", "\"abc\"",
       "token record: field \"sha256\" must be 64 hex digits"},
  };
  for (const auto& c : cases) {
    const std::string text = with_field(golden(c.record), c.field, c.value);
    Status r;
    if (c.record.starts_with("service")) {
      r = as_status(&decode_service)(text);
    } else if (c.record.starts_with("version")) {
      r = as_status(&decode_version)(text);
    } else if (c.record.starts_with("deployment")) {
      r = as_status(&decode_deployment)(text);
    } else if (c.record.starts_with("checkpoint")) {
      r = as_status(&decode_checkpoint)(text);
    } else if (c.record.starts_with("audit_event")) {
      r = as_status(&decode_audit_event)(text);
    } else {
      r = as_status(&decode_token)(text);
    }
    ASSERT_FALSE(r) << c.record << " " << c.field << "=" << c.value;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(r.error().message, c.message) << c.record << " " << c.field << "=" << c.value;
  }
}

TEST(Malformed, NotJsonOrNotAnObject) {
  auto r = decode_deployment("{\"schema\":2,");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("deployment record: not valid JSON"), std::string::npos);
  auto a = decode_service("[1,2]");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message, "service record: must be a JSON object");
}

// --- Strings of the enums
// --------------------------------------------------------------------------

TEST(Strings, StickyBalanceRoleRoundTrip) {
  for (const char* text : {"ip", "none", "header:X-User-Id", "cookie:sid"}) {
    auto sticky = parse_sticky(text);
    ASSERT_TRUE(sticky) << text;
    EXPECT_EQ(to_string(*sticky), text);
  }
  for (const char* text : {"", "IP", "header:", "cookie:a b", "header", "query:x"}) {
    EXPECT_FALSE(parse_sticky(text)) << text;
  }
  for (Balance b : {Balance::kLeastRequest, Balance::kRoundRobin}) {
    EXPECT_EQ(parse_balance(to_string(b)), b);
  }
  EXPECT_FALSE(parse_balance("random"));
  for (Role r : {Role::kAdmin, Role::kDeployer, Role::kReadOnly}) {
    EXPECT_EQ(parse_role(to_string(r)), r);
  }
  EXPECT_FALSE(parse_role("readonly"));
}

TEST(Roles, EachRoleIncludesTheOnesBelowIt) {
  struct Case {
    Role have;
    Role need;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {Role::kAdmin, Role::kAdmin, true},       {Role::kAdmin, Role::kDeployer, true},
      {Role::kAdmin, Role::kReadOnly, true},    {Role::kDeployer, Role::kAdmin, false},
      {Role::kDeployer, Role::kDeployer, true}, {Role::kDeployer, Role::kReadOnly, true},
      {Role::kReadOnly, Role::kAdmin, false},   {Role::kReadOnly, Role::kDeployer, false},
      {Role::kReadOnly, Role::kReadOnly, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(role_allows(c.have, c.need), c.allowed)
        << to_string(c.have) << " needs " << to_string(c.need);
  }
}

TEST(Tokens, HashIsHexSha256) {
  // SHA-256("test"), a published test vector.
  EXPECT_EQ(hash_token_secret("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  EXPECT_EQ(hash_token_secret(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace rampart::model
