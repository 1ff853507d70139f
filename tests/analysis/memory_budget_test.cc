// The trainers' memory budget in-process: a reservation over the cap is
// refused at once, one that does not fit yet waits, first come first served
// (a smaller one behind a waiting larger one waits too, though it would fit), and a stop ends
// the wait.
#include "analysis/memory_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace cw {
namespace {

using namespace std::chrono_literals;

TEST(MemoryBudget, OverTheCapIsRefusedAndWaitersAreServedInTurn) {
  MemoryBudget budget(100);
  std::atomic<bool> stop{false};
  EXPECT_FALSE(budget.reserve(101, stop).has_value());
  auto first = budget.reserve(60, stop);
  ASSERT_TRUE(first.has_value());

  std::atomic<int> served{0};
  std::thread large([&] {
    auto lease = budget.reserve(70, stop);  // waits for `first`
    ++served;
  });
  while (budget.status()["waiting"] != 1) std::this_thread::sleep_for(1ms);
  std::thread small([&] {
    auto lease = budget.reserve(10, stop);  // would fit beside `first`, but comes after `large`
    ++served;
  });
  while (budget.status()["waiting"] != 2) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(served, 0);
  EXPECT_EQ(budget.status()["reserved_bytes"], 60);
  first.reset();
  large.join(), small.join();
  EXPECT_EQ(served, 2);
  const auto status = budget.status();
  EXPECT_EQ(status["reserved_bytes"], 0);
  EXPECT_EQ(status["waiting"], 0);
  EXPECT_LE(status["peak_reserved_bytes"].get<uint64_t>(), 100u);
  EXPECT_EQ(status["cap_bytes"], 100);
}

TEST(MemoryBudget, AStopEndsTheWaitWithoutALease) {
  MemoryBudget budget(100);
  std::atomic<bool> stop{false};
  auto held = budget.reserve(100, stop);
  std::atomic<bool> got{true};
  std::thread waiter([&] { got = budget.reserve(1, stop).has_value(); });
  while (budget.status()["waiting"] != 1) std::this_thread::sleep_for(1ms);
  stop = true;
  waiter.join();
  EXPECT_FALSE(got);
  EXPECT_EQ(budget.status()["waiting"], 0);
}

TEST(MemoryBudget, ZeroMeansHalfThePhysicalMemory) {
  EXPECT_GT(MemoryBudget(0).cap(), uint64_t(0));
}

}  // namespace
}  // namespace cw
