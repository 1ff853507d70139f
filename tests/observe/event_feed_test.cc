// EventFeed: what the dashboard's event streams read (observe/event_feed.h).
#include "observe/event_feed.h"

#include <gtest/gtest.h>

#include <thread>

namespace cw {
namespace {

using std::chrono::milliseconds;

TEST(EventFeed, AReaderGetsWhatCameAfterItAndIsToldWhatTheRingDropped) {
  EventFeed feed(4);
  feed.publish({{"seq", 1}});
  uint64_t cursor = feed.end();  // a reader subscribing now
  EXPECT_TRUE(feed.wait_after(&cursor, milliseconds(10)).events.empty());
  for (int seq = 2; seq <= 3; ++seq) feed.publish({{"seq", seq}});
  auto batch = feed.wait_after(&cursor, milliseconds(10));
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0]["seq"], 2);
  EXPECT_FALSE(batch.lost);
  for (int seq = 4; seq <= 10; ++seq) feed.publish({{"seq", seq}});
  batch = feed.wait_after(&cursor, milliseconds(10));
  EXPECT_TRUE(batch.lost);  // 4, 5 and 6 went before it read them
  ASSERT_EQ(batch.events.size(), 4u);
  EXPECT_EQ(batch.events.front()["seq"], 7);
  EXPECT_EQ(cursor, feed.end());
}

TEST(EventFeed, AWaitingReaderWakesWhenAnEventIsPublished) {
  EventFeed feed;
  uint64_t cursor = feed.end();
  std::thread publisher([&] {
    std::this_thread::sleep_for(milliseconds(50));
    feed.publish({{"type", "phase_transition"}});
  });
  const auto start = std::chrono::steady_clock::now();
  const auto batch = feed.wait_after(&cursor, milliseconds(5000));
  publisher.join();
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
}

}  // namespace
}  // namespace cw
