// The publisher with no daemon at all: it must neither hang nor grow without
// bound; the queue evicts, and every eviction is counted.
#include <gtest/gtest.h>

#include <thread>

#include "hooks/publisher.h"
#include "tests/support/daemon_process.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using Clock = std::chrono::steady_clock;

// See publisher_daemon_test.cc: publish() never waits on the daemon.
constexpr uint64_t kPublishBoundNs = 1'000'000'000;
// Beyond close_timeout the destructor only joins a thread that polls every
// few milliseconds; anything near this is a hang, not a slow machine.
constexpr auto kHangBound = std::chrono::seconds(5);

constexpr uint32_t kTokens = 1024, kDModel = 64;
constexpr uint64_t kSnapshotBytes = uint64_t(kTokens) * kDModel * 4;  // 256 KiB

PublisherOptions offline_options(WhenFull when_full) {
  PublisherOptions options;
  // A port nobody listens on: the daemon is down for the whole run.
  options.endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_port());
  options.max_queue_bytes = 10 * kSnapshotBytes;
  options.when_full = when_full;
  options.block_timeout = std::chrono::milliseconds(20);
  options.close_timeout = std::chrono::milliseconds(300);
  return options;
}

// Publishes 50 snapshots and returns the stats just before destruction;
// `destroy_took` is how long the destructor ran.
PublisherStats publish_fifty(const PublisherOptions& options, Clock::duration* destroy_took) {
  const RunDescription run = testing::make_run("offline", {"tap"}, kDModel, kTokens);
  auto publisher = std::make_unique<Publisher>(run, options);
  const auto values = testing::random_activations(5, kTokens * kDModel);
  for (int step = 0; step < 50; ++step) {
    EXPECT_TRUE(publisher->publish(testing::probe_meta(run, "tap", step, values), values.data()));
  }
  EXPECT_FALSE(publisher->flush(std::chrono::milliseconds(100)));
  const PublisherStats stats = publisher->stats();
  const auto start = Clock::now();
  publisher.reset();
  *destroy_took = Clock::now() - start;
  return stats;
}

TEST(PublisherOffline, DropOldestCountsEveryEvictionAndNeverWaits) {
  const PublisherOptions options = offline_options(WhenFull::kDropOldest);
  Clock::duration destroy_took{};
  const PublisherStats stats = publish_fifty(options, &destroy_took);
  EXPECT_EQ(stats.published, 50u);
  EXPECT_EQ(stats.queued, 10u);
  EXPECT_EQ(stats.queued_bytes, 10 * kSnapshotBytes);
  EXPECT_EQ(stats.dropped, 40u);
  EXPECT_EQ(stats.published - stats.queued, stats.dropped);
  EXPECT_EQ(stats.acked, 0u);
  EXPECT_FALSE(stats.hello_acked);
  EXPECT_LT(stats.max_publish_ns, kPublishBoundNs);
  EXPECT_LT(destroy_took, options.close_timeout + kHangBound);
}

TEST(PublisherOffline, BlockPolicyWaitsItsTimeoutThenEvicts) {
  const PublisherOptions options = offline_options(WhenFull::kBlock);
  Clock::duration destroy_took{};
  const PublisherStats stats = publish_fifty(options, &destroy_took);
  EXPECT_EQ(stats.published, 50u);
  EXPECT_EQ(stats.queued, 10u);
  EXPECT_EQ(stats.dropped, 40u);
  // It waited for room (nothing ever frees it) at least block_timeout.
  EXPECT_GE(stats.max_publish_ns, uint64_t(std::chrono::nanoseconds(options.block_timeout).count()));
  EXPECT_LT(stats.max_publish_ns, kPublishBoundNs);
  EXPECT_LT(destroy_took, options.close_timeout + kHangBound);
}

TEST(PublisherOffline, ASnapshotLargerThanTheQueueIsDroppedNotQueued) {
  PublisherOptions options = offline_options(WhenFull::kDropOldest);
  options.max_queue_bytes = kSnapshotBytes / 2;
  const RunDescription run = testing::make_run("offline", {"tap"}, kDModel, kTokens);
  Publisher publisher(run, options);
  const auto values = testing::random_activations(5, kTokens * kDModel);
  EXPECT_FALSE(publisher.publish(testing::probe_meta(run, "tap", 0, values), values.data()));
  const PublisherStats stats = publisher.stats();
  EXPECT_EQ(stats.published, 0u);
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(PublisherOffline, SnapshotsThatDoNotFitTheRunAreRefusedAtPublish) {
  const RunDescription run = testing::make_run("offline", {"tap"}, kDModel, kTokens);
  Publisher publisher(run, offline_options(WhenFull::kDropOldest));
  const auto values = testing::random_activations(5, kTokens * kDModel);
  SnapshotMeta meta = testing::probe_meta(run, "tap", 0, values);
  meta.key.tap = "nope";
  EXPECT_THROW(publisher.publish(meta, values.data()), std::invalid_argument);
  meta = testing::probe_meta(run, "tap", 0, values);
  meta.d_model = kDModel / 2;
  EXPECT_THROW(publisher.publish(meta, values.data()), std::invalid_argument);
  meta = testing::probe_meta(run, "tap", 0, values);
  meta.n_tokens = kTokens - 1;
  EXPECT_THROW(publisher.publish(meta, values.data()), std::invalid_argument);
  EXPECT_EQ(publisher.stats().published, 0u);
}

}  // namespace
}  // namespace cw
