// `conceptwatch delete-run` (issue 11, bounded resources): through the real
// daemon and, with it down, on the data directory. The run's keys are
// counted family by family through RocksDB: all gone, another run's all
// kept; the run leaves `runs`; its name starts afresh (another probe set,
// step 0 stored as new). With CURVE keys a read-only (query) key cannot
// delete, an ingest key can.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "hooks/publisher.h"
#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "store/key_encoding.h"
#include "store/store.h"
#include "tests/support/cli_output.h"
#include "tests/support/daemon_keys.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::IngestReply;
using testing::RawIngestClient;

// Keys starting with `run`'s prefix, in each family but `meta`, all together.
uint64_t keys_of(const std::string& data_dir, const std::string& run) {
  auto store = Store::open(data_dir, StoreOptions{true, false});
  const std::string prefix = KeyBuilder().text(run).str();
  uint64_t count = 0;
  for (int i = 0; i < int(Family::kMeta); ++i) {
    store->scan(Family(i), prefix, [&](std::string_view, std::string_view) {
      ++count;
      return true;
    });
  }
  return count;
}

// One record of `run` in each analysis family, as the crosscoder workers
// write them (their values do not matter to a deletion): written before the
// daemon starts, so a store-only daemon has every family to delete.
void seed_analysis_records(const std::string& data_dir, const std::string& run) {
  auto store = Store::open(data_dir);
  for (Family family : {Family::kCrosscoder, Family::kMetrics, Family::kTrajectories, Family::kEvents,
                        Family::kAttribution, Family::kTransitions}) {
    store->put(family, KeyBuilder().text(run).text("t").u64(1).str(), "record");
  }
}

IngestReply store_snapshot(RawIngestClient& client, const RunDescription& run, uint64_t step) {
  const auto values = testing::random_activations(testing::array_seed("t", step), run.probe.n_tokens() * 8);
  const SnapshotFrames frames(testing::probe_meta(run, "t", step, values), values.data(), run.probe.hash(), 1 << 20);
  return client.exchange_snapshot(frames);
}

std::string cli(const DaemonProcess& daemon, const std::string& args) {
  return std::string(CW_CLI_PATH) + " --endpoint " + daemon.query_endpoint() + " --ingest " + daemon.ingest_endpoint() +
         " --data-dir " + daemon.data_dir() + " " + args + " 2>&1";
}

bool lists_run(const nlohmann::json& runs, const std::string& name) {
  for (const auto& run : runs)
    if (run["run"] == name) return true;
  return false;
}

TEST(DaemonDeleteRun, DeletesEveryKeyOfTheRunOnlyAndItsNameStartsAfresh) {
  DaemonProcess daemon({"--store-only"});
  seed_analysis_records(daemon.data_dir(), "a");
  seed_analysis_records(daemon.data_dir(), "b");
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription a = testing::make_run("a", {"t"}, 8, 64);
  const RunDescription b = testing::make_run("b", {"t"}, 8, 64);
  for (const auto* run : {&a, &b}) {
    ASSERT_TRUE(client.exchange(encode_hello_frame(*run)).is_ack);
    for (uint64_t step : {0, 100, 200}) ASSERT_TRUE(store_snapshot(client, *run, step).is_ack);
  }
  // runs + probes, 3 × (meta + data), 6 analysis records.
  ASSERT_EQ(keys_of(daemon.data_dir(), "a"), 14u);
  ASSERT_EQ(keys_of(daemon.data_dir(), "b"), 14u);

  // Without --yes nothing happens; an unknown run is named.
  testing::CommandOutput refused = testing::run_command(cli(daemon, "delete-run --run a"));
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.out.find("pass --yes"), std::string::npos) << refused.out;
  testing::CommandOutput unknown = testing::run_command(cli(daemon, "delete-run --run nosuch --yes"));
  EXPECT_NE(unknown.status, 0);
  EXPECT_NE(unknown.out.find("unknown run 'nosuch'"), std::string::npos) << unknown.out;

  testing::CommandOutput deleted = testing::run_command(cli(daemon, "--json delete-run --run a --yes"));
  ASSERT_EQ(deleted.status, 0) << deleted.out;
  const nlohmann::json result = nlohmann::json::parse(deleted.out.substr(deleted.out.find('{')));
  EXPECT_EQ(result["via"], "daemon");
  EXPECT_EQ(result["arrays"], 3);
  EXPECT_EQ(result["array_bytes"], 3 * 64 * 8 * 4);
  EXPECT_EQ(result["records"], 8);  // runs, probes and the six analysis records
  // The space comes back off the ingest thread (daemon/run_compactor.h):
  // the answer does not wait for it, status counts it until it is done.
  EXPECT_EQ(result["compacting"], true);
  EXPECT_TRUE(result["disk_bytes_after"].is_null());
  const auto compacted_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (daemon.query("status")["daemon"]["store"]["compactions_pending"].get<uint64_t>() > 0 &&
         std::chrono::steady_clock::now() < compacted_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(daemon.query("status")["daemon"]["store"]["compactions_pending"].get<uint64_t>(), 0u);
  EXPECT_EQ(keys_of(daemon.data_dir(), "a"), 0u);
  EXPECT_EQ(keys_of(daemon.data_dir(), "b"), 14u);
  const nlohmann::json runs = daemon.query("runs");
  EXPECT_FALSE(lists_run(runs, "a"));
  EXPECT_TRUE(lists_run(runs, "b"));

  // The name afresh: another probe set (refused as a mismatch before), and
  // step 0 stored as new, not as a duplicate.
  const RunDescription again = testing::make_run("a", {"t"}, 8, 128, 64, /*probe_seed=*/7);
  ASSERT_TRUE(client.exchange(encode_hello_frame(again)).is_ack);
  const IngestReply stored = store_snapshot(client, again, 0);
  EXPECT_TRUE(stored.is_ack && !stored.duplicate) << stored.describe();
  EXPECT_EQ(daemon.query("snapshots", {{"run", "a"}}).size(), 1u);
  EXPECT_TRUE(store_snapshot(client, b, 300).is_ack);  // b was never disturbed

  // With the daemon down, on the data directory.
  ASSERT_EQ(daemon.terminate(), 0);
  testing::CommandOutput offline =
      testing::run_command(cli(daemon, "--timeout-ms 300 --json delete-run --run b --yes"));
  ASSERT_EQ(offline.status, 0) << offline.out;
  EXPECT_NE(offline.out.find("\"via\": \"data_dir\""), std::string::npos) << offline.out;
  EXPECT_NE(offline.out.find("\"compacting\": false"), std::string::npos) << offline.out;  // compacted before answering
  EXPECT_EQ(keys_of(daemon.data_dir(), "b"), 0u);
  EXPECT_EQ(keys_of(daemon.data_dir(), "a"), 4u);  // the new run: runs, probes, one array
}

nlohmann::json worker_of(const DaemonProcess& daemon, const std::string& run) {
  for (const auto& worker : daemon.query("status", {{"taps", true}})["daemon"].value("crosscoders", nlohmann::json::array()))
    if (worker["run"] == run) return worker;
  return nullptr;
}

TEST(DaemonDeleteRun, TheRunsCrosscoderWorkerStopsFirstAndWritesNothingAfter) {
  if (!CW_DAEMON_HAS_ANALYSIS) GTEST_SKIP() << "built without the crosscoder";
  testing::TempDir dir;
  const std::string config = dir.sub("daemon.toml");
  // An update long enough to be under way when the run is deleted.
  std::ofstream(config) << "[crosscoder]\nn_features = 16\nbatch_size = 64\nsteps_per_update = 100000\nthreads = 1\n";
  DaemonProcess daemon({"--config", config});
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription a = testing::make_run("a", {"t"}, 8, 64);
  ASSERT_TRUE(client.exchange(encode_hello_frame(a)).is_ack);
  for (uint64_t step : {0, 100}) ASSERT_TRUE(store_snapshot(client, a, step).is_ack);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (worker_of(daemon, "a").is_null() || worker_of(daemon, "a")["state"] != "training") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << worker_of(daemon, "a") << daemon.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const testing::CommandOutput deleted = testing::run_command(cli(daemon, "delete-run --run a --yes"));
  ASSERT_EQ(deleted.status, 0) << deleted.out;
  EXPECT_TRUE(worker_of(daemon, "a").is_null());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a worker still running would save its state
  EXPECT_EQ(keys_of(daemon.data_dir(), "a"), 0u);
  // The name afresh gets a worker of its own.
  ASSERT_TRUE(client.exchange(encode_hello_frame(a)).is_ack);
  EXPECT_TRUE(store_snapshot(client, a, 0).is_ack);
  const auto again = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (worker_of(daemon, "a").is_null() && std::chrono::steady_clock::now() < again)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(worker_of(daemon, "a").is_null());
}

TEST(DaemonDeleteRun, AReadOnlyKeyCannotDeleteAnIngestKeyCan) {
  testing::TempDir dir;
  const testing::DaemonKeys keys(dir.sub("keys"));
  DaemonProcess daemon(keys.daemon_args());
  daemon.use_client_keys(keys.as("reader"));
  daemon.start();
  {
    const RunDescription run = testing::make_run("a", {"t"}, 8, 64);
    PublisherOptions options;
    options.endpoint = daemon.ingest_endpoint();
    options.keys = keys.as("writer");
    Publisher publisher(run, options);
    const auto data = testing::random_activations(1, 64 * 8);
    ASSERT_TRUE(publisher.publish(testing::probe_meta(run, "t", 1, data), data.data()));
    ASSERT_TRUE(publisher.flush(std::chrono::seconds(15))) << publisher.stats().last_error;
  }
  testing::CommandOutput reader = testing::run_command(cli(daemon, keys.cli_args("reader") + " delete-run --run a --yes"));
  EXPECT_NE(reader.status, 0);
  EXPECT_NE(reader.out.find("must be in ingest_keys"), std::string::npos) << reader.out;
  EXPECT_TRUE(lists_run(daemon.query("runs"), "a"));

  testing::CommandOutput writer = testing::run_command(cli(daemon, keys.cli_args("writer") + " delete-run --run a --yes"));
  EXPECT_EQ(writer.status, 0) << writer.out;
  EXPECT_FALSE(lists_run(daemon.query("runs"), "a"));
}

}  // namespace
}  // namespace cw
