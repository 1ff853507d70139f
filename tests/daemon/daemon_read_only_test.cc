// A store that needs care, through the real conceptwatchd (issue 11):
// `--read-only` serves queries and refuses data with the reason (the job
// keeps it queued and it is stored once the daemon runs read-write again);
// a corrupt run record is reported (log, `status`) while every other run is
// served and takes data, instead of the daemon exiting.
#include <gtest/gtest.h>

#include <thread>

#include "hooks/publisher.h"
#include "store/key_encoding.h"
#include "store/store.h"
#include "tests/support/cli_output.h"
#include "tests/support/daemon_process.h"
#include "tests/support/stored_snapshots.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kTap = "blocks.0.resid_post";

void publish(Publisher& publisher, const RunDescription& run, uint64_t step) {
  const auto values = testing::random_activations(testing::array_seed(kTap, step), 16 * 32);
  ASSERT_TRUE(publisher.publish(testing::probe_meta(run, kTap, step, values), values.data()));
}

PublisherOptions options_for(const testing::DaemonProcess& daemon) {
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.retry_wait = std::chrono::milliseconds(50);
  options.max_retry_wait = std::chrono::milliseconds(400);
  return options;
}

TEST(DaemonReadOnly, ServesQueriesRefusesDataWithTheReasonAndTheJobKeepsItQueued) {
  testing::DaemonProcess daemon({"--store-only"});
  daemon.start();
  const RunDescription run = testing::make_run("kept", {kTap}, 32, 16, 16);
  {
    Publisher publisher(run, options_for(daemon));
    for (uint64_t step = 0; step < 2; ++step) publish(publisher, run, step);
    ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error;
  }
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();

  daemon.set_extra_args({"--store-only", "--read-only"});
  daemon.start();
  const nlohmann::json status = daemon.query("status");
  EXPECT_TRUE(status["daemon"]["read_only"].get<bool>()) << status.dump();
  EXPECT_TRUE(status["daemon"]["store"]["read_only"].get<bool>()) << status.dump();
  EXPECT_FALSE(status["daemon"]["store"]["writable"].get<bool>()) << status.dump();
  EXPECT_EQ(status["snapshots_stored"], 2) << status.dump();
  EXPECT_EQ(daemon.query("snapshots", {{"run", "kept"}}).size(), 2u);

  // A job publishing now is told why, and keeps its snapshot.
  Publisher job(run, options_for(daemon));
  publish(job, run, 2);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!job.stats().store_unavailable && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  PublisherStats stats = job.stats();
  EXPECT_TRUE(stats.store_unavailable) << stats.last_error;
  EXPECT_NE(stats.last_error.find("read-only"), std::string::npos) << stats.last_error;
  EXPECT_NE(stats.last_error.find("restart it without --read-only"), std::string::npos) << stats.last_error;
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_EQ(stats.acked, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_NE(daemon.log().find("read-only (--read-only)"), std::string::npos) << daemon.log();

  // Read-write again: the job's queued snapshot is stored, without a restart of the job.
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  daemon.set_extra_args({"--store-only"});
  daemon.start();
  ASSERT_TRUE(job.flush(std::chrono::seconds(15))) << job.stats().last_error;
  EXPECT_EQ(job.stats().acked, 1u);
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  EXPECT_EQ(testing::check_stored_exactly(daemon.data_dir(), run, kTap, {0, 1, 2}), "");
}

TEST(DaemonReadOnly, ACorruptRunRecordIsReportedAndTheOtherRunsAreServed) {
  testing::DaemonProcess daemon({"--store-only"});
  daemon.start();
  const RunDescription run = testing::make_run("good", {kTap}, 32, 16, 16);
  {
    Publisher publisher(run, options_for(daemon));
    publish(publisher, run, 0);
    ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error;
  }
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  {  // a run record that no longer decodes, as after a bad disk sector
    auto store = Store::open(daemon.data_dir());
    store->put(Family::kRuns, KeyBuilder().text("bad").str(), std::string(16, '\xff'));
  }

  // With the crosscoders on where they are built: their start-up reads every run.
  daemon.set_extra_args({});
  daemon.start();
  const nlohmann::json status = daemon.query("status");
  EXPECT_EQ(status["unreadable_runs"], 1) << status.dump();
  bool reported = false;
  for (const auto& entry : status["runs"]) {
    if (entry["run"] == "bad") {
      reported = entry["error"].get<std::string>().find("corrupt run record") != std::string::npos;
    } else {
      EXPECT_EQ(entry["run"], "good");
      EXPECT_EQ(entry["snapshots"], 1);
    }
  }
  EXPECT_TRUE(reported) << status.dump();
  EXPECT_NE(daemon.log().find("run 'bad': corrupt run record"), std::string::npos) << daemon.log();
  EXPECT_NE(testing::cli_output(daemon, "status").find("UNREADABLE  run bad: corrupt run record"), std::string::npos);

  Publisher publisher(run, options_for(daemon));  // the good run still takes data
  publish(publisher, run, 1);
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(10))) << publisher.stats().last_error;
  ASSERT_TRUE(daemon.alive()) << daemon.log();
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  EXPECT_EQ(testing::check_stored_exactly(daemon.data_dir(), run, kTap, {0, 1}), "");
}

}  // namespace
}  // namespace cw
