#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace rampart::config {
namespace {

namespace fs = std::filesystem;

const fs::path kCases = fs::path(RAMPART_SOURCE_DIR) / "tests/unit/config/cases";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> case_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kCases)) {
    if (entry.path().extension() == ".toml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Config parse_ok(std::string_view text) {
  auto cfg = parse_config(text, "test.toml");
  EXPECT_TRUE(cfg) << cfg.error().message;
  return cfg ? *cfg : Config{};
}

// --- The case files: `# expect: ok` or `# expect: LINE: substring` on the first line. ----------

class ConfigCase : public testing::TestWithParam<fs::path> {};

TEST_P(ConfigCase, MatchesExpectation) {
  const std::string name = GetParam().filename().string();
  const std::string text = read_file(GetParam());
  const std::string tag = "# expect: ";
  ASSERT_EQ(text.rfind(tag, 0), 0u) << name << ": the first line must be # expect: ...";
  const std::string expect = text.substr(tag.size(), text.find('\n') - tag.size());
  auto cfg = parse_config(text, name);
  if (expect == "ok") {
    EXPECT_TRUE(cfg) << cfg.error().message;
    return;
  }
  const auto colon = expect.find(": ");
  ASSERT_NE(colon, std::string::npos) << "malformed expectation: " << expect;
  const std::string line = expect.substr(0, colon);
  const std::string substring = expect.substr(colon + 2);
  ASSERT_FALSE(cfg) << "expected an error at line " << line;
  const std::string& message = cfg.error().message;
  EXPECT_EQ(cfg.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one mistake must give one line:\n"
                                                   << message;
  EXPECT_EQ(message.rfind(name + ":" + line + ": ", 0), 0u) << message;
  EXPECT_NE(message.find(substring), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Cases, ConfigCase, testing::ValuesIn(case_files()),
                         [](const auto& info) { return info.param.stem().string(); });

TEST(ConfigCases, CoverEnoughGround) {
  const auto files = case_files();
  const auto ok = std::count_if(files.begin(), files.end(), [](const fs::path& p) {
    return p.stem().string().rfind("ok_", 0) == 0;
  });
  EXPECT_GE(files.size() - static_cast<std::size_t>(ok), 30u);
  EXPECT_GE(ok, 3);
}

// --- The parsed model. -----------------------------------------------------------------------

TEST(ParseConfig, FullExample) {
  const Config cfg = parse_ok(read_file(kCases / "ok_full_example.toml"));
  EXPECT_EQ(cfg.server.listen.host, "127.0.0.1");
  EXPECT_EQ(cfg.server.listen.port, 8080);
  EXPECT_EQ(cfg.server.admin.host, "127.0.0.1");
  EXPECT_EQ(cfg.server.admin.port, 9901);
  EXPECT_EQ(cfg.server.workers, 2u);
  EXPECT_EQ(cfg.server.max_connections, 10000u);
  EXPECT_EQ(cfg.server.drain_timeout_ms, 10000u);
  EXPECT_EQ(cfg.limits.max_header_bytes, 16384u);
  EXPECT_EQ(cfg.limits.max_body_bytes, 0u);
  EXPECT_EQ(cfg.limits.header_timeout_ms, 10000u);
  EXPECT_EQ(cfg.limits.idle_timeout_ms, 60000u);
  EXPECT_EQ(cfg.limits.connect_timeout_ms, 1000u);
  EXPECT_EQ(cfg.limits.response_timeout_ms, 30000u);

  ASSERT_EQ(cfg.services.size(), 1u);
  const Service& s = cfg.services[0];
  EXPECT_EQ(s.name, "shop");
  ASSERT_EQ(s.routes.size(), 2u);
  EXPECT_EQ(s.routes[0].host, "shop.example.com");
  EXPECT_EQ(s.routes[0].path_prefix, "/");
  EXPECT_EQ(s.routes[1].host, "");
  EXPECT_EQ(s.routes[1].path_prefix, "/shop/");
  EXPECT_EQ(s.sticky.kind, StickyKind::kIp);
  EXPECT_EQ(s.sticky.name, "");
  EXPECT_EQ(s.salt, "shop");
  EXPECT_EQ(s.balance, Balance::kLeastRequest);
  EXPECT_EQ(s.eject_after, 3u);
  EXPECT_EQ(s.eject_for_ms, 5000u);

  ASSERT_EQ(s.versions.size(), 2u);
  EXPECT_EQ(s.versions[0].name, "v1");
  ASSERT_EQ(s.versions[0].upstreams.size(), 2u);
  EXPECT_EQ(s.versions[0].upstreams[0].url, "http://127.0.0.1:9001");
  EXPECT_EQ(s.versions[0].upstreams[0].host, "127.0.0.1");
  EXPECT_EQ(s.versions[0].upstreams[0].port, 9001);
  EXPECT_EQ(s.versions[0].upstreams[1].port, 9011);
  EXPECT_EQ(s.versions[1].name, "v2");
  ASSERT_EQ(s.versions[1].upstreams.size(), 1u);
  EXPECT_EQ(s.versions[1].upstreams[0].url, "http://127.0.0.1:9002");

  ASSERT_EQ(s.split.size(), 2u);
  EXPECT_EQ(s.split[0].version, "v1");
  EXPECT_EQ(s.split[0].basis_points, 9000u);
  EXPECT_EQ(s.split[1].version, "v2");
  EXPECT_EQ(s.split[1].basis_points, 1000u);
}

TEST(ParseConfig, Defaults) {
  const Config empty = parse_ok("");
  EXPECT_EQ(empty.server.listen.host, "127.0.0.1");
  EXPECT_EQ(empty.server.listen.port, 8080);
  EXPECT_EQ(empty.server.admin.port, 9901);
  EXPECT_EQ(empty.server.workers, std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
  EXPECT_EQ(empty.server.max_connections, 10000u);
  EXPECT_EQ(empty.server.drain_timeout_ms, 10000u);
  EXPECT_EQ(empty.limits.max_header_bytes, 16384u);
  EXPECT_EQ(empty.limits.max_body_bytes, 0u);
  EXPECT_EQ(empty.limits.header_timeout_ms, 10000u);
  EXPECT_EQ(empty.limits.idle_timeout_ms, 60000u);
  EXPECT_EQ(empty.limits.connect_timeout_ms, 1000u);
  EXPECT_EQ(empty.limits.response_timeout_ms, 30000u);
  EXPECT_TRUE(empty.services.empty());

  const Config cfg = parse_ok(read_file(kCases / "ok_minimal.toml"));
  ASSERT_EQ(cfg.services.size(), 1u);
  const Service& s = cfg.services[0];
  EXPECT_EQ(s.sticky.kind, StickyKind::kIp);
  EXPECT_EQ(s.salt, "shop");
  EXPECT_EQ(s.balance, Balance::kLeastRequest);
  EXPECT_EQ(s.eject_after, 3u);
  EXPECT_EQ(s.eject_for_ms, 5000u);
  ASSERT_EQ(s.split.size(), 1u);  // a lone version without a split gets everything
  EXPECT_EQ(s.split[0].version, "v1");
  EXPECT_EQ(s.split[0].basis_points, 10000u);
}

TEST(ParseConfig, ReadsEveryKey) {
  const Config cfg = parse_ok(R"(
[server]
listen = "[::1]:0"
admin = "localhost:9999"
workers = 7
max_connections = 12
drain_timeout_ms = 13
[limits]
max_header_bytes = 1024
max_body_bytes = 1099511627776
header_timeout_ms = 14
idle_timeout_ms = 15
connect_timeout_ms = 16
response_timeout_ms = 3600000
[[service]]
name = "a"
routes = ["/"]
sticky = "cookie:sid"
salt = "pepper"
balance = "round_robin"
eject_after = 1000
eject_for_ms = 17
[[service.version]]
name = "v1"
upstreams = ["http://h:1"]
)");
  EXPECT_EQ(cfg.server.listen.host, "[::1]");
  EXPECT_EQ(cfg.server.listen.port, 0);
  EXPECT_EQ(cfg.server.admin.host, "localhost");
  EXPECT_EQ(cfg.server.admin.port, 9999);
  EXPECT_EQ(cfg.server.workers, 7u);
  EXPECT_EQ(cfg.server.max_connections, 12u);
  EXPECT_EQ(cfg.server.drain_timeout_ms, 13u);
  EXPECT_EQ(cfg.limits.max_header_bytes, 1024u);
  EXPECT_EQ(cfg.limits.max_body_bytes, uint64_t{1} << 40);
  EXPECT_EQ(cfg.limits.header_timeout_ms, 14u);
  EXPECT_EQ(cfg.limits.idle_timeout_ms, 15u);
  EXPECT_EQ(cfg.limits.connect_timeout_ms, 16u);
  EXPECT_EQ(cfg.limits.response_timeout_ms, 3600000u);
  ASSERT_EQ(cfg.services.size(), 1u);
  const Service& s = cfg.services[0];
  EXPECT_EQ(s.sticky.kind, StickyKind::kCookie);
  EXPECT_EQ(s.sticky.name, "sid");
  EXPECT_EQ(s.salt, "pepper");
  EXPECT_EQ(s.balance, Balance::kRoundRobin);
  EXPECT_EQ(s.eject_after, 1000u);
  EXPECT_EQ(s.eject_for_ms, 17u);
}

TEST(ParseConfig, SplitCoversEveryVersionInDeclarationOrder) {
  const Config cfg = parse_ok(read_file(kCases / "ok_split_decimals.toml"));
  ASSERT_EQ(cfg.services.size(), 1u);
  const auto& split = cfg.services[0].split;
  ASSERT_EQ(split.size(), 3u);  // [service.split] lists them v3.rc-1, v1, v2
  EXPECT_EQ(split[0].version, "v1");
  EXPECT_EQ(split[0].basis_points, 8749u);
  EXPECT_EQ(split[1].version, "v2");
  EXPECT_EQ(split[1].basis_points, 1250u);
  EXPECT_EQ(split[2].version, "v3.rc-1");
  EXPECT_EQ(split[2].basis_points, 1u);
  const auto& v2 = cfg.services[0].versions[1].upstreams;
  ASSERT_EQ(v2.size(), 2u);
  EXPECT_EQ(v2[0].url, "http://[::1]:9002");
  EXPECT_EQ(v2[0].host, "[::1]");
  EXPECT_EQ(v2[1].url, "http://backend.internal:80");

  const Config absent = parse_ok(R"(
[[service]]
name = "a"
routes = ["/"]
[[service.version]]
name = "v1"
upstreams = ["http://h:1"]
[[service.version]]
name = "v2"
upstreams = ["http://h:2"]
[[service.version]]
name = "v3"
upstreams = ["http://h:3"]
[service.split]
v3 = 100.0
)");
  ASSERT_EQ(absent.services.size(), 1u);
  const auto& s = absent.services[0].split;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].version, "v1");
  EXPECT_EQ(s[0].basis_points, 0u);
  EXPECT_EQ(s[1].version, "v2");
  EXPECT_EQ(s[1].basis_points, 0u);
  EXPECT_EQ(s[2].version, "v3");
  EXPECT_EQ(s[2].basis_points, 10000u);
}

TEST(ParseConfig, ReportsEveryProblemInFileOrder) {
  auto cfg = parse_config(R"([server]
workers = 0
[[service]]
name = "shop"
routes = ["/"]
stiky = "ip"
[[service.version]]
name = "v1"
upstreams = ["https://h:1"]
[limits]
idle_timeout_ms = 0
)",
                          "r.toml");
  ASSERT_FALSE(cfg);
  std::vector<std::string> lines;
  std::istringstream in(cfg.error().message);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line.substr(0, line.find(' ')));
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"r.toml:2:", "r.toml:6:", "r.toml:9:", "r.toml:11:"}))
      << cfg.error().message;
}

TEST(LoadConfig, ReadsAFileAndNamesItInErrors) {
  auto ok = load_config((kCases / "ok_full_example.toml").string());
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->services.size(), 1u);

  const std::string bad = (kCases / "workers_type.toml").string();
  auto err = load_config(bad);
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().message.rfind(bad + ":3: ", 0), 0u) << err.error().message;
}

TEST(LoadConfig, UnreadableFileNamesThePathAndTheReason) {
  const std::string missing = (kCases / "no-such-file.toml").string();
  auto r = load_config(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_NE(r.error().message.find("\"" + missing + "\""), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos);

  auto dir = load_config(kCases.string());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message.find("Is a directory"), std::string::npos) << dir.error().message;
}

// --- The single-value parsers. ---------------------------------------------------------------

TEST(ParseEndpoint, Forms) {
  const struct {
    std::string_view text;
    std::string_view host;
    uint16_t port;
  } good[] = {
      {"127.0.0.1:8080", "127.0.0.1", 8080},
      {"[::1]:8080", "[::1]", 8080},
      {"localhost:0", "localhost", 0},
      {"0.0.0.0:65535", "0.0.0.0", 65535},
      {"[::]:1", "[::]", 1},
  };
  for (const auto& c : good) {
    auto e = parse_endpoint(c.text);
    ASSERT_TRUE(e) << c.text << ": " << e.error().message;
    EXPECT_EQ(e->host, c.host);
    EXPECT_EQ(e->port, c.port);
  }
  for (std::string_view text : {"", "8080", ":8080", "[::1]", "[::1:80", "[]:80", "a b:1",
                                "host:", "host:-1", "host:65536", "host:8o", "::1:80", "[x]:1"}) {
    auto e = parse_endpoint(text);
    EXPECT_FALSE(e) << text;
    if (!e) {
      EXPECT_NE(e.error().message.find("host:port"), std::string::npos) << e.error().message;
    }
  }
}

TEST(ParseUpstream, Forms) {
  const struct {
    std::string_view text;
    std::string_view url;
    std::string_view host;
    uint16_t port;
  } good[] = {
      {"http://127.0.0.1:9001", "http://127.0.0.1:9001", "127.0.0.1", 9001},
      {"http://Example.COM/", "http://example.com:80", "example.com", 80},
      {"HTTP://h:1", "http://h:1", "h", 1},
      {"http://[::1]:9002", "http://[::1]:9002", "[::1]", 9002},
  };
  for (const auto& c : good) {
    auto u = parse_upstream(c.text);
    ASSERT_TRUE(u) << c.text << ": " << u.error().message;
    EXPECT_EQ(u->url, c.url);
    EXPECT_EQ(u->host, c.host);
    EXPECT_EQ(u->port, c.port);
  }
  for (std::string_view text :
       {"", "h:1", "https://h", "ws://h:1", "http://u@h:1", "http://h:1/x", "http://h:1//",
        "http://h:1?", "http://h:1#f", "http://:1", "http://h:", "http://h:0", "http://h:65536",
        "http://[v1.x]:1", "http://%41:1", "http://h h:1"}) {
    EXPECT_FALSE(parse_upstream(text)) << text;
  }
}

TEST(SingleValues, MessagesNameTheProblem) {
  const std::string long_host(300, 'a');
  struct Case {
    std::string text;
    Result<int> (*parse)(std::string_view);
    std::string says;
    std::string not_says;
  };
  auto upstream = [](std::string_view t) -> Result<int> {
    auto r = parse_upstream(t);
    return r ? Result<int>(0) : Result<int>(r.error());
  };
  auto endpoint = [](std::string_view t) -> Result<int> {
    auto r = parse_endpoint(t);
    return r ? Result<int>(0) : Result<int>(r.error());
  };
  auto route = [](std::string_view t) -> Result<int> {
    auto r = parse_route(t);
    return r ? Result<int>(0) : Result<int>(r.error());
  };
  for (const auto& c : std::vector<Case>{
           {"", upstream,
            "it is empty; write it as http://host:port, e.g. \"http://127.0.0.1:9001\"",
            "e.g. \"http://\""},
           {"http://" + long_host + ":1", upstream, "the host is 300 characters long; at most 253",
            "may only contain"},
           {long_host + ":1", endpoint, "the host is 300 characters long; at most 253",
            "may only contain"},
           {long_host + "/", route, "the host is 300 characters long; at most 253",
            "may only contain"},
       }) {
    auto r = c.parse(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(c.not_says), std::string::npos) << r.error().message;
  }
}

TEST(ParseRoute, Forms) {
  const struct {
    std::string_view text;
    std::string_view host;
    std::string_view prefix;
  } good[] = {
      {"shop.example.com/", "shop.example.com", "/"},
      {"/shop/", "", "/shop/"},
      {"shop.example.com", "shop.example.com", "/"},
      {"api.example.com/v2/", "api.example.com", "/v2/"},
      {"Shop.Example.COM/Cart", "shop.example.com", "/Cart"},
      {"/", "", "/"},
  };
  for (const auto& c : good) {
    auto r = parse_route(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().message;
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->path_prefix, c.prefix);
  }
  for (std::string_view text :
       {"", "h:80/", "http://h/", "*.h/", "h_1/", "/a b", "/a?b", "/a#b", "/a\tb"}) {
    EXPECT_FALSE(parse_route(text)) << text;
  }
}

TEST(ParseSticky, Forms) {
  const struct {
    std::string_view text;
    StickyKind kind;
    std::string_view name;
  } good[] = {
      {"ip", StickyKind::kIp, ""},
      {"none", StickyKind::kNone, ""},
      {"header:X-User-Id", StickyKind::kHeader, "X-User-Id"},
      {"cookie:sid", StickyKind::kCookie, "sid"},
  };
  for (const auto& c : good) {
    auto s = parse_sticky(c.text);
    ASSERT_TRUE(s) << c.text << ": " << s.error().message;
    EXPECT_EQ(s->kind, c.kind);
    EXPECT_EQ(s->name, c.name);
  }
  for (std::string_view text :
       {"", "IP", "cookie", "header", "header:", "cookie:a b", "header:X:Y", "query:x"}) {
    EXPECT_FALSE(parse_sticky(text)) << text;
  }
}

TEST(Names, ServiceAndVersion) {
  const std::string x63(63, 'x');
  const std::string x64(64, 'x');
  using Names = std::vector<std::string_view>;
  for (std::string_view name : Names{"a", "shop", "a_b-c", "0", x63}) {
    EXPECT_TRUE(is_valid_service_name(name)) << name;
  }
  for (std::string_view name : Names{"", "Shop", "-a", "_a", "a.b", "a b", x64}) {
    EXPECT_FALSE(is_valid_service_name(name)) << name;
  }
  for (std::string_view name : Names{"v1", "V1.2_rc-3", "0", x63}) {
    EXPECT_TRUE(is_valid_version_name(name)) << name;
  }
  for (std::string_view name : Names{"", ".v", "-v", "v 1", "v/1", "v:1", x64}) {
    EXPECT_FALSE(is_valid_version_name(name)) << name;
  }
}

TEST(RolloutConfig, AServiceWithoutOneGetsTheDefaultPolicy) {
  const Config cfg = parse_ok(read_file(kCases / "ok_minimal.toml"));
  ASSERT_FALSE(cfg.services.empty());
  EXPECT_EQ(cfg.services[0].rollout, rollout::default_policy());
  EXPECT_EQ(rollout::describe(cfg.services[0].rollout.strategy.steps),
            "10% for 5m, 50% for 5m, 100%");
  EXPECT_TRUE(cfg.services[0].rollout.analysis.checks.empty());  // seed 004's defaults apply
}

TEST(RolloutConfig, EveryPartOfTheExampleReadsAsWritten) {
  using std::chrono::milliseconds;
  const Config cfg = parse_ok(read_file(kCases / "rollout_ok_issue_example.toml"));
  ASSERT_EQ(cfg.services.size(), 1u);
  const rollout::Policy& p = cfg.services[0].rollout;
  EXPECT_EQ(p.strategy_name, "custom");
  EXPECT_EQ(rollout::describe(p.strategy.steps), "10% for 5m, 50% for 5m, 100%");
  EXPECT_EQ(p.deploy_windows.deny_days, std::vector<int>{5});
  EXPECT_EQ(p.deploy_windows.utc_offset_minutes, 120);
  EXPECT_EQ(p.rollback_window, milliseconds(15 * 60 * 1000));
  EXPECT_EQ(p.interval, milliseconds(30'000));
  EXPECT_EQ(p.analysis.min_requests, 200u);
  EXPECT_EQ(p.analysis.failure_limit, 2u);
  EXPECT_EQ(p.analysis.inconclusive, rollout::Inconclusive::kExtend);
  ASSERT_EQ(p.analysis.checks.size(), 2u);
  EXPECT_EQ(p.analysis.checks[0],
            (rollout::Check{.metric = rollout::Metric::kErrorRate, .max = 0.01, .critical = 0.05}));
  EXPECT_EQ(p.analysis.checks[1], (rollout::Check{.metric = rollout::Metric::kP95Ms,
                                                  .max = 500,
                                                  .critical = 1000,
                                                  .max_ratio_to_stable = 1.2}));
  ASSERT_EQ(p.pre.size(), 2u);
  EXPECT_EQ(p.pre[1].name, "branch");
  EXPECT_EQ(p.pre[1].run, "test \"$(git branch --show-current)\" = main");
  EXPECT_EQ(p.health, (rollout::HealthCheck{"/health", 3, milliseconds(1000)}));
  ASSERT_EQ(p.verify.size(), 2u);
  EXPECT_EQ(p.verify[1], (rollout::VerifyCheck{"/api/stats", 200, milliseconds(2000)}));
  EXPECT_EQ(p.verify_tries, 5u);
  ASSERT_EQ(p.webhooks.size(), 1u);
  EXPECT_EQ(p.webhooks[0].url, "https://hooks.example.com/deploys");
  EXPECT_EQ(p.webhooks[0].events.size(), 5u);
}

TEST(RolloutConfig, RequireEvidenceAndWhatAnUndecidedStepDoesReadAsWrittenAndDefault) {
  using std::chrono::milliseconds;
  const Config set = parse_ok(read_file(kCases / "rollout_ok_evidence.toml"));
  const rollout::AnalysisPolicy& a = set.services.at(0).rollout.analysis;
  EXPECT_TRUE(a.require_evidence);
  EXPECT_EQ(a.max_step_duration, milliseconds(3'600'000));
  EXPECT_EQ(a.on_inconclusive, rollout::Inconclusive::kRollback);
  const Config off = parse_ok(read_file(kCases / "rollout_ok_max_step_duration_off.toml"));
  EXPECT_FALSE(off.services.at(0).rollout.analysis.require_evidence);
  EXPECT_EQ(off.services.at(0).rollout.analysis.max_step_duration, milliseconds(0));
  const Config plain = parse_ok(read_file(kCases / "ok_minimal.toml"));
  const rollout::AnalysisPolicy& d = plain.services.at(0).rollout.analysis;
  EXPECT_FALSE(d.require_evidence);
  EXPECT_EQ(d.max_step_duration, milliseconds(30 * 60 * 1000));
  EXPECT_EQ(d.on_inconclusive, rollout::Inconclusive::kPause);
}

TEST(RolloutConfig, AWebhooksDeliverySettingsReadAsWrittenAndDefault) {
  using std::chrono::milliseconds;
  const Config cfg = parse_ok(read_file(kCases / "rollout_webhook_ok_delivery.toml"));
  const rollout::Webhook& hook = cfg.services[0].rollout.webhooks.at(0);
  EXPECT_EQ(hook.events, (std::vector<std::string>{"rollback", "confirm-promotion"}));
  EXPECT_EQ(hook.secret_env, "SHOP_HOOK_SECRET");
  EXPECT_EQ(hook.timeout, milliseconds(2000));
  EXPECT_EQ(hook.tries, 5u);
  const Config example = parse_ok(read_file(kCases / "rollout_ok_issue_example.toml"));
  const rollout::Webhook& plain = example.services[0].rollout.webhooks.at(0);
  EXPECT_EQ(plain.secret_env, "");
  EXPECT_EQ(plain.timeout, milliseconds(5000));
  EXPECT_EQ(plain.tries, 3u);
}

TEST(RolloutConfig, APresetAndAStepUntilPromoted) {
  const Config preset = parse_ok(read_file(kCases / "rollout_ok_preset.toml"));
  EXPECT_EQ(preset.services[0].rollout.strategy_name, "linear10-1m");
  EXPECT_EQ(preset.services[0].rollout.strategy.steps.size(), 10u);
  const Config manual = parse_ok(read_file(kCases / "rollout_ok_until_promoted.toml"));
  EXPECT_EQ(rollout::describe(manual.services[0].rollout.strategy.steps),
            "5% until promoted, 100%");
}

TEST(ConfigRun, AVersionThatRampartRunsReadsEveryKey) {
  std::ifstream in(kCases / "run_ok.toml");
  std::ostringstream text;
  text << in.rdbuf();
  const Config cfg = parse_ok(text.str());
  ASSERT_EQ(cfg.services.size(), 1u);
  const auto& v = cfg.services[0].versions.at(0);
  ASSERT_TRUE(v.run);
  EXPECT_TRUE(v.upstreams.empty());
  EXPECT_EQ(v.run->argv, (std::vector<std::string>{"./server", "--port", "{port}"}));
  EXPECT_EQ(v.run->instances, 2u);
  EXPECT_EQ(v.run->workdir, "/srv/shop");
  EXPECT_EQ(v.health_path, "/healthz");
  EXPECT_EQ(v.run->grace_ms, 5000u);
  EXPECT_EQ(v.run->secrets, std::vector<std::string>{"API_KEY"});
  EXPECT_EQ(v.run->env, (std::map<std::string, std::string>{{"LOG_LEVEL", "info"}}));
  EXPECT_EQ(v.run->env_spec.required, std::vector<std::string>{"DATABASE_URL"});
  EXPECT_EQ(v.run->env_spec.optional, std::vector<std::string>{"SENTRY_DSN"});
  EXPECT_EQ(v.run->env_spec.formats.at("DATABASE_URL"), "^postgres://.+");
}

}  // namespace
}  // namespace rampart::config
