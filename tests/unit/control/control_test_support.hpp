#pragma once
// Shared by the control tests: a settable clock, a store wrapper that injects failures and
// races, a temporary directory, config text, and readers of what a revision wrote.

#include "config/config.hpp"
#include "control/deployment_service.hpp"
#include "metrics/version_stats.hpp"
#include "store/memory_store.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::control::testing {

// Unix ms that move only when told to. Thread-safe.
class FakeClock {
 public:
  std::int64_t now() const { return ms_.load(); }
  void set(std::int64_t ms) { ms_ = ms; }
  void advance(std::int64_t ms) { ms_ += ms; }
  UnixClock as_clock() {
    return [this] { return now(); };
  }

 private:
  std::atomic<std::int64_t> ms_{1'700'000'000'000};
};

// A version's gateway counters that a test moves by hand, as the gateway's workers would.
class FakeCounters {
 public:
  void add(const std::string& version, uint64_t requests, uint64_t errors, uint64_t ms) {
    auto& s = snapshots_[version];
    s.responses_by_class[1] += requests - errors;
    s.responses_by_class[4] += errors;
    s.latency.record(ms * 1'000'000, requests);
  }
  metrics::VersionSnapshot get(const std::string& service, const std::string& version) {
    auto s = snapshots_[version];
    s.service = service;
    s.version = version;
    return s;
  }

 private:
  std::map<std::string, metrics::VersionSnapshot> snapshots_;
};

// A store that forwards to a MemoryStore, except that a test can make it fail or run a hook
// just before the next writing txn (to lose a compare-and-swap deterministically).
class HookStore final : public store::Store {
 public:
  store::MemoryStore& inner() { return inner_; }

  // Runs once, before the next txn that writes (has a put or delete in a branch). Set it only
  // while no other thread uses the store.
  std::function<void()> before_next_write;
  std::atomic<bool> fail_writes{false};
  std::atomic<bool> fail_reads{false};

  Result<store::RangeResponse> range(std::string_view key,
                                     const store::RangeOptions& options = {}) override {
    if (fail_reads) {
      return unavailable();
    }
    return inner_.range(key, options);
  }
  Result<store::TxnResponse> txn(const store::TxnRequest& request) override {
    const bool writes = has_writes(request.success) || has_writes(request.failure);
    if (writes ? fail_writes.load() : fail_reads.load()) {
      return unavailable();
    }
    if (writes && before_next_write) {
      auto hook = std::move(before_next_write);
      before_next_write = nullptr;
      hook();
    }
    return inner_.txn(request);
  }
  Result<store::EventBatch> events_since(std::string_view prefix, std::int64_t after,
                                         std::size_t limit) override {
    return inner_.events_since(prefix, after, limit);
  }
  Status compact(std::int64_t revision) override { return inner_.compact(revision); }
  std::int64_t revision() override { return inner_.revision(); }
  std::int64_t compacted_revision() override { return inner_.compacted_revision(); }
  bool wait_for_revision(std::int64_t revision, std::chrono::milliseconds timeout) override {
    return inner_.wait_for_revision(revision, timeout);
  }
  store::Subscription subscribe(std::function<void(std::int64_t)> callback) override {
    return inner_.subscribe(std::move(callback));
  }
  Result<store::LeaseId> grant(std::chrono::seconds ttl) override { return inner_.grant(ttl); }
  Result<std::chrono::seconds> keep_alive(store::LeaseId id) override {
    return inner_.keep_alive(id);
  }
  Result<std::int64_t> revoke(store::LeaseId id) override { return inner_.revoke(id); }
  Result<store::LeaseStatus> time_to_live(store::LeaseId id) override {
    return inner_.time_to_live(id);
  }
  Result<std::vector<store::LeaseId>> expire_leases() override { return inner_.expire_leases(); }

 private:
  static bool has_writes(const std::vector<store::Op>& ops) {
    for (const auto& op : ops) {
      if (!std::holds_alternative<store::RangeOp>(op)) {
        return true;
      }
    }
    return false;
  }
  static Error unavailable() {
    return make_error(Errc::kUnavailable, "disk I/O error (injected by the test)");
  }

  store::MemoryStore inner_;
};

using rampart::testing::TempDir;

// Two services: "shop" (v1, v2; the split given as TOML lines) and "api" (one version).
inline std::string config_text(std::string_view shop_split = "v1 = 90\nv2 = 10",
                               std::string_view v1_upstream = "http://127.0.0.1:9001") {
  return std::string(R"(
[[service]]
name = "shop"
routes = ["shop.example.com/", "/shop/"]

[[service.version]]
name = "v1"
upstreams = [")") +
         std::string(v1_upstream) + R"("]

[[service.version]]
name = "v2"
upstreams = ["http://127.0.0.1:9002"]

[service.split]
)" + std::string(shop_split) +
         R"(

[[service]]
name = "api"
routes = ["/api/"]

[[service.version]]
name = "stable"
upstreams = ["http://127.0.0.1:9100"]
)";
}

inline config::Config parse(const std::string& text) {
  auto cfg = config::parse_config(text, "test.toml");
  EXPECT_TRUE(cfg) << cfg.error().message;
  return cfg ? *cfg : config::Config{};
}

// The keys written at exactly `revision`.
inline std::vector<std::string> keys_written_at(store::Store& store, std::int64_t revision) {
  std::vector<std::string> keys;
  auto batch = store.events_since("", revision - 1);
  EXPECT_TRUE(batch) << batch.error().message;
  if (!batch) {
    return keys;
  }
  for (const auto& event : batch->events) {
    if (event.revision() == revision) {
      keys.push_back(event.kv.key);
    }
  }
  return keys;
}

}  // namespace rampart::control::testing
