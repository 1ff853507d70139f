// The round before a budget's first step (crosscoder/trainer_ranks.h): a
// rank that cannot read its block says so at once, in words, and rank 0
// calls the budget off for every rank instead of waiting in a step's sum
// for the group's timeout; a rank that can open a streamed block's row
// files reads its own rows, one that cannot is sent them, and both train
// as one process does. Ranks are forked processes over Gloo on loopback.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "analysis/row_file_source.h"
#include "crosscoder/compute_threads.h"
#include "crosscoder/gloo_head_group.h"
#include "crosscoder/trainer_ranks.h"
#include "tests/crosscoder/small_crosscoder.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

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

// A real rank: serves blocks until rank 0 says stop; with `access`, it
// reads a streamed block's rows from its row files when it can.
int serving_rank(int port, int rank, int world, const RowFileAccess& access = {}) {
  try {
    set_compute_threads(1);
    TrainerRanks::serve_rank(rank_address(port, rank, world), log_to_stderr, access);
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
                         "reads version 4: run the same build on every rank"),
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

// Snapshot t's row file name, of the daemon's form (store/row_files.h:
// step.checksum.f32; the checksum here is t + 1).
std::string row_file_name(size_t t) {
  char name[64];
  std::snprintf(name, sizeof name, "%zu.%016zx.f32", 100 * (t + 1), t + 1);
  return name;
}

// The small planted stream's snapshots as row files (raw float32), as the
// daemon writes them beside its store.
std::vector<std::string> write_row_files(const PlantedDictionary& p, const testing::TempDir& dir) {
  std::vector<std::string> paths;
  for (size_t t = 0; t < p.activations.size(); ++t) {
    paths.push_back(dir.sub(row_file_name(t)));
    std::ofstream(paths.back(), std::ios::binary)
        .write(reinterpret_cast<const char*>(p.activations[t].data()),
               std::streamsize(p.activations[t].size() * sizeof(float)));
  }
  return paths;
}

// The row files as rank 0's source.
std::shared_ptr<const RowSource> row_files_here(const std::vector<std::string>& files) {
  return rank_row_files("").open(files, 512, 16);
}

// The same rows, named as files a rank cannot open (on rank 0's machine,
// not the rank's): each file_of is the file's name under a directory that
// does not exist.
class RowsElsewhere : public RowSource {
 public:
  explicit RowsElsewhere(std::shared_ptr<const RowSource> here) : here_(std::move(here)) {}
  int64_t n_snapshots() const override { return here_->n_snapshots(); }
  int64_t n_tokens() const override { return here_->n_tokens(); }
  int64_t d_model() const override { return here_->d_model(); }
  void read_rows(int64_t t, const int64_t* rows, int64_t count, float* out) const override {
    here_->read_rows(t, rows, count, out);
  }
  void read_range(int64_t t, int64_t begin, int64_t end, float* out) const override {
    here_->read_range(t, begin, end, out);
  }
  std::string file_of(int64_t t) const override {
    return "/nonexistent-machine-a/" + std::filesystem::path(here_->file_of(t)).filename().string();
  }

 private:
  std::shared_ptr<const RowSource> here_;
};

struct StreamedRun {
  std::string state;  // Crosscoder::serialize after two budgets
  int64_t row_bytes_sent = 0, row_file_bytes_sent = 0;
  int ranks_reading_row_files = -1;
};

// Two budgets of 20 steps (after two snapshots, then after the third) of a
// crosscoder streamed from `source`, over `world` ranks whose store is at
// `port` (world 1: none).
StreamedRun train_streamed(std::shared_ptr<const RowSource> source, int port, int world) {
  Crosscoder cc(small_options());
  cc.stream_from(std::move(source));
  TrainerRanks ranks(rank_address(port, 0, world));
  cc.add_streamed_snapshot(100);
  cc.add_streamed_snapshot(200);
  ranks.train_budget(cc, 20, nullptr);
  cc.add_streamed_snapshot(300);
  ranks.train_budget(cc, 20, nullptr);
  return {cc.serialize(), ranks.row_bytes_sent(), ranks.row_file_bytes_sent(), ranks.ranks_reading_row_files()};
}

TEST(TrainerRanks, AStreamedBlocksRankReadsItsRowFilesOrIsSentItsRowsAndTrainsAlike) {
  set_compute_threads(1);  // before any torch work: the ranks are forked from here
  const PlantedDictionary planted = small_planted();
  testing::TempDir dir;
  const std::vector<std::string> files = write_row_files(planted, dir);
  const int reading_port = testing::free_port(), sent_port = testing::free_port();
  const pid_t reading = fork_rank([&] { return serving_rank(reading_port, 1, 2, rank_row_files("")); });
  const pid_t sent = fork_rank([&] { return serving_rank(sent_port, 1, 2); });  // opens no row files
  ASSERT_GT(reading, 0);
  ASSERT_GT(sent, 0);

  const StreamedRun alone = train_streamed(row_files_here(files), 0, 1);
  const StreamedRun reads = train_streamed(row_files_here(files), reading_port, 2);
  const StreamedRun is_sent = train_streamed(row_files_here(files), sent_port, 2);
  // A rank exits 0 on rank 0's stop, or 1 when it sees the store gone
  // first (as in the first test); -1 is a rank that did not stop.
  EXPECT_GE(exit_status_within(reading, kAtOnce), 0);
  EXPECT_GE(exit_status_within(sent, kAtOnce), 0);

  // Bit for bit the one-process result either way: every rank normalises
  // the same raw rows with the same scale (crosscoder/probe_rows.h).
  EXPECT_TRUE(reads.state == alone.state) << "a rank reading its own row files trained another crosscoder";
  EXPECT_TRUE(is_sent.state == alone.state) << "a rank sent its rows trained another crosscoder";
  EXPECT_EQ(reads.row_bytes_sent, 0) << "rows were sent to a rank that reads its own";
  EXPECT_EQ(reads.row_file_bytes_sent, 0);
  EXPECT_EQ(reads.ranks_reading_row_files, 1);
  // Rank 1 holds one head in both budgets (blocks [0, 1) [1, 2), then
  // [0, 2) [2, 3)): 40 steps of 64 rows of 16 floats.
  EXPECT_EQ(is_sent.row_bytes_sent, 40 * 64 * 16 * int64_t(sizeof(float)));
  EXPECT_EQ(is_sent.ranks_reading_row_files, 0);
}

// A rank on another machine, which cannot open rank 0's row files but
// keeps copies: it asks for each file of its block once, then reads its
// copies; nothing is sent step by step, and it trains as one process does.
// A copy no block has read for a week (a deleted run's) is removed.
TEST(TrainerRanks, ARankElsewhereCopiesItsRowFilesOnceReadsThemAndPrunesUnusedOnes) {
  set_compute_threads(1);
  const PlantedDictionary planted = small_planted();
  testing::TempDir dir, copies;
  const std::vector<std::string> files = write_row_files(planted, dir);
  // A copy of a deleted run's file, unused for 8 days: pruned after a block.
  const std::string stale = copies.sub("7.00000000000000ff.f32");
  std::ofstream(stale) << "a deleted run's rows";
  std::filesystem::last_write_time(stale, std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 8));
  const int port = testing::free_port();
  const pid_t rank = fork_rank([&] { return serving_rank(port, 1, 2, rank_row_files(copies.path())); });
  ASSERT_GT(rank, 0);
  const StreamedRun alone = train_streamed(row_files_here(files), 0, 1);
  const StreamedRun spread = train_streamed(std::make_shared<RowsElsewhere>(row_files_here(files)), port, 2);
  EXPECT_GE(exit_status_within(rank, kAtOnce), 0);
  EXPECT_TRUE(spread.state == alone.state) << "a rank reading copies of its row files trained another crosscoder";
  EXPECT_EQ(spread.ranks_reading_row_files, 1);
  EXPECT_EQ(spread.row_bytes_sent, 0);
  // Head 1 in the first budget, head 2 in the second: two files of 512
  // rows of 16 floats, each sent once.
  EXPECT_EQ(spread.row_file_bytes_sent, 2 * 512 * 16 * int64_t(sizeof(float)));
  for (size_t t : {1, 2}) EXPECT_TRUE(std::filesystem::exists(copies.sub(row_file_name(t)))) << row_file_name(t);
  EXPECT_FALSE(std::filesystem::exists(copies.sub(row_file_name(0)))) << "a file of rank 0's own head was copied";
  EXPECT_FALSE(std::filesystem::exists(stale)) << "a copy unused for 8 days was kept";
}

// A rank whose row files are not there and that keeps no copies: it is
// sent its rows (its log says why). Here the files have another size.
TEST(TrainerRanks, ARankThatCannotOpenItsRowFilesIsSentItsRows) {
  set_compute_threads(1);
  const PlantedDictionary planted = small_planted();
  testing::TempDir dir;
  const std::vector<std::string> files = write_row_files(planted, dir);
  const int port = testing::free_port();
  RowFileAccess short_files;
  short_files.open = [](const std::vector<std::string>& paths, int64_t n, int64_t d) {
    return rank_row_files("").open(paths, n + 1, d);  // as if each file were one row short
  };
  const pid_t rank = fork_rank([&] { return serving_rank(port, 1, 2, short_files); });
  ASSERT_GT(rank, 0);
  const StreamedRun alone = train_streamed(row_files_here(files), 0, 1);
  const StreamedRun spread = train_streamed(row_files_here(files), port, 2);
  EXPECT_GE(exit_status_within(rank, kAtOnce), 0);
  EXPECT_TRUE(spread.state == alone.state);
  EXPECT_EQ(spread.ranks_reading_row_files, 0);
  EXPECT_GT(spread.row_bytes_sent, 0);
  EXPECT_EQ(spread.row_file_bytes_sent, 0);
}

}  // namespace
}  // namespace cw
