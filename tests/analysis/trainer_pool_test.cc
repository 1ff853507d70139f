// The trainer pool's scheduling, in-process with jobs that count their
// turns (the daemon's side is tests/analysis/trainer_pool_daemon_test.cc):
// a tap that keeps receiving snapshots does not starve another, notices
// while a tap waits run it once, and no tap runs two turns at once.
#include "analysis/trainer_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace cw {
namespace {

using namespace std::chrono_literals;

struct CountingJob : TrainerPool::Job {
  std::function<void()> during_turn;
  std::atomic<int> turns{0}, running{0}, overlaps{0};
  void queued() override {}
  void run_turn(const std::atomic<bool>&) override {
    if (running.fetch_add(1) > 0) ++overlaps;
    ++turns;
    if (during_turn) during_turn();
    --running;
  }
};

bool wait_until(const std::function<bool()>& reached) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reached()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

TEST(TrainerPool, ATapNotifiedDuringEveryTurnDoesNotStarveAnother) {
  TrainerPool pool(1, TrainerPriority::kNormal);
  CountingJob busy, other;
  busy.during_turn = [&] {
    pool.submit(&busy);  // a snapshot arrives during each of its turns
    std::this_thread::sleep_for(2ms);
  };
  pool.submit(&busy);
  ASSERT_TRUE(wait_until([&] { return busy.turns >= 3; }));
  const int before = busy.turns;
  pool.submit(&other);
  ASSERT_TRUE(wait_until([&] { return other.turns == 1; }));
  // Behind at most the turn running and the one it had queued again.
  EXPECT_LE(busy.turns - before, 2);
  pool.stop();
}

TEST(TrainerPool, NoticesWhileQueuedRunOneTurnAndNoTapRunsTwiceAtOnce) {
  TrainerPool pool(4, TrainerPriority::kNormal);
  CountingJob blocker, job;
  std::atomic<bool> release{false};
  blocker.during_turn = [&] { wait_until([&] { return release.load(); }); };
  job.during_turn = [&] { std::this_thread::sleep_for(1ms); };
  // Four threads, all four busy: the job's notices find it queued.
  CountingJob more[3];
  for (auto& m : more) m.during_turn = blocker.during_turn;
  pool.submit(&blocker);
  for (auto& m : more) pool.submit(&m);
  ASSERT_TRUE(wait_until([&] { return pool.status()["busy"] == 4; }));
  for (int i = 0; i < 10; ++i) pool.submit(&job);
  EXPECT_EQ(pool.status()["queued"], 1);
  release = true;
  ASSERT_TRUE(wait_until([&] { return job.turns == 1 && pool.status()["busy"] == 0; }));
  // Many notices from several threads while it runs: never two turns at once.
  std::thread a([&] { for (int i = 0; i < 200; ++i) pool.submit(&job); });
  std::thread b([&] { for (int i = 0; i < 200; ++i) pool.submit(&job); });
  a.join(), b.join();
  ASSERT_TRUE(wait_until([&] { return pool.status()["busy"] == 0 && pool.status()["queued"] == 0; }));
  EXPECT_EQ(job.overlaps, 0);
  EXPECT_GE(job.turns.load(), 2);
  pool.stop();
}

}  // namespace
}  // namespace cw
