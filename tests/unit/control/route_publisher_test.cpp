// RoutePublisher: the store's state reaches the sink before the writer's commit returns, only
// when what is served changed; one service's broken data never stops the others.

#include "control/route_publisher.hpp"

#include "control_test_support.hpp"
#include "model/keys.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace rampart::control {
namespace {

using testing::config_text;
using testing::HookStore;
using testing::parse;

struct Published {
  std::vector<config::Config> configs;
};

// The split the sink last saw for `service`, as "v1=9000,v2=1000".
std::string split_of(const config::Config& cfg, std::string_view service) {
  for (const auto& s : cfg.services) {
    if (s.name != service) continue;
    std::string out;
    for (const auto& e : s.split) {
      out += (out.empty() ? "" : ",") + e.version + "=" + std::to_string(e.basis_points);
    }
    return out;
  }
  return "<none>";
}

class RoutePublisherTest : public ::testing::Test {
 protected:
  RoutePublisherTest() {
    base_.server.workers = 3;
    base_.limits.connect_timeout_ms = 123;
  }

  RoutePublisher::Sink sink() {
    return [this](const config::Config& cfg) { published_.configs.push_back(cfg); };
  }

  HookStore store_;
  DeploymentService service_{store_};
  config::Config base_;
  Published published_;
};

TEST_F(RoutePublisherTest, PublishesTheStoreAtStartWithTheBaseSettings) {
  ASSERT_TRUE(service_.apply(parse(config_text()), "alice", ""));
  RoutePublisher publisher(store_, base_, sink());
  ASSERT_TRUE(publisher.start());
  ASSERT_EQ(published_.configs.size(), 1u);
  const auto& cfg = published_.configs.back();
  EXPECT_EQ(cfg.server.workers, 3u);
  EXPECT_EQ(cfg.limits.connect_timeout_ms, 123u);
  ASSERT_EQ(cfg.services.size(), 2u);
  EXPECT_EQ(split_of(cfg, "shop"), "v1=9000,v2=1000");
  EXPECT_EQ(publisher.stats().revision, store_.revision());
  EXPECT_EQ(publisher.stats().publications, 1u);
}

TEST_F(RoutePublisherTest, ACommittedSplitIsPublishedBeforeTheWriteReturns) {
  ASSERT_TRUE(service_.apply(parse(config_text()), "alice", ""));
  RoutePublisher publisher(store_, base_, sink());
  ASSERT_TRUE(publisher.start());
  auto d = service_.set_split("shop", {{"v1", 2500}, {"v2", 7500}}, "alice", "");
  ASSERT_TRUE(d) << d.error().message;
  // No waiting: the publication ran on the committing thread.
  ASSERT_EQ(published_.configs.size(), 2u);
  EXPECT_EQ(split_of(published_.configs.back(), "shop"), "v1=2500,v2=7500");
  EXPECT_EQ(publisher.stats().revision, d->deployment.revision);
}

TEST_F(RoutePublisherTest, ACommitThatDoesNotChangeWhatIsServedPublishesNothing) {
  ASSERT_TRUE(service_.apply(parse(config_text()), "alice", ""));
  RoutePublisher publisher(store_, base_, sink());
  ASSERT_TRUE(publisher.start());
  ASSERT_TRUE(service_.checkpoint("shop", "before the change", "alice"));
  ASSERT_TRUE(service_.create_token("ci", model::Role::kDeployer, "alice"));
  EXPECT_EQ(published_.configs.size(), 1u);
  EXPECT_EQ(publisher.stats().revision, store_.revision());
}

// The stored latest deployment of `service`, with `from` replaced by `to` in its JSON.
void rewrite_latest(HookStore& store, std::string_view service, std::string_view from,
                    std::string_view to) {
  auto latest = store.get(model::keys::latest(service));
  ASSERT_TRUE(latest && *latest);
  std::string value = (*latest)->value;
  const auto at = value.find(from);
  ASSERT_NE(at, std::string::npos) << value;
  value.replace(at, from.size(), to);
  ASSERT_TRUE(store.put(model::keys::latest(service), value));
}

TEST_F(RoutePublisherTest, AnUndecodableServiceDoesNotStopTheOthers) {
  ASSERT_TRUE(service_.apply(parse(config_text() + R"(
[[service.version]]
name = "next"
upstreams = ["http://127.0.0.1:9101"]

[service.split]
stable = 100
next = 0
)"),
                             "alice", ""));
  ASSERT_TRUE(store_.put(model::keys::service("shop"), "{not json"));  // before start
  RoutePublisher publisher(store_, base_, sink());
  ASSERT_TRUE(publisher.start());
  ASSERT_EQ(published_.configs.size(), 1u);
  EXPECT_EQ(split_of(published_.configs.back(), "shop"), "<none>");  // never published: no state
  EXPECT_EQ(split_of(published_.configs.back(), "api"), "stable=10000,next=0");
  ASSERT_EQ(publisher.stats().problems.size(), 1u);
  EXPECT_EQ(publisher.stats().problems[0].service, "shop");
  EXPECT_EQ(publisher.stats().last_error, "");

  // Every later change to another service is still served.
  ASSERT_TRUE(service_.set_split("api", {{"stable", 5000}, {"next", 5000}}, "alice", ""));
  EXPECT_EQ(split_of(published_.configs.back(), "api"), "stable=5000,next=5000");
  EXPECT_EQ(publisher.stats().problems.size(), 1u);
}

TEST_F(RoutePublisherTest, ABrokenServiceKeepsItsLastPublishedStateAndTheOthersMoveOn) {
  ASSERT_TRUE(service_.apply(parse(config_text()), "alice", ""));
  RoutePublisher publisher(store_, base_, sink());
  ASSERT_TRUE(publisher.start());
  rewrite_latest(store_, "shop", "\"v2\"", "\"v9\"");  // a split naming a missing version
  EXPECT_EQ(split_of(published_.configs.back(), "shop"), "v1=9000,v2=1000");
  ASSERT_EQ(publisher.stats().problems.size(), 1u);
  EXPECT_NE(publisher.stats().problems[0].problem.find("served as it was last published"),
            std::string::npos)
      << publisher.stats().problems[0].problem;

  // A new deployment of shop replaces the broken one.
  ASSERT_TRUE(service_.set_split("shop", {{"v1", 5000}, {"v2", 5000}}, "alice", ""));
  EXPECT_EQ(split_of(published_.configs.back(), "shop"), "v1=5000,v2=5000");
  EXPECT_TRUE(publisher.stats().problems.empty());  // the new deployment mended it
}

TEST_F(RoutePublisherTest, AnUnreadableStoreAtStartIsAnError) {
  store_.fail_reads = true;
  RoutePublisher publisher(store_, base_, sink());
  EXPECT_FALSE(publisher.start());
  EXPECT_TRUE(published_.configs.empty());
}

TEST_F(RoutePublisherTest, ANewBaseGoesOutWithTheNextCommitInOnePublication) {
  ASSERT_TRUE(service_.apply(parse(config_text()), "alice", ""));
  RoutePublisher publisher(store_, base_, sink());
  ASSERT_TRUE(publisher.start());
  ASSERT_EQ(published_.configs.size(), 1u);
  auto changed = base_;
  changed.limits.connect_timeout_ms = 456;
  publisher.set_base(changed);
  EXPECT_EQ(published_.configs.size(), 1u) << "set_base publishes nothing by itself";
  EXPECT_EQ(publisher.base().limits.connect_timeout_ms, 456u);

  // A reload: the commit's publication carries the new limits; the refresh after it has
  // nothing left to do.
  ASSERT_TRUE(service_.set_split("shop", {{"v1", 5000}, {"v2", 5000}}, "alice", ""));
  ASSERT_EQ(published_.configs.size(), 2u);
  EXPECT_EQ(published_.configs.back().limits.connect_timeout_ms, 456u);
  EXPECT_EQ(published_.configs.back().services.size(), 2u);
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(published_.configs.size(), 2u);
}

TEST_F(RoutePublisherTest, ANewBaseWithoutACommitIsPublishedByRefresh) {
  ASSERT_TRUE(service_.apply(parse(config_text()), "alice", ""));
  RoutePublisher publisher(store_, base_, sink());
  ASSERT_TRUE(publisher.start());
  auto changed = base_;
  changed.limits.connect_timeout_ms = 789;
  publisher.set_base(changed);
  ASSERT_TRUE(publisher.refresh());  // not forced: the new base is reason enough
  ASSERT_EQ(published_.configs.size(), 2u);
  EXPECT_EQ(published_.configs.back().limits.connect_timeout_ms, 789u);
  EXPECT_EQ(published_.configs.back().services.size(), 2u);
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(published_.configs.size(), 2u) << "published once";
}

TEST_F(RoutePublisherTest, ConcurrentWritersEndWithTheLastCommitPublished) {
  ASSERT_TRUE(service_.apply(parse(config_text()), "alice", ""));
  std::atomic<int> in_sink{0};
  std::atomic<bool> overlapped{false};
  std::vector<std::string> splits;
  RoutePublisher publisher(store_, base_, [&](const config::Config& cfg) -> Status {
    if (in_sink.fetch_add(1) != 0) overlapped = true;
    splits.push_back(split_of(cfg, "shop"));
    in_sink.fetch_sub(1);
    return {};
  });
  ASSERT_TRUE(publisher.start());
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 25; ++i) {
        const std::uint32_t bp = static_cast<std::uint32_t>((w * 25 + i) * 100);
        ASSERT_TRUE(service_.set_split("shop", {{"v1", bp}, {"v2", 10000 - bp}}, "alice", ""));
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_FALSE(overlapped) << "the sink was called concurrently";
  auto latest = service_.latest("shop");
  ASSERT_TRUE(latest);
  const std::string want = "v1=" + std::to_string(latest->split[0].basis_points) +
                           ",v2=" + std::to_string(latest->split[1].basis_points);
  EXPECT_EQ(splits.back(), want);
  EXPECT_EQ(publisher.stats().revision, store_.revision());
}

}  // namespace
}  // namespace rampart::control
