// The publisher against the real conceptwatchd: bit-exact storage, and a
// daemon killed mid-stream and restarted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "hooks/publisher.h"
#include "schema/checksum.h"
#include "store/snapshot_table.h"
#include "tests/support/daemon_process.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using Clock = std::chrono::steady_clock;
using testing::DaemonProcess;

// publish() copies the array and takes a mutex the sender holds only for
// queue bookkeeping; it never waits on the network or the daemon. A 2 MiB
// memcpy takes milliseconds; one second leaves room for a loaded CI machine
// while still catching a publish() that waits for an ack (ack_timeout and
// the daemon's downtime are both seconds long).
constexpr uint64_t kPublishBoundNs = 1'000'000'000;

std::unique_ptr<Store> open_read_only(const std::string& dir) { return Store::open(dir, StoreOptions{true, true}); }

// Checks that `tap` of `run` holds exactly steps [0, steps), each once and
// bit-exact, and returns how many keys the data family holds for the run.
void expect_stored_exactly(const Store& store, const RunDescription& run, const std::string& tap, int steps) {
  SnapshotTable table(const_cast<Store&>(store));
  const auto metas = table.list(run.run, tap);
  ASSERT_EQ(metas.size(), std::size_t(steps));
  const std::size_t count = run.probe.n_tokens() * run.find_tap(tap)->d_model;
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE(tap + " step " + std::to_string(step));
    const SnapshotMeta& meta = metas[step];
    EXPECT_EQ(meta.key.step, uint64_t(step));
    EXPECT_EQ(meta.n_tokens, run.probe.n_tokens());
    EXPECT_EQ(meta.tokens_seen, uint64_t(step) * 1024);
    ASSERT_EQ(meta.scalars.size(), 1u);
    EXPECT_EQ(meta.scalars[0].second, 10.0 / double(step + 1));
    const auto expected = testing::random_activations(testing::array_seed(tap, step), count);
    std::string data;
    ASSERT_TRUE(table.read(meta.key, &data));
    EXPECT_EQ(meta.checksum, checksum64(expected.data(), expected.size() * 4));
    EXPECT_EQ(checksum64(data.data(), data.size()), meta.checksum);
    EXPECT_TRUE(data == testing::as_bytes(expected)) << "stored bytes differ";
  }
}

// Keys of the raw-array family under `run`: one per stored snapshot.
std::size_t data_keys(const Store& store, const std::string& run) {
  std::size_t keys = 0;
  store.scan(Family::kSnapshotData, run + std::string(1, '\0'), [&](std::string_view, std::string_view) {
    ++keys;
    return true;
  });
  return keys;
}

TEST(PublisherDaemon, TwentySnapshotsAtTwoTapsReadBackBitExact) {
  DaemonProcess daemon;
  daemon.start();
  const std::vector<std::string> taps = {"blocks.2.resid_post", "blocks.5.resid_post"};
  const RunDescription run = testing::make_run("exact", taps, 64, 4096);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.chunk_bytes = 256 << 10;
  Publisher publisher(run, options);
  for (int step = 0; step < 20; ++step) {
    for (const auto& tap : taps) {
      const auto values = testing::random_activations(testing::array_seed(tap, step), 4096 * 64);
      ASSERT_TRUE(publisher.publish(testing::probe_meta(run, tap, step, values), values.data()));
    }
  }
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(60))) << publisher.stats().last_error;
  const PublisherStats stats = publisher.stats();
  EXPECT_EQ(stats.published, 40u);
  EXPECT_EQ(stats.acked, 40u);
  EXPECT_EQ(stats.duplicates, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.queued_bytes, 0u);
  EXPECT_TRUE(stats.hello_acked);

  // Readable while the daemon runs (read-only opens take no lock) ...
  {
    auto store = open_read_only(daemon.data_dir());
    EXPECT_EQ(SnapshotTable(*store).list("exact").size(), 40u);
  }
  const auto status = daemon.query("status");
  EXPECT_EQ(status["snapshots_stored"].get<uint64_t>(), 40u) << status.dump();
  EXPECT_EQ(status["daemon"]["snapshots_stored"].get<uint64_t>(), 40u) << status.dump();
  // ... and after a clean stop, bit-exact.
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
  auto store = open_read_only(daemon.data_dir());
  for (const auto& tap : taps) expect_stored_exactly(*store, run, tap, 20);
  EXPECT_EQ(data_keys(*store, "exact"), 40u);
}

// Waits until `done` or the deadline; returns `done()`.
template <typename Predicate>
bool wait_for(Predicate done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

// Streams 40 snapshots, stops the daemon (SIGKILL or SIGTERM) with a backlog
// in flight, keeps publishing while it is down, restarts it on the same data
// directory and ports, and checks that every snapshot is stored exactly once.
void stream_through_a_restart(bool sigkill, const std::string& run_name) {
  DaemonProcess daemon;
  daemon.start();
  const std::string tap = "blocks.1.resid_post";
  // 2 MiB arrays in 16 chunks: a kill lands in the middle of a transfer.
  const RunDescription run = testing::make_run(run_name, {tap}, 128, 4096);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.chunk_bytes = 128 << 10;
  options.ack_timeout = std::chrono::milliseconds(1000);
  Publisher publisher(run, options);
  constexpr int kSteps = 40;
  // Made in advance so that publishing outpaces the daemon and a backlog
  // is in flight when it dies.
  std::vector<std::vector<float>> arrays;
  for (int step = 0; step < kSteps; ++step) {
    arrays.push_back(testing::random_activations(testing::array_seed(tap, step), 4096 * 128));
  }
  auto publish = [&](int step) {
    ASSERT_TRUE(publisher.publish(testing::probe_meta(run, tap, step, arrays[step]), arrays[step].data()));
  };

  int step = 0;
  for (; step < 16; ++step) publish(step);
  ASSERT_TRUE(wait_for([&] { return publisher.stats().acked >= 3; }, std::chrono::seconds(30)))
      << publisher.stats().last_error;
  const uint64_t acked_before_kill = publisher.stats().acked;
  if (sigkill) {
    daemon.kill();
  } else {
    EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
  }
  // Unacknowledged snapshots remain: some were in flight when it died.
  EXPECT_LT(acked_before_kill, 12u);
  for (; step < 28; ++step) publish(step);  // the daemon is down
  daemon.start();
  for (; step < kSteps; ++step) publish(step);
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(60))) << publisher.stats().last_error << "\n" << daemon.log();

  const PublisherStats stats = publisher.stats();
  EXPECT_EQ(stats.published, uint64_t(kSteps));
  EXPECT_EQ(stats.acked, uint64_t(kSteps));
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_LT(stats.max_publish_ns, kPublishBoundNs);
  // What was in flight at the kill had to be sent again.
  EXPECT_GT(stats.resent, 0u) << "acked before the kill: " << acked_before_kill;
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();

  auto store = open_read_only(daemon.data_dir());
  expect_stored_exactly(*store, run, tap, kSteps);
  EXPECT_EQ(data_keys(*store, run_name), std::size_t(kSteps));
}

TEST(PublisherDaemon, SigkillMidStreamThenRestartStoresEverySnapshotExactlyOnce) {
  stream_through_a_restart(/*sigkill=*/true, "killed");
}

TEST(PublisherDaemon, SigtermMidStreamThenRestartStoresEverySnapshotExactlyOnce) {
  stream_through_a_restart(/*sigkill=*/false, "stopped");
}

TEST(PublisherDaemon, ResendOfAStoredStepIsADuplicateAndOtherBytesAreRefused) {
  DaemonProcess daemon;
  daemon.start();
  const std::string tap = "t";
  const RunDescription run = testing::make_run("dup", {tap}, 32, 256);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  auto values_of = [&](int step) { return testing::random_activations(testing::array_seed(tap, step), 256 * 32); };
  {
    Publisher first(run, options);
    for (int step = 0; step < 3; ++step) {
      const auto values = values_of(step);
      first.publish(testing::probe_meta(run, tap, step, values), values.data());
    }
    ASSERT_TRUE(first.flush(std::chrono::seconds(30)));
    EXPECT_EQ(first.stats().duplicates, 0u);
  }
  // A restarted job re-sends step 1 as it was, and step 2 with other bytes.
  Publisher second(run, options);
  const auto same = values_of(1);
  second.publish(testing::probe_meta(run, tap, 1, same), same.data());
  ASSERT_TRUE(second.flush(std::chrono::seconds(30)));
  EXPECT_EQ(second.stats().acked, 1u);
  EXPECT_EQ(second.stats().duplicates, 1u);
  auto other = values_of(2);
  other[0] += 1.0f;
  second.publish(testing::probe_meta(run, tap, 2, other), other.data());
  ASSERT_TRUE(second.flush(std::chrono::seconds(30)));
  const PublisherStats stats = second.stats();
  EXPECT_EQ(stats.rejected, 1u);
  EXPECT_EQ(stats.acked, 1u);
  EXPECT_NE(stats.last_error.find("already stored with different contents"), std::string::npos) << stats.last_error;

  EXPECT_EQ(daemon.terminate(), 0);
  auto store = open_read_only(daemon.data_dir());
  expect_stored_exactly(*store, run, tap, 3);  // step 2 keeps its first bytes
  EXPECT_EQ(data_keys(*store, "dup"), 3u);
}

TEST(PublisherDaemon, ADaemonThatLostTheRunGetsTheHelloAgain) {
  DaemonProcess daemon;
  daemon.start();
  const std::string tap = "t";
  const RunDescription run = testing::make_run("rehello", {tap}, 64, 512);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.ack_timeout = std::chrono::milliseconds(1000);
  Publisher publisher(run, options);
  auto publish = [&](int step) {
    const auto values = testing::random_activations(testing::array_seed(tap, step), 512 * 64);
    publisher.publish(testing::probe_meta(run, tap, step, values), values.data());
  };
  for (int step = 0; step < 3; ++step) publish(step);
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(30)));
  // The daemon comes back with an empty data directory: it does not know
  // the run, says so (unknownRun), and the publisher sends its Hello again.
  daemon.kill();
  std::filesystem::remove_all(daemon.data_dir());
  daemon.start();
  for (int step = 3; step < 8; ++step) publish(step);
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(30))) << publisher.stats().last_error;
  const PublisherStats stats = publisher.stats();
  EXPECT_EQ(stats.acked, 8u);
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_TRUE(stats.hello_acked);
  EXPECT_EQ(daemon.terminate(), 0);
  auto store = open_read_only(daemon.data_dir());
  SnapshotTable table(*store);
  const auto metas = table.list("rehello");
  ASSERT_EQ(metas.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(metas[i].key.step, uint64_t(i + 3));
    const auto expected = testing::random_activations(testing::array_seed(tap, i + 3), 512 * 64);
    std::string data;
    ASSERT_TRUE(table.read(metas[i].key, &data));
    EXPECT_TRUE(data == testing::as_bytes(expected));
  }
}

TEST(PublisherDaemon, AChunkLargerThanTheDaemonTakesIsReportedNotRetriedSilently) {
  // The daemon takes frames of at most 1 MiB; the publisher sends 2 MiB chunks.
  testing::TempDir config_dir;
  const std::string config = config_dir.sub("daemon.toml");
  std::ofstream(config) << "[ingest]\nmax_frame_bytes = " << (1 << 20) << "\n";
  DaemonProcess daemon({"--config", config});
  daemon.start();
  const RunDescription run = testing::make_run("bigchunk", {"t"}, 1024, 1024);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.chunk_bytes = 2 << 20;
  options.ack_timeout = std::chrono::milliseconds(500);
  options.close_timeout = std::chrono::milliseconds(200);
  Publisher publisher(run, options);
  const auto values = testing::random_activations(1, 1024 * 1024);
  publisher.publish(testing::probe_meta(run, "t", 0, values), values.data());
  const bool flushed = publisher.flush(std::chrono::seconds(3));
  const PublisherStats stats = publisher.stats();
  // Either it got through in smaller pieces, or the user is told why not.
  EXPECT_TRUE(flushed ? stats.acked == 1 : !stats.last_error.empty());
}

TEST(PublisherDaemon, SnapshotsTheDaemonAsksToRetryLaterAreNotLost) {
  // Room for two partial 512 KiB arrays; the publisher keeps three in flight.
  testing::TempDir config_dir;
  const std::string config = config_dir.sub("daemon.toml");
  std::ofstream(config) << "[ingest]\nmax_pending_bytes = " << (1 << 20) << "\n";
  DaemonProcess daemon({"--config", config});
  daemon.start();
  const std::string tap = "t";
  const RunDescription run = testing::make_run("busy", {tap}, 128, 1024);
  PublisherOptions options;
  options.endpoint = daemon.ingest_endpoint();
  options.chunk_bytes = 64 << 10;
  options.max_in_flight = 3;
  options.ack_timeout = std::chrono::milliseconds(1000);
  Publisher publisher(run, options);
  constexpr int kSteps = 12;
  for (int step = 0; step < kSteps; ++step) {
    const auto values = testing::random_activations(testing::array_seed(tap, step), 1024 * 128);
    publisher.publish(testing::probe_meta(run, tap, step, values), values.data());
  }
  ASSERT_TRUE(publisher.flush(std::chrono::seconds(30)));
  const PublisherStats stats = publisher.stats();
  EXPECT_EQ(stats.rejected, 0u) << "the daemon's transient 'busy' must be retried, not final: " << stats.last_error;
  EXPECT_EQ(stats.acked, uint64_t(kSteps));
  EXPECT_EQ(daemon.terminate(), 0);
  auto store = open_read_only(daemon.data_dir());
  expect_stored_exactly(*store, run, tap, kSteps);
}

}  // namespace
}  // namespace cw
