// Start-up failures a restart cannot fix, through the real conceptwatchd:
// a corrupt store, a store another daemon holds, a bad configuration. Each
// exits with its own code (daemon/exit_codes.h), which the systemd unit
// does not restart on, and says what to do; `conceptwatch repair` brings a
// corrupt store back with what it can read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "daemon/exit_codes.h"
#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "store/snapshot_table.h"
#include "tests/support/cli_output.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

#if !defined(CW_CLI_PATH)
#error "CW_CLI_PATH must name the conceptwatch binary"
#endif

namespace cw {
namespace {

namespace fs = std::filesystem;

// Why start() failed: its message names the exit status and holds the log.
std::string failed_start(testing::DaemonProcess& daemon) {
  try {
    daemon.start();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "started";
}

std::string exited_with(int code) { return "exited with status " + std::to_string(code) + " "; }

TEST(DaemonFaults, ACorruptStoreExitsWithItsCodeUntilRepairedAndKeepsWhatWasAcked) {
  testing::DaemonProcess daemon({"--store-only"});
  daemon.start();
  testing::RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription run = testing::make_run("corrupt", {"tap"}, 16, 256);
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  const auto values = testing::random_activations(3, 256 * 16);
  const SnapshotMeta meta = testing::probe_meta(run, "tap", 5, values);
  const SnapshotFrames frames(meta, values.data(), run.probe.hash(), 4096);
  ASSERT_TRUE(client.exchange_snapshot(frames).is_ack);
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();

  // CURRENT names the MANIFEST (the list of the store's files); it now
  // names one that is gone, as after a crash that lost a file.
  std::ofstream(daemon.data_dir() + "/CURRENT", std::ios::trunc) << "MANIFEST-999999\n";

  const std::string failure = failed_start(daemon);
  EXPECT_NE(failure.find(exited_with(kExitStoreCorrupt)), std::string::npos) << failure;
  EXPECT_NE(failure.find("is corrupt (rocksdb: IO error: No such file"), std::string::npos) << failure;
  EXPECT_NE(failure.find("run `conceptwatch repair --data-dir " + daemon.data_dir() + "`"), std::string::npos) << failure;
  EXPECT_NE(failure.find("a restart cannot fix this"), std::string::npos) << failure;
  EXPECT_NE(failure.find("start conceptwatchd with --read-only"), std::string::npos) << failure;  // the other way

  const auto repair =
      testing::run_command(std::string(CW_CLI_PATH) + " --data-dir " + daemon.data_dir() + " repair --json 2>/dev/null");
  const std::string& output = repair.out;
  ASSERT_EQ(repair.status, 0) << output;
  const nlohmann::json repaired = nlohmann::json::parse(output);
  EXPECT_EQ(repaired["data_dir"], daemon.data_dir()) << output;
  EXPECT_TRUE(fs::exists(daemon.data_dir() + ".before-repair/CURRENT")) << output;  // the files as they were

  daemon.start();  // repaired: it opens again, and the acked snapshot is there
  EXPECT_EQ(daemon.query("status")["daemon"]["up"], true);
  ASSERT_EQ(daemon.terminate(), 0) << daemon.log();
  auto store = Store::open(daemon.data_dir(), StoreOptions{true, false});
  std::string data;
  ASSERT_TRUE(SnapshotTable(*store).read(meta.key, &data));
  EXPECT_EQ(data, testing::as_bytes(values));
}

TEST(DaemonFaults, AStoreAnotherProcessHoldsAndABadConfigExitWithTheirCodes) {
  testing::DaemonProcess daemon({"--store-only"});
  {
    // This test process holds the store open read-write, as another daemon would.
    auto holder = Store::open(daemon.data_dir());
    const std::string failure = failed_start(daemon);
    EXPECT_NE(failure.find(exited_with(kExitStoreLocked)), std::string::npos) << failure;
    EXPECT_NE(failure.find("has this data directory open"), std::string::npos) << failure;
  }
  daemon.start();  // once it is released
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();

  const std::string config = daemon.scratch().sub("bad.toml");
  std::ofstream(config) << "[ingest]\nmax_snapshot_bytes = \"many\"\n";
  testing::DaemonProcess misconfigured({"--store-only", "--config", config});
  std::string failure = failed_start(misconfigured);
  EXPECT_NE(failure.find(exited_with(kExitConfig)), std::string::npos) << failure;
  EXPECT_NE(failure.find("max_snapshot_bytes"), std::string::npos) << failure;

  // A policy refusal is a configuration error too: not restarted in a loop.
  testing::DaemonProcess unguarded({"--store-only", "--http", "0.0.0.0:1"});
  failure = failed_start(unguarded);
  EXPECT_NE(failure.find(exited_with(kExitConfig)), std::string::npos) << failure;
}

}  // namespace
}  // namespace cw
