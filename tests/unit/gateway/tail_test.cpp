#include "gateway/tail.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace rampart::gateway {
namespace {

using Clock = TailHub::Clock;
using std::chrono::milliseconds;

TailEvent event(std::string_view service, std::string_view version, uint16_t status,
                int64_t unix_ms) {
  TailEvent e;
  e.unix_ms = unix_ms;
  e.status = status;
  e.service.set(service);
  e.version.set(version);
  e.method.set("GET");
  e.path.set("/shop/cart");
  return e;
}

TailFilter shop() {
  TailFilter f;
  f.service = "shop";
  return f;
}

TEST(TailText, CutsLongTextAndSaysSo) {
  TailText<4> t;
  t.set("abcdef");
  EXPECT_EQ(t.view(), "abcd");
  EXPECT_TRUE(t.cut);
  t.set("ab");
  EXPECT_EQ(t.view(), "ab");
  EXPECT_FALSE(t.cut);
}

TEST(TailRing, ReadsWhatWasPushedAndNotWhatWasNot) {
  TailRing ring;
  ring.push(event("shop", "v1", 200, 5));
  TailEvent out;
  ASSERT_TRUE(ring.read(0, out));
  EXPECT_EQ(out.version.view(), "v1");
  EXPECT_EQ(out.unix_ms, 5);
  EXPECT_FALSE(ring.read(1, out));
  EXPECT_EQ(ring.head(), 1u);
}

TEST(TailRing, WrapOverwritesTheOldest) {
  TailRing ring;
  for (std::size_t i = 0; i < TailRing::kCapacity + 3; ++i) {
    ring.push(event("shop", "v1", 200, static_cast<int64_t>(i)));
  }
  TailEvent out;
  EXPECT_FALSE(ring.read(2, out));  // overwritten
  ASSERT_TRUE(ring.read(3, out));
  EXPECT_EQ(out.unix_ms, 3);
  ASSERT_TRUE(ring.read(TailRing::kCapacity + 2, out));
  EXPECT_EQ(out.unix_ms, static_cast<int64_t>(TailRing::kCapacity + 2));
}

TEST(TailStatusFilter, ClassesAndStatuses) {
  auto fives = parse_status_filter("5xx");
  ASSERT_TRUE(fives);
  EXPECT_TRUE(fives->matches(500));
  EXPECT_TRUE(fives->matches(599));
  EXPECT_FALSE(fives->matches(499));
  auto one = parse_status_filter("503");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->matches(503));
  EXPECT_FALSE(one->matches(502));
  auto any = parse_status_filter("");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->matches(200));
  for (const char* bad : {"5x", "6xx", "abc", "50a", "5000", "x5x"}) {
    auto r = parse_status_filter(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find(bad), std::string::npos);
  }
}

TEST(TailCursor, RoundTripsAndRefusesOtherShapes) {
  TailCursor c{7, {1, 20, 300}};
  auto back = parse_cursor(format_cursor(c), 3);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->subscription, 7u);
  EXPECT_EQ(back->next, c.next);
  for (const char* bad : {"", "7", "7.1.2", "7.1.2.3.4", "7..2.3", "x.1.2.3", "7.1.2.3."}) {
    EXPECT_FALSE(parse_cursor(bad, 3)) << bad;
  }
}

TEST(TailHub, RecordsOnlyWhileSubscribedAndUntilIdle) {
  TailHub hub(1, milliseconds(1000));
  const auto t0 = Clock::now();
  EXPECT_FALSE(hub.recording(t0));
  auto sub = hub.subscribe(t0);
  ASSERT_TRUE(sub);
  EXPECT_TRUE(hub.recording(t0 + milliseconds(999)));
  EXPECT_FALSE(hub.recording(t0 + milliseconds(1001)));  // idle: a killed reader
  EXPECT_TRUE(hub.touch(sub->subscription, t0 + milliseconds(900)));
  EXPECT_TRUE(hub.recording(t0 + milliseconds(1800)));
  EXPECT_FALSE(hub.touch(sub->subscription, t0 + milliseconds(5000)));  // expired
  EXPECT_EQ(hub.subscriptions(t0 + milliseconds(5000)), 0u);
  auto again = hub.subscribe(t0);
  ASSERT_TRUE(again);
  EXPECT_NE(again->subscription, sub->subscription);
  hub.unsubscribe(again->subscription);
  EXPECT_FALSE(hub.recording(t0));
}

TEST(TailHub, BoundsSubscriptions) {
  TailHub hub(1);
  const auto now = Clock::now();
  for (std::size_t i = 0; i < TailHub::kMaxSubscriptions; ++i) {
    ASSERT_TRUE(hub.subscribe(now));
  }
  auto over = hub.subscribe(now);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Errc::kUnavailable);
}

TEST(TailHub, ReadsFromTheCursorMergedByTimeAndFiltered) {
  TailHub hub(2);
  auto cursor = hub.subscribe(Clock::now());
  ASSERT_TRUE(cursor);
  hub.ring(0).push(event("shop", "v1", 200, 10));
  hub.ring(1).push(event("shop", "v2", 503, 11));
  hub.ring(0).push(event("other", "v1", 500, 12));
  hub.ring(0).push(event("shop", "v2", 500, 13));
  hub.ring(1).push(event("shop", "v1", 404, 14));

  auto all = hub.read(*cursor, shop(), 100);
  ASSERT_EQ(all.events.size(), 4u);
  EXPECT_EQ(all.dropped, 0u);
  for (std::size_t i = 1; i < all.events.size(); ++i) {
    EXPECT_LT(all.events[i - 1].unix_ms, all.events[i].unix_ms);
  }
  EXPECT_TRUE(hub.read(all.next, shop(), 100).events.empty());

  TailFilter fives = shop();
  fives.status = *parse_status_filter("5xx");
  auto failing = hub.read(*cursor, fives, 100);
  ASSERT_EQ(failing.events.size(), 2u);
  EXPECT_EQ(failing.events[0].status, 503);
  EXPECT_EQ(failing.events[1].status, 500);

  TailFilter v2 = shop();
  v2.version = "v2";
  auto canary = hub.read(*cursor, v2, 100);
  ASSERT_EQ(canary.events.size(), 2u);
  EXPECT_EQ(canary.events[0].version.view(), "v2");
}

TEST(TailHub, AtMostMaxAndTheRestNextTime) {
  TailHub hub(2);
  auto cursor = hub.subscribe(Clock::now());
  ASSERT_TRUE(cursor);
  for (int i = 0; i < 10; ++i) {
    hub.ring(static_cast<std::size_t>(i % 2)).push(event("shop", "v1", 200, i));
  }
  auto first = hub.read(*cursor, shop(), 4);
  ASSERT_EQ(first.events.size(), 4u);
  EXPECT_EQ(first.events.back().unix_ms, 3);
  auto rest = hub.read(first.next, shop(), 100);
  ASSERT_EQ(rest.events.size(), 6u);
  EXPECT_EQ(rest.events.front().unix_ms, 4);
  EXPECT_EQ(rest.events.back().unix_ms, 9);
}

TEST(TailHub, AReaderThatFellBehindGetsWhatIsLeftAndTheDroppedCount) {
  TailHub hub(1);
  auto cursor = hub.subscribe(Clock::now());
  ASSERT_TRUE(cursor);
  const std::size_t pushed = TailRing::kCapacity + 100;
  for (std::size_t i = 0; i < pushed; ++i) {
    hub.ring(0).push(event("shop", "v1", 200, static_cast<int64_t>(i)));
  }
  auto batch = hub.read(*cursor, shop(), TailRing::kCapacity * 2);
  EXPECT_EQ(batch.dropped, 100u);
  ASSERT_EQ(batch.events.size(), TailRing::kCapacity);
  EXPECT_EQ(batch.events.front().unix_ms, 100);
  EXPECT_EQ(batch.next.next[0], pushed);
}

TEST(TailHub, ACursorAheadOfTheRingStartsAtItsHead) {
  TailHub hub(1);
  hub.ring(0).push(event("shop", "v1", 200, 1));
  auto batch = hub.read(TailCursor{1, {50}}, shop(), 10);
  EXPECT_TRUE(batch.events.empty());
  EXPECT_EQ(batch.next.next[0], 1u);
}

// One writer racing one reader: every event read is whole (its fields agree), never torn.
TEST(TailHub, ConcurrentReadsNeverSeeTornEvents) {
  TailHub hub(1);
  auto cursor = hub.subscribe(Clock::now());
  ASSERT_TRUE(cursor);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 50000; ++i) {
      auto e = event("shop", i % 2 ? "v2" : "v1", static_cast<uint16_t>(200 + i % 2), i);
      hub.ring(0).push(e);
    }
    done = true;
  });
  TailCursor at = *cursor;
  uint64_t seen = 0;
  uint64_t dropped = 0;
  while (!done.load()) {
    auto batch = hub.read(at, shop(), 1000);
    for (const auto& e : batch.events) {
      ASSERT_EQ(e.version.view(), e.unix_ms % 2 ? "v2" : "v1");
      ASSERT_EQ(e.status, 200 + e.unix_ms % 2);
    }
    seen += batch.events.size();
    dropped += batch.dropped;
    at = batch.next;
  }
  writer.join();
  auto last = hub.read(at, shop(), 100000);
  seen += last.events.size();
  dropped += last.dropped;
  EXPECT_EQ(seen + dropped, 50000u);
}

}  // namespace
}  // namespace rampart::gateway

namespace rampart::gateway {
namespace {

TEST(TailHubWait, AnswersWhenAnEventComesAndOnlyOneCallerWaits) {
  TailHub hub(1);
  auto cursor = hub.subscribe(TailHub::Clock::now());
  ASSERT_TRUE(cursor);
  TailFilter f;
  f.service = "shop";
  std::atomic<bool> waiting_done{false};
  TailBatch waited;
  std::thread waiter([&] {
    waited = hub.wait_read(*cursor, f, 10, std::chrono::milliseconds(5000));
    waiting_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // A second caller while the first waits: answered at once, not waited for.
  auto other = hub.wait_read(*cursor, f, 10, std::chrono::milliseconds(5000));
  EXPECT_FALSE(other.waited);
  EXPECT_FALSE(waiting_done.load());
  TailEvent e;
  e.service.set("shop");
  e.status = 200;
  hub.ring(0).push(e);
  waiter.join();
  EXPECT_TRUE(waited.waited);
  EXPECT_EQ(waited.events.size(), 1u);
  auto none = hub.wait_read(waited.next, f, 10, std::chrono::milliseconds(60));
  EXPECT_TRUE(none.waited);
  EXPECT_TRUE(none.events.empty());
}

}  // namespace
}  // namespace rampart::gateway
