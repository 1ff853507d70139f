// A full disk through the real conceptwatchd (issue 11): its store on a
// tmpfs of 8 MiB that the test fills. The daemon refuses new data with a
// clear error (busy, marked storeUnavailable) instead of failing each write,
// `status` shows the store's error, the job's publisher keeps its snapshots
// queued and backs off; once space is freed the daemon resumes its store by
// itself and every snapshot is stored once, byte-identical, without a
// restart of the daemon or the job; an event raised meanwhile is alerted
// at once and stored when space returns.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "hooks/publisher.h"
#include "tests/support/cli_output.h"
#include "tests/support/daemon_process.h"
#include "tests/support/stored_snapshots.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using Clock = std::chrono::steady_clock;

// A tmpfs of `size` mounted on `dir` for the test's lifetime (root only).
class SmallFilesystem {
 public:
  SmallFilesystem(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  // Detached even while a process still has files open there.
  ~SmallFilesystem() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  // Why the test is skipped when it is not mounted.
  std::string why_not() const {
    return "cannot mount a tmpfs on " + dir_ + " (" + error_ +
           "): this test needs root (CAP_SYS_ADMIN) to make a small file system to fill";
  }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the file system has no space left; returns its size.
uint64_t fill(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot create " + path);
  const std::string block(64 << 10, 'x');
  uint64_t written = 0;
  while (true) {
    const std::size_t n = std::fwrite(block.data(), 1, block.size(), file);
    written += n;
    if (n < block.size() || std::fflush(file) != 0) break;
  }
  std::fclose(file);
  return written;
}

// Polls `status` until `done` says yes, or the timeout.
bool wait_for_status(const testing::DaemonProcess& daemon, const std::function<bool(const nlohmann::json&)>& done,
                     std::chrono::milliseconds timeout, nlohmann::json* last) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    try {
      *last = daemon.query("status");
    } catch (const std::exception& e) {
      *last = e.what();
      return false;
    }
    if (done(*last)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(DaemonDiskFull, DataIsRefusedClearlyWhileTheDiskIsFullAndAllStoredOnceSpaceReturns) {
  testing::DaemonProcess daemon({"--store-only"});
  SmallFilesystem disk(daemon.data_dir(), "8m");
  if (!disk.mounted()) GTEST_SKIP() << disk.why_not();
  daemon.start();

  const std::string tap = "blocks.0.resid_post";
  const RunDescription run = testing::make_run("disk-full", {tap}, 64, 32, 32);  // 8 KiB arrays
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.retry_wait = std::chrono::milliseconds(100);
  options.max_retry_wait = std::chrono::milliseconds(800);
  Publisher publisher(run, options);
  const auto publish = [&](uint64_t step) {
    const auto values = testing::random_activations(testing::array_seed(tap, step), 32 * 64);
    ASSERT_TRUE(publisher.publish(testing::probe_meta(run, tap, step, values), values.data()));
  };
  for (uint64_t step = 0; step < 10; ++step) publish(step);
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error;

  // The disk fills up (another program's file), then the job goes on.
  const std::string ballast = daemon.data_dir() + "/ballast";
  ASSERT_GT(fill(ballast), 0u);
  for (uint64_t step = 10; step < 30; ++step) publish(step);

  nlohmann::json status;
  ASSERT_TRUE(wait_for_status(
      daemon, [](const nlohmann::json& s) { return !s["daemon"]["store"]["writable"].get<bool>(); },
      std::chrono::seconds(10), &status))
      << status.dump() << "\n" << daemon.log();
  const nlohmann::json& store = status["daemon"]["store"];
  EXPECT_TRUE(store["no_space"].get<bool>()) << store.dump();
  EXPECT_NE(store["error"].get<std::string>().find("No space left on device"), std::string::npos) << store.dump();
  EXPECT_GE(store["failed_writes"].get<int>(), 1);
  EXPECT_NE(testing::cli_output(daemon, "status").find("store       NOT WRITABLE"), std::string::npos);

  // The job is told why and keeps everything queued; the daemon stays up
  // and keeps refusing (it tries to resume every second) while it is full.
  const auto refused_deadline = Clock::now() + std::chrono::seconds(10);
  while (!publisher.stats().store_unavailable && Clock::now() < refused_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  PublisherStats stats = publisher.stats();
  EXPECT_TRUE(stats.store_unavailable) << stats.last_error;
  EXPECT_NE(stats.last_error.find("is full"), std::string::npos) << stats.last_error;
  EXPECT_NE(stats.last_error.find("free space"), std::string::npos) << stats.last_error;
  EXPECT_GE(stats.retry_wait_ms, 400u) << "the wait doubles while refusals go on";
  EXPECT_LE(stats.retry_wait_ms, 800u) << "bounded by max_retry_wait";
  EXPECT_EQ(stats.queued, 20u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.acked, 10u);
  ASSERT_TRUE(daemon.alive()) << daemon.log();
  EXPECT_FALSE(daemon.query("status")["daemon"]["store"]["writable"].get<bool>());
  EXPECT_NE(daemon.log().find("cannot be written"), std::string::npos) << daemon.log();
  // One refusal per attempt (the begin's), not one per frame.
  EXPECT_EQ(daemon.log().find("without a begin"), std::string::npos) << daemon.log();

  // Space comes back: the daemon resumes by itself, the job's queue drains.
  std::filesystem::remove(ballast);
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error << "\n" << daemon.log();
  stats = publisher.stats();
  EXPECT_EQ(stats.acked, 30u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_FALSE(stats.store_unavailable);
  status = daemon.query("status");
  EXPECT_TRUE(status["daemon"]["store"]["writable"].get<bool>()) << status.dump();
  EXPECT_GE(status["daemon"]["store"]["resumed"].get<int>(), 1) << status.dump();
  EXPECT_NE(daemon.log().find("takes writes again"), std::string::npos) << daemon.log();

  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  std::set<uint64_t> steps;
  for (uint64_t step = 0; step < 30; ++step) steps.insert(step);
  EXPECT_EQ(testing::check_stored_exactly(daemon.data_dir(), run, tap, steps), "");
}

// An event raised while the store refuses writes is held, goes to the alert
// sinks at once, and is stored (once) when space returns. The arrival of a
// snapshot whose "loss" spikes (the only series watched) raises a phase
// transition at the start of its tap's turn, before training; that turn is
// made to come while the disk is full: the tap's first turn trains for 3 s
// (seconds_per_update), the spiking snapshot is stored meanwhile, then the
// disk fills and one more snapshot makes the store refuse writes. The first
// turn's save fails, and the next turn (the spike's) raises the transition.
TEST(DaemonDiskFull, AnEventRaisedWhileTheDiskIsFullIsAlertedAndStoredOnceSpaceReturns) {
  if (!CW_DAEMON_HAS_ANALYSIS) GTEST_SKIP() << "built without the crosscoder";
  testing::DaemonProcess daemon;
  const std::string alerts = daemon.scratch().sub("alerts.jsonl");
  const std::string config = daemon.scratch().sub("held.toml");
  std::ofstream(config) << "[crosscoder]\nn_features = 8\nbatch_size = 64\nsteps_per_update = 100000000\n"
                           "seconds_per_update = 3\nthreads = 1\n"
                           "[transitions]\nseries = []\nscalars = [\"loss\"]\n[transitions.spike_above]\nloss = 50.0\n"
                           "[[alerts.sinks]]\ntype = \"jsonl\"\npath = \""
                        << alerts << "\"\n";
  daemon.set_extra_args({"--config", config, "--crosscoder-priority", "normal"});
  SmallFilesystem disk(daemon.data_dir(), "8m");
  if (!disk.mounted()) GTEST_SKIP() << disk.why_not();
  daemon.start();

  const std::string tap = "resid";
  const RunDescription run = testing::make_run("held", {tap}, 16, 64, 16);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.retry_wait = std::chrono::milliseconds(100);
  options.max_retry_wait = std::chrono::milliseconds(400);
  Publisher publisher(run, options);
  const auto publish = [&](uint64_t step, double loss) {
    const auto values = testing::random_activations(testing::array_seed(tap, step), 64 * 16);
    SnapshotMeta meta = testing::probe_meta(run, tap, step, values);
    meta.scalars = {{"loss", loss}};
    ASSERT_TRUE(publisher.publish(meta, values.data()));
  };
  const auto training = [](const nlohmann::json& s) {
    const auto workers = s["daemon"].value("crosscoders", nlohmann::json::array());
    return !workers.empty() && workers[0].value("state", "") == "training";
  };
  nlohmann::json status;
  const auto wait = [&](const std::function<bool(const nlohmann::json&)>& done, const char* what) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      status = daemon.query("status", {{"run", "held"}});
      if (done(status)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << what << ": " << status.dump() << "\n" << daemon.log();
    return false;
  };
  publish(100, 1.0);
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error;
  ASSERT_TRUE(wait(training, "the first turn trains"));
  publish(200, 1.0);
  publish(300, 1000.0);  // the spike
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error;
  const std::string ballast = daemon.data_dir() + "/ballast";
  ASSERT_GT(fill(ballast), 0u);
  publish(400, 1.0);  // refused: the store stops taking writes
  ASSERT_TRUE(wait([](const nlohmann::json& s) { return !s["daemon"]["store"]["writable"].get<bool>(); },
                   "the store refuses writes"));
  EXPECT_TRUE(training(status)) << "the first turn ended before the disk was full: " << status.dump();

  // The transition is raised while the store refuses writes: held, and
  // alerted at once.
  ASSERT_TRUE(wait([](const nlohmann::json& s) { return s["daemon"]["store"]["held_events"].get<int>() >= 1; },
                   "an event held"));
  EXPECT_FALSE(status["daemon"]["store"]["writable"].get<bool>());
  EXPECT_TRUE(daemon.query("events", {{"run", "held"}}).empty());
  const auto alerted = [&] {
    std::ifstream in(alerts);
    std::string line, all;
    while (std::getline(in, line)) all += line + "\n";
    return all;
  };
  const auto alert_deadline = Clock::now() + std::chrono::seconds(5);
  while (alerted().find("PhaseTransition") == std::string::npos && Clock::now() < alert_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(alerted().find("PhaseTransition"), std::string::npos) << alerted() << "\n" << daemon.log();

  // Space returns: the held event is stored, with its number, before any
  // new data; the later turns, which re-learn the history, do not raise it again.
  std::filesystem::remove(ballast);
  ASSERT_TRUE(wait([](const nlohmann::json& s) { return s["daemon"]["store"]["held_events"].get<int>() == 0; },
                   "the held events stored"));
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error << "\n" << daemon.log();
  ASSERT_TRUE(wait([](const nlohmann::json& s) {
    const auto& w = s["daemon"]["crosscoders"][0];
    return w.value("state", "") == "idle" && w.value("snapshots", 0) == 4;
  }, "every snapshot trained"));
  const auto events = daemon.query("events", {{"run", "held"}, {"type", "phase_transition"}});
  ASSERT_EQ(events.size(), 1u) << events.dump() << "\n" << daemon.log();
  EXPECT_EQ(events[0]["alarm_step"], 300) << events.dump();
  EXPECT_TRUE(events[0].contains("seq")) << events.dump();
  EXPECT_EQ(status["daemon"]["store"]["dropped_events"], 0);
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
}

// A deleted run's compaction (daemon/run_compactor.h) that finds the disk
// full: the memtable flush and the blob rewrite it needs fail with ENOSPC
// on the compactor's thread. The deletion itself was answered; the daemon
// stays up and says why its store stopped taking writes; once space is
// back it resumes by itself, and every array of the other run, acked
// before, is still stored once, byte-identical.
TEST(DaemonDiskFull, ACompactionThatFindsTheDiskFullLosesNothingAcked) {
  testing::DaemonProcess daemon({"--store-only"});
  SmallFilesystem disk(daemon.data_dir(), "8m");
  if (!disk.mounted()) GTEST_SKIP() << disk.why_not();
  daemon.start();

  const std::string tap = "resid";
  const RunDescription a = testing::make_run("a", {tap}, 64, 256, 64);  // 64 KiB arrays
  const RunDescription b = testing::make_run("b", {tap}, 64, 256, 64);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.retry_wait = std::chrono::milliseconds(100);
  options.max_retry_wait = std::chrono::milliseconds(400);
  Publisher pa(a, options), pb(b, options);
  const auto publish = [&](Publisher& p, const RunDescription& run, uint64_t step) {
    const auto values = testing::random_activations(testing::array_seed(tap, step), 256 * 64);
    ASSERT_TRUE(p.publish(testing::probe_meta(run, tap, step, values), values.data()));
  };
  for (uint64_t step = 0; step < 6; ++step) publish(pa, a, step), publish(pb, b, step);  // interleaved
  ASSERT_TRUE(pa.flush(std::chrono::seconds(10))) << pa.stats().last_error;
  ASSERT_TRUE(pb.flush(std::chrono::seconds(10))) << pb.stats().last_error;

  // The disk fills but for 128 KiB: room for the deletion's batch, not for
  // the compaction's files.
  const std::string ballast = daemon.data_dir() + "/ballast";
  const uint64_t filled = fill(ballast);
  ASSERT_GT(filled, 128u << 10);
  std::filesystem::resize_file(ballast, filled - (128u << 10));
  const testing::CommandOutput deleted = testing::run_command(
      std::string(CW_CLI_PATH) + " --ingest " + daemon.ingest_endpoint() + " --json delete-run --run a --yes 2>&1");
  ASSERT_EQ(deleted.status, 0) << deleted.out << "\n" << daemon.log();
  nlohmann::json status;
  ASSERT_TRUE(wait_for_status(
      daemon, [](const nlohmann::json& s) { return s["daemon"]["store"]["compactions_pending"].get<int>() == 0; },
      std::chrono::seconds(20), &status))
      << status.dump() << "\n" << daemon.log();
  ASSERT_TRUE(daemon.alive()) << daemon.log();
  const std::string log = daemon.log();
  EXPECT_NE(log.find("could not compact a deleted run's key ranges now"), std::string::npos) << log;
  EXPECT_NE(log.find("No space left on device"), std::string::npos) << log;
  EXPECT_FALSE(status["daemon"]["store"]["writable"].get<bool>()) << status.dump();

  // Space comes back: the store resumes by itself and takes b's next array.
  std::filesystem::remove(ballast);
  ASSERT_TRUE(wait_for_status(
      daemon, [](const nlohmann::json& s) { return s["daemon"]["store"]["writable"].get<bool>(); },
      std::chrono::seconds(10), &status))
      << status.dump() << "\n" << daemon.log();
  publish(pb, b, 6);
  ASSERT_TRUE(pb.flush(std::chrono::seconds(10))) << pb.stats().last_error << "\n" << daemon.log();
  EXPECT_EQ(pb.stats().acked, 7u);
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  EXPECT_EQ(testing::check_stored_exactly(daemon.data_dir(), b, tap, {0, 1, 2, 3, 4, 5, 6}), "");
  EXPECT_EQ(testing::check_stored_exactly(daemon.data_dir(), a, tap, {}), "");
}

}  // namespace
}  // namespace cw
