// The round before a budget's first step (crosscoder/trainer_ranks.h): a
// rank that cannot read its block says so at once, in words, and rank 0
// calls the budget off for every rank instead of waiting in a step's sum
// for the group's timeout. Ranks are forked processes over Gloo on loopback.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "crosscoder/compute_threads.h"
#include "crosscoder/gloo_head_group.h"
#include "crosscoder/trainer_ranks.h"
#include "tests/crosscoder/small_crosscoder.h"
#include "tests/support/daemon_process.h"

namespace cw {
namespace {

// Long enough that a budget left waiting for a rank's sum shows as slow.
constexpr auto kGroupTimeout = std::chrono::seconds(30);
constexpr auto kAtOnce = std::chrono::seconds(10);

HeadGroupAddress rank_address(int port, int rank, int world) {
  return {"127.0.0.1", port, rank, world, kGroupTimeout};
}

void log_to_stderr(const std::string& line) { fprintf(stderr, "%s\n", line.c_str()); }

// Forks a process that runs `rank_main` and exits with its status.
pid_t fork_rank(const std::function<int()>& rank_main) {
  const pid_t pid = fork();
  if (pid == 0) _exit(rank_main());
  return pid;
}

// Waits up to `limit` for `pid` to exit; its exit status, or -1 when it
// had not exited (it is then killed).
int exit_status_within(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// A real rank: serves blocks until rank 0 says stop.
int serving_rank(int port, int rank, int world) {
  try {
    set_compute_threads(1);
    TrainerRanks::serve_rank(rank_address(port, rank, world), log_to_stderr);
    return 0;
  } catch (const std::exception& e) {
    log_to_stderr(e.what());
    return 1;
  }
}

// A rank of another mind: joins the first generation, answers its first
// block with a refusal, then waits for rank 0 to say stop.
int refusing_rank(int port, int rank, int world) {
  try {
    Rendezvous rendezvous(rank_address(port, rank, world));
    while (rendezvous.current_generation() < 0 || rendezvous.generation_state(0) != "joining")
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto group = rendezvous.join(0);
    while (rendezvous.jobs(0) < 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    group->receive(0);
    group->send("Erank " + std::to_string(rank) + ": this test's rank refuses every block", 0);
    while (!rendezvous.stopped()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return 0;
  } catch (const std::exception& e) {
    log_to_stderr(e.what());
    return 1;
  }
}

TEST(TrainerRanks, ABlockARankRefusesCallsTheBudgetOffAtOnceWithTheRanksWords) {
  set_compute_threads(1);  // before any torch work: the ranks are forked from here
  const int port = testing::free_port();
  const pid_t serving = fork_rank([&] { return serving_rank(port, 1, 3); });
  const pid_t refusing = fork_rank([&] { return refusing_rank(port, 2, 3); });
  ASSERT_GT(serving, 0);
  ASSERT_GT(refusing, 0);
  const PlantedDictionary planted = small_planted();
  Crosscoder cc(small_options());
  for (int64_t t = 0; t < 3; ++t) cc.add_snapshot(uint64_t(100 * t), planted.activations[t].data(), 512);
  const std::string before = cc.serialize();
  {
    TrainerRanks ranks(rank_address(port, 0, 3));
    const auto start = std::chrono::steady_clock::now();
    try {
      ranks.train_budget(cc, 20, nullptr);
      ADD_FAILURE() << "a budget a rank refused was trained";
    } catch (const TrainerRanksError& e) {
      EXPECT_NE(std::string(e.what()).find("a rank refused its block: rank 2: this test's rank refuses every block"),
                std::string::npos)
          << e.what();
    }
    // Without the round rank 0 and rank 1 would wait in the first step's
    // sum for rank 2 until the group's timeout (30 s).
    EXPECT_LT(std::chrono::steady_clock::now() - start, kAtOnce);
    EXPECT_EQ(cc.serialize(), before) << "a budget called off changed the crosscoder";
  }  // rank 0 says stop and its store goes
  // Rank 1 accepted, was called off and went back to waiting for work: it
  // exits once told. (It may see the store gone before it reads the stop,
  // and then exits 1 saying so, as conceptwatch-trainer does.)
  EXPECT_GE(exit_status_within(serving, kAtOnce), 0) << "the rank that accepted did not stop";
  EXPECT_GE(exit_status_within(refusing, kAtOnce), 0);
}

// What a block message of another build looks like to a rank: the tag, then
// a version this build does not read (the tag as crosscoder/trainer_ranks.cc
// writes it: the bytes "CWBLOCK!").
std::string block_message_of_version(int64_t version) {
  const int64_t tag = 0x214b434f4c425743;
  std::string out(reinterpret_cast<const char*>(&tag), sizeof tag);
  out.append(reinterpret_cast<const char*>(&version), sizeof version);
  return out + std::string(64, '\0');
}

TEST(TrainerRanks, ARankRefusesABlockOfAnotherBuildInWordsAndServesTheNext) {
  set_compute_threads(1);
  const int port = testing::free_port();
  const pid_t rank = fork_rank([&] { return serving_rank(port, 1, 2); });
  ASSERT_GT(rank, 0);
  {
    Rendezvous rank_zero(rank_address(port, 0, 2));
    rank_zero.open_generation(0);
    auto group = rank_zero.join(0);
    rank_zero.mark_generation(0, "formed");
    const auto start = std::chrono::steady_clock::now();
    rank_zero.post_job(0);
    group->send(block_message_of_version(99), 1);
    const std::string newer = group->receive(1);
    ASSERT_FALSE(newer.empty());
    EXPECT_EQ(newer[0], 'E');
    EXPECT_NE(newer.find("rank 1 of 2: trainer ranks: a block message of version 99, this conceptwatch-trainer "
                         "reads version 2: run the same build on every rank"),
              std::string::npos)
        << newer;
    rank_zero.post_job(0);  // the rank still serves: a message without the tag (a build before it)
    group->send(std::string(80, '\x01'), 1);
    const std::string untagged = group->receive(1);
    EXPECT_NE(untagged.find("not a block message of this layout"), std::string::npos) << untagged;
    EXPECT_LT(std::chrono::steady_clock::now() - start, kAtOnce);
    rank_zero.stop_all();
    EXPECT_EQ(exit_status_within(rank, kAtOnce), 0) << "the rank did not stop when told";  // the store still up
  }
}

}  // namespace
}  // namespace cw
