#include "alerts/alert_dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace cw {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

Alert numbered(int i) {
  Alert alert;
  alert.labels = {{"alertname", "PhaseTransition"}, {"run", "r1"}, {"tap", "t"},
                  {"detector", "bocpd"}, {"severity", "warning"}, {"n", std::to_string(i)}};
  return alert;
}

// A sink whose deliver() blocks until released (or interrupted), and that
// fails its first `failures` attempts.
class ScriptedSink : public AlertSink {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool blocking = false;
    bool interrupted = false;
    int entered = 0;  // deliver() calls so far
    int failures = 0;
    std::vector<std::string> delivered;
    std::vector<Clock::time_point> attempts;
  };
  explicit ScriptedSink(std::shared_ptr<State> state) : state_(std::move(state)) {}

  void deliver(const Alert& alert) override {
    std::unique_lock<std::mutex> lock(state_->mu);
    ++state_->entered;
    state_->attempts.push_back(Clock::now());
    state_->cv.notify_all();
    state_->cv.wait(lock, [this] { return !state_->blocking || state_->interrupted; });
    if (state_->interrupted) throw std::runtime_error("interrupted");
    if (state_->failures > 0) {
      --state_->failures;
      throw std::runtime_error("receiver said no");
    }
    state_->delivered.push_back(alert.labels.at("n"));
  }
  void interrupt() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->interrupted = true;
    state_->cv.notify_all();
  }
  std::string describe() const override { return "scripted"; }

 private:
  std::shared_ptr<State> state_;
};

SinkOptions fast_options(size_t capacity, int attempts) {
  SinkOptions options;
  options.queue_capacity = capacity;
  options.retry.initial_delay = milliseconds(10);
  options.retry.max_delay = milliseconds(40);
  options.retry.max_attempts = attempts;
  return options;
}

TEST(AlertDispatcher, FullQueueDropsAndCountsWithoutWaitingOnTheSink) {
  auto state = std::make_shared<ScriptedSink::State>();
  state->blocking = true;
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<ScriptedSink>(state), fast_options(4, 1));

  dispatcher.emit(numbered(0));
  {
    std::unique_lock<std::mutex> lock(state->mu);
    state->cv.wait(lock, [&] { return state->entered == 1; });  // alert 0 is stuck in deliver()
  }
  // These return although the sink is blocked: 4 fit the queue, 6 are dropped.
  for (int i = 1; i <= 10; ++i) dispatcher.emit(numbered(i));
  SinkStats stats = dispatcher.stats()[0];
  EXPECT_EQ(stats.queued, 4u);
  EXPECT_EQ(stats.dropped_queue_full, 6u);
  EXPECT_TRUE(stats.delivering);
  {
    std::lock_guard<std::mutex> lock(state->mu);
    EXPECT_EQ(state->entered, 1);  // emit() never called the sink itself
    state->blocking = false;
    state->cv.notify_all();
  }
  ASSERT_TRUE(dispatcher.flush(milliseconds(10000)));
  stats = dispatcher.stats()[0];
  EXPECT_EQ(stats.delivered, 5u);
  EXPECT_EQ(stats.dropped(), 6u);
  std::lock_guard<std::mutex> lock(state->mu);
  EXPECT_EQ(state->delivered, (std::vector<std::string>{"0", "1", "2", "3", "4"}));  // in order
}

TEST(AlertDispatcher, RetriesWithBackoffThenDelivers) {
  auto state = std::make_shared<ScriptedSink::State>();
  state->failures = 3;
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<ScriptedSink>(state), fast_options(8, 10));
  dispatcher.emit(numbered(7));
  ASSERT_TRUE(dispatcher.flush(milliseconds(10000)));

  SinkStats stats = dispatcher.stats()[0];
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.retried, 3u);
  EXPECT_EQ(stats.dropped(), 0u);
  EXPECT_EQ(stats.last_error, "receiver said no");
  std::lock_guard<std::mutex> lock(state->mu);
  ASSERT_EQ(state->attempts.size(), 4u);
  // Waits of at least 10, 20, 40 ms (doubling, capped at max_delay 40).
  EXPECT_GE(state->attempts[1] - state->attempts[0], milliseconds(10));
  EXPECT_GE(state->attempts[2] - state->attempts[1], milliseconds(20));
  EXPECT_GE(state->attempts[3] - state->attempts[2], milliseconds(40));
}

TEST(AlertDispatcher, GivesUpAfterMaxAttemptsAndMovesOn) {
  auto state = std::make_shared<ScriptedSink::State>();
  state->failures = 3;
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<ScriptedSink>(state), fast_options(8, 3));
  dispatcher.emit(numbered(1));  // fails 3 times: dropped
  dispatcher.emit(numbered(2));  // then succeeds
  ASSERT_TRUE(dispatcher.flush(milliseconds(10000)));
  SinkStats stats = dispatcher.stats()[0];
  EXPECT_EQ(stats.dropped_gave_up, 1u);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.delivered, 1u);
  std::lock_guard<std::mutex> lock(state->mu);
  EXPECT_EQ(state->delivered, std::vector<std::string>{"2"});
}

TEST(AlertDispatcher, ShutdownDeadlineInterruptsAStuckSinkAndCountsWhatWasLeft) {
  auto stuck = std::make_shared<ScriptedSink::State>();
  stuck->blocking = true;
  auto healthy = std::make_shared<ScriptedSink::State>();
  AlertDispatcher dispatcher;
  dispatcher.add_sink(std::make_unique<ScriptedSink>(stuck), fast_options(8, 5));
  dispatcher.add_sink(std::make_unique<ScriptedSink>(healthy), fast_options(8, 5));
  for (int i = 0; i < 3; ++i) dispatcher.emit(numbered(i));

  EXPECT_FALSE(dispatcher.shutdown(milliseconds(100)));
  auto stats = dispatcher.stats();
  EXPECT_EQ(stats[0].delivered, 0u);
  EXPECT_EQ(stats[0].dropped_at_shutdown, 3u);  // one interrupted in deliver(), two queued
  EXPECT_EQ(stats[1].delivered, 3u);            // the healthy sink drained its queue
  {
    std::lock_guard<std::mutex> lock(stuck->mu);
    EXPECT_TRUE(stuck->interrupted);
  }
  dispatcher.emit(numbered(9));  // after shutdown: counted, not queued
  EXPECT_EQ(dispatcher.stats()[1].dropped_at_shutdown, 1u);
  EXPECT_TRUE(dispatcher.shutdown(milliseconds(100)));  // idempotent
}

TEST(AlertDispatcher, RefusesUnworkableOptions) {
  AlertDispatcher dispatcher;
  auto state = std::make_shared<ScriptedSink::State>();
  EXPECT_THROW(dispatcher.add_sink(nullptr, {}), std::invalid_argument);
  EXPECT_THROW(dispatcher.add_sink(std::make_unique<ScriptedSink>(state), fast_options(0, 1)),
               std::invalid_argument);
  EXPECT_THROW(dispatcher.add_sink(std::make_unique<ScriptedSink>(state), fast_options(1, 0)),
               std::invalid_argument);
}

}  // namespace
}  // namespace cw
