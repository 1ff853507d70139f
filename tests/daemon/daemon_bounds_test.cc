// Issue 11's resource rows over the real wire: partial arrays limited per
// peer and overall (count and bytes), list lengths refused before decoding,
// huge names not echoed back, and the largest array RocksDB cannot hold
// refused at its begin. After each refusal a well-behaved publisher still
// stores and `status` still answers.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::IngestReply;
using testing::RawIngestClient;

// A begin for `run`'s probe array at (tap, step) whose chunks never come.
Frame dangling_begin(const RunDescription& run, const std::string& tap, uint64_t step, uint32_t d_model) {
  SnapshotBegin begin;
  begin.meta.key = {run.run, tap, step, ArrayKind::kProbeActivations, ""};
  begin.meta.n_tokens = run.probe.n_tokens();
  begin.meta.d_model = d_model;
  begin.meta.dtype = DType::kF32;
  begin.total_bytes = begin.meta.bytes();
  begin.chunk_count = 1;
  begin.probe_hash = run.probe.hash();
  return encode_snapshot_begin_frame(begin);
}

void expect_error(const IngestReply& reply, wire::ErrorCode code, const std::string& says) {
  EXPECT_FALSE(reply.is_ack) << reply.describe();
  EXPECT_EQ(reply.code, code) << reply.describe();
  EXPECT_NE(reply.message.find(says), std::string::npos) << "expected '" << says << "' in: " << reply.message;
}

// Stores one snapshot of `run` at (tap, step) as a publisher would and
// expects it acked as new.
void store_one(RawIngestClient& client, const RunDescription& run, const std::string& tap, uint64_t step) {
  const auto values = testing::random_activations(testing::array_seed(tap, step), run.probe.n_tokens() * run.taps[0].d_model);
  const SnapshotFrames frames(testing::probe_meta(run, tap, step, values), values.data(), run.probe.hash(), 1 << 20);
  const IngestReply reply = client.exchange_snapshot(frames);
  EXPECT_TRUE(reply.is_ack && !reply.duplicate) << reply.describe();
}

uint64_t pending_arrays(const DaemonProcess& daemon) {
  return daemon.query("status")["daemon"]["pending_snapshots"].get<uint64_t>();
}

TEST(DaemonBounds, PartialArraysAreLimitedPerPeerAndOverallByCountAndBytes) {
  testing::TempDir dir;
  const std::string config = dir.sub("daemon.toml");
  std::ofstream(config) << "[ingest]\nmax_pending_arrays_per_peer = 4\nmax_pending_arrays = 7\n"
                           "max_pending_bytes_per_peer = 1500000\npartial_idle_ms = 1000\n";
  DaemonProcess daemon({"--config", config});
  daemon.start();
  // 256 probe tokens: a "small" array is 16 KiB, a "big" one 1 MiB.
  RunDescription run = testing::make_run("bounded", {"small"}, 16, 256);
  run.taps.push_back({"big", 1024});
  RawIngestClient hog(daemon.ingest_endpoint()), wide(daemon.ingest_endpoint()), other(daemon.ingest_endpoint()),
      good(daemon.ingest_endpoint());
  ASSERT_TRUE(good.exchange(encode_hello_frame(run)).is_ack);

  // One peer opens arrays it never sends: the fifth is refused by count.
  for (uint64_t step = 1; step <= 4; ++step) hog.send(dangling_begin(run, "small", step, 16));
  expect_error(hog.exchange(dangling_begin(run, "small", 5, 16)), wire::ErrorCode::BUSY,
               "this peer has 4 partial arrays already (max_pending_arrays_per_peer 4)");
  // Another holds one big array: a second is refused by its bytes.
  wide.send(dangling_begin(run, "big", 1, 1024));
  expect_error(wide.exchange(dangling_begin(run, "big", 2, 1024)), wire::ErrorCode::BUSY,
               "this peer's partial arrays hold 1048576 bytes already");
  // Neither stops a well-behaved publisher.
  store_one(good, run, "small", 100);
  EXPECT_EQ(pending_arrays(daemon), 5u);

  // All peers together: 7 arrays at most.
  other.send(dangling_begin(run, "small", 10, 16));
  other.send(dangling_begin(run, "small", 11, 16));
  expect_error(other.exchange(dangling_begin(run, "small", 12, 16)), wire::ErrorCode::BUSY,
               "the daemon holds 7 partial arrays already (max_pending_arrays 7)");
  EXPECT_EQ(pending_arrays(daemon), 7u);

  // Idle arrays expire and the counts return to zero (they are kept as
  // arrays come and go, not recounted): the publisher stores again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (pending_arrays(daemon) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const nlohmann::json status = daemon.query("status")["daemon"];
  EXPECT_EQ(status["pending_snapshots"], 0u) << status.dump();
  EXPECT_EQ(status["pending_bytes"], 0u) << status.dump();
  store_one(good, run, "small", 101);
}

TEST(DaemonBounds, LongListsAreRefusedBeforeDecodingAndHugeNamesAreNotEchoed) {
  testing::TempDir dir;
  const std::string config = dir.sub("daemon.toml");
  std::ofstream(config) << "[ingest]\nmax_taps = 8\nmax_tasks = 2\nmax_scalars = 4\n";
  DaemonProcess daemon({"--config", config});
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());

  std::vector<std::string> nine_taps;
  for (int i = 0; i < 9; ++i) nine_taps.push_back("t" + std::to_string(i));
  expect_error(client.exchange(encode_hello_frame(testing::make_run("wide", nine_taps, 16, 256))),
               wire::ErrorCode::TOO_LARGE, "9 taps exceed the daemon's limit of 8 ([ingest] max_taps)");
  RunDescription tasks = testing::make_run("tasks", {"tap"}, 16, 256);
  for (int i = 0; i < 3; ++i) tasks.tasks.push_back({"task" + std::to_string(i), {1, 2, 3}, 3, "acc"});
  expect_error(client.exchange(encode_hello_frame(tasks)), wire::ErrorCode::TOO_LARGE,
               "3 tasks exceed the daemon's limit of 2 ([ingest] max_tasks)");

  const RunDescription run = testing::make_run("bounded", {"tap"}, 16, 256);
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  const auto values = testing::random_activations(7, 256 * 16);
  SnapshotMeta meta = testing::probe_meta(run, "tap", 1, values);
  meta.scalars.clear();
  for (int i = 0; i < 5; ++i) meta.scalars.push_back({"s" + std::to_string(i), 1.0});
  expect_error(client.exchange(SnapshotFrames(meta, values.data(), run.probe.hash(), 1 << 20).frame(0)),
               wire::ErrorCode::TOO_LARGE, "5 scalars exceed the daemon's limit of 4 ([ingest] max_scalars)");

  // A 4 MiB run name: the answer names it in at most a few hundred bytes
  // and does not echo the key back.
  const std::string huge(4 << 20, 'x');
  const IngestReply unknown = client.exchange(dangling_begin(testing::make_run(huge, {"tap"}, 16, 256), "tap", 1, 16));
  expect_error(unknown, wire::ErrorCode::UNKNOWN_RUN, "(4194304 bytes)");
  EXPECT_LT(unknown.message.size(), 300u) << unknown.message.size();
  EXPECT_FALSE(unknown.has_snapshot);
  // The same on the query socket: an unknown query of 512 KiB.
  try {
    daemon.query(std::string(512 << 10, 'q'));
    ADD_FAILURE() << "an unknown query was answered";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("unknown query 'qqq"), std::string::npos) << std::string(e.what()).substr(0, 200);
    EXPECT_LT(std::string(e.what()).size(), 300u);
  }

  meta.scalars.resize(4);  // the same snapshot within the limits is stored
  const SnapshotFrames good(meta, values.data(), run.probe.hash(), 1 << 20);
  EXPECT_TRUE(client.exchange_snapshot(good).is_ack);
  EXPECT_EQ(daemon.query("status")["daemon"]["snapshots_stored"], 1u);
}

// The daemon's resident memory, from /proc.
uint64_t resident_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// Issue 11: 9 begins of 1 GiB whose chunks never came held 7.5 GB. A
// begin reserves its array's buffer and chunks fill it: nothing sent,
// nothing resident.
TEST(DaemonBounds, BeginsWhoseChunksNeverComeHoldNoMemory) {
  DaemonProcess daemon;
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription run = testing::make_run("gib", {"resid"}, 1024, 262144, 1024);  // 1 GiB arrays
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  const uint64_t before = resident_bytes(daemon.pid());
  for (uint64_t step = 1; step <= 3; ++step) client.send(dangling_begin(run, "resid", step, 1024));
  // A begin that is refused comes after them on the same connection: its
  // reply means they have been handled.
  SnapshotBegin late;
  late.meta.key = {run.run, "resid", 4, ArrayKind::kProbeActivations, ""};
  EXPECT_FALSE(client.exchange(encode_snapshot_begin_frame(late)).is_ack);
  const nlohmann::json status = daemon.query("status")["daemon"];
  EXPECT_EQ(status["pending_snapshots"], 3u) << status.dump();
  EXPECT_EQ(status["pending_bytes"], 3ull << 30) << status.dump();
  const uint64_t after = resident_bytes(daemon.pid());
  EXPECT_LT(after, before + (64ull << 20)) << "resident " << before << " -> " << after << " bytes";
}

// RocksDB refuses a value of 2^32 bytes or more: an array of exactly 4 GiB
// (262,144 tokens x d_model 4,096, f32) was acked with its data missing.
// Now the default limit (2^32 - 1) refuses it at the begin, before a byte
// of it is sent.
TEST(DaemonBounds, AnArrayOfFourGibIsRefusedAtItsBeginByDefault) {
  DaemonProcess daemon;
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription run = testing::make_run("huge", {"resid"}, 4096, 262144, 1024);
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  expect_error(client.exchange(dangling_begin(run, "resid", 1, 4096)), wire::ErrorCode::TOO_LARGE,
               "4294967296 bytes exceeds max_snapshot_bytes 4294967295");
  EXPECT_EQ(daemon.query("status")["daemon"]["pending_snapshots"], 0u);
}

}  // namespace
}  // namespace cw
