#include "daemon/alerting/alert_dispatcher.h"

#include <gtest/gtest.h>

#include "tests/alerting/alert_test_util.h"

namespace cw {
namespace {

using testing::eventually;
using testing::make_alert;
using testing::ScriptedSink;
using testing::SinkScript;

DeliveryPolicy fast_policy(size_t capacity = 16, uint32_t attempts = 5) {
  DeliveryPolicy policy;
  policy.queue_capacity = capacity;
  policy.initial_backoff = std::chrono::milliseconds(1);
  policy.max_backoff = std::chrono::milliseconds(4);
  policy.max_attempts = attempts;
  return policy;
}

TEST(AlertDispatcher, FullQueueDropsWithoutWaitingAndOtherSinksGetEverything) {
  auto blocked = std::make_shared<SinkScript>();
  auto healthy = std::make_shared<SinkScript>();
  blocked->set_blocked(true);
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<ScriptedSink>(blocked), fast_policy(/*capacity=*/2));
  dispatcher.add_sink(std::make_unique<ScriptedSink>(healthy), fast_policy(/*capacity=*/16));

  dispatcher.emit(make_alert("a0"));
  ASSERT_TRUE(eventually([&] { return blocked->entered_count() == 1; }));  // a0 is in flight, stuck
  for (int i = 1; i <= 5; ++i) dispatcher.emit(make_alert("a" + std::to_string(i)));  // returns: never waits

  auto stats = dispatcher.stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].queued, 2u);        // a1, a2
  EXPECT_EQ(stats[0].dropped_full, 3u);  // a3, a4, a5
  EXPECT_EQ(stats[0].delivered, 0u);
  ASSERT_TRUE(eventually([&] { return healthy->delivered_count() == 6; }));
  EXPECT_EQ(dispatcher.stats()[1].dropped(), 0u);

  blocked->set_blocked(false);
  EXPECT_TRUE(dispatcher.shutdown(std::chrono::seconds(20)));
  stats = dispatcher.stats();
  EXPECT_EQ(stats[0].delivered, 3u);
  EXPECT_EQ(stats[0].dropped(), 3u);
  ASSERT_EQ(blocked->delivered.size(), 3u);
  EXPECT_EQ(blocked->delivered[0].labels.at("alertname"), "a0");
  EXPECT_EQ(blocked->delivered[2].labels.at("alertname"), "a2");
}

TEST(AlertDispatcher, RetriesThenDelivers) {
  auto flaky = std::make_shared<SinkScript>();
  flaky->failures_left = 3;
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<ScriptedSink>(flaky), fast_policy(16, /*attempts=*/5));
  dispatcher.emit(make_alert());
  ASSERT_TRUE(eventually([&] { return flaky->delivered_count() == 1; }));
  auto stats = dispatcher.stats()[0];
  EXPECT_EQ(stats.retried, 3u);
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.dropped(), 0u);
  EXPECT_EQ(stats.last_error, "scripted failure");
  EXPECT_EQ(flaky->entered, 4);
}

TEST(AlertDispatcher, GivesUpAfterMaxAttemptsAndMovesOn) {
  auto failing = std::make_shared<SinkScript>();
  failing->failures_left = 3;  // exactly the attempts of the first alert
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<ScriptedSink>(failing), fast_policy(16, /*attempts=*/3));
  dispatcher.emit(make_alert("lost"));
  dispatcher.emit(make_alert("kept"));
  ASSERT_TRUE(eventually([&] { return failing->delivered_count() == 1; }));
  auto stats = dispatcher.stats()[0];
  EXPECT_EQ(stats.dropped_failed, 1u);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(failing->delivered[0].labels.at("alertname"), "kept");
}

TEST(AlertDispatcher, ShutdownDeadlineLeavesStuckSinkBehind) {
  auto stuck = std::make_shared<SinkScript>();
  stuck->set_blocked(true);
  auto dispatcher = std::make_unique<AlertDispatcher>();
  dispatcher->add_sink(std::make_unique<ScriptedSink>(stuck), fast_policy());
  dispatcher->emit(make_alert("in-flight"));
  ASSERT_TRUE(eventually([&] { return stuck->entered_count() == 1; }));
  dispatcher->emit(make_alert("waiting-1"));
  dispatcher->emit(make_alert("waiting-2"));
  EXPECT_FALSE(dispatcher->shutdown(std::chrono::milliseconds(20)));
  auto stats = dispatcher->stats()[0];
  EXPECT_EQ(stats.dropped_failed, 2u);  // the queue, abandoned
  EXPECT_EQ(stats.queued, 0u);
  dispatcher->emit(make_alert("after"));
  EXPECT_EQ(dispatcher->stats()[0].dropped_full, 1u);
  dispatcher.reset();        // must not wait for the stuck sink
  stuck->set_blocked(false);  // the detached worker finishes on its own
  ASSERT_TRUE(eventually([&] { return stuck->delivered_count() == 1; }));
}

TEST(AlertDispatcher, RefusesUnworkablePolicies) {
  AlertDispatcher dispatcher;
  auto script = std::make_shared<SinkScript>();
  DeliveryPolicy policy = fast_policy();
  policy.queue_capacity = 0;
  EXPECT_THROW(dispatcher.add_sink(std::make_unique<ScriptedSink>(script), policy), std::invalid_argument);
  policy = fast_policy();
  policy.max_backoff = std::chrono::milliseconds(0);
  EXPECT_THROW(dispatcher.add_sink(std::make_unique<ScriptedSink>(script), policy), std::invalid_argument);
  EXPECT_TRUE(dispatcher.stats().empty());
}

}  // namespace
}  // namespace cw
