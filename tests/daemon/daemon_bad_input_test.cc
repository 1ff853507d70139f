// The real conceptwatchd fed bad input over a raw DEALER socket while a good
// publisher streams: every bad message gets an Error naming the problem, the
// good stream is stored intact and the daemon stays up.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "hooks/publisher.h"
#include "schema/checksum.h"
#include "schema/message_io.h"
#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "store/snapshot_table.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::IngestReply;
using testing::RawIngestClient;

constexpr uint64_t kMaxSnapshotBytes = 256ull << 20;
constexpr uint64_t kTwoGiB = 2ull << 30;

// A SnapshotBegin with every field under the test's control.
Frame begin_frame(const SnapshotKey& key, uint32_t n_tokens, uint32_t d_model, DType dtype, uint64_t total_bytes,
                  uint32_t chunk_count, uint64_t probe_hash) {
  SnapshotBegin begin;
  begin.meta.key = key;
  begin.meta.n_tokens = n_tokens;
  begin.meta.d_model = d_model;
  begin.meta.dtype = dtype;
  begin.total_bytes = total_bytes;
  begin.chunk_count = chunk_count;
  begin.probe_hash = probe_hash;
  return encode_snapshot_begin_frame(begin);
}

// A frame whose Cap'n Proto segment table is made up.
std::string segment_table_frame(uint32_t segment_count_minus_one, uint32_t first_segment_words) {
  std::vector<uint32_t> words = {segment_count_minus_one, first_segment_words, 0, 0, 0, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(words.data()), words.size() * 4);
}

// Sends one bad frame and checks the Error that comes back.
void expect_error(RawIngestClient& client, const std::string& frame, wire::ErrorCode code, const std::string& says) {
  const IngestReply reply = client.exchange(frame);
  EXPECT_FALSE(reply.is_ack) << reply.describe();
  EXPECT_EQ(reply.code, code) << reply.describe();
  EXPECT_NE(reply.message.find(says), std::string::npos) << "expected '" << says << "' in: " << reply.message;
}

TEST(DaemonBadInput, EveryBadMessageGetsANamedErrorWhileAGoodPublisherIsStoredIntact) {
  testing::TempDir config_dir;
  const std::string config = config_dir.sub("daemon.toml");
  // A snapshot limit below 2 GiB, so that a 2 GiB claim is refused outright
  // (the default, 4 GiB, admits real 2 GiB arrays).
  std::ofstream(config) << "[ingest]\nmax_snapshot_bytes = " << kMaxSnapshotBytes << "\n";
  DaemonProcess daemon({"--config", config});
  daemon.start();

  // The good stream: 30 snapshots of [1024 x 64] f32 in 64 KiB chunks.
  const RunDescription good_run = testing::make_run("good", {"blocks.0.resid_post"}, 64, 1024);
  constexpr int kGoodSnapshots = 30;
  std::atomic<bool> publishing_done{false};
  PublisherStats good_stats;
  std::thread publisher_thread([&] {
    PublisherOptions options;
    options.endpoint = daemon.ingest_endpoint();
    options.chunk_bytes = 64 << 10;
    options.ack_timeout = std::chrono::milliseconds(2000);
    Publisher publisher(good_run, options);
    for (int step = 0; step < kGoodSnapshots; ++step) {
      const auto values = testing::random_activations(testing::array_seed("good", step), 1024 * 64);
      publisher.publish(testing::probe_meta(good_run, "blocks.0.resid_post", step, values), values.data());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    publisher.flush(std::chrono::seconds(30));
    good_stats = publisher.stats();
    publishing_done = true;
  });

  RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription run = testing::make_run("bad", {"tap"}, 16, 128, 32);
  const IngestReply hello = client.exchange(encode_hello_frame(run));
  ASSERT_TRUE(hello.is_ack && hello.ack_is_hello) << hello.describe();
  const uint64_t probe_hash = run.probe.hash();
  auto values = testing::random_activations(11, 128 * 16);
  uint64_t step = 0;
  auto next_meta = [&] { return testing::probe_meta(run, "tap", step++, values); };

  {
    SCOPED_TRACE("random bytes");
    std::mt19937_64 rng(3);
    std::string noise(512, '\0');
    for (auto& c : noise) c = char(rng());
    expect_error(client, noise, wire::ErrorCode::MALFORMED, "unreadable Cap'n Proto message");
    expect_error(client, noise.substr(0, 13), wire::ErrorCode::MALFORMED, "multiple of 8");
  }
  {
    SCOPED_TRACE("truncated message");
    const Frame begin = SnapshotFrames(next_meta(), values.data(), probe_hash, 1024).frame(0);
    ASSERT_GT(begin.size(), 32u);
    expect_error(client, begin.substr(0, (begin.size() / 2) & ~std::size_t(7)), wire::ErrorCode::MALFORMED,
                 "unreadable Cap'n Proto message");
    expect_error(client, begin.substr(0, begin.size() - 3), wire::ErrorCode::MALFORMED, "multiple of 8");
  }
  {
    SCOPED_TRACE("wrong shape");
    SnapshotMeta meta = next_meta();
    meta.n_tokens = 127;
    expect_error(client, SnapshotFrames(meta, values.data(), probe_hash, 1024).frame(0), wire::ErrorCode::BAD_SHAPE,
                 "shape [127 x 16] does not match [128 x 16]");
  }
  {
    SCOPED_TRACE("wrong probe hash");
    expect_error(client, SnapshotFrames(next_meta(), values.data(), probe_hash + 1, 1024).frame(0),
                 wire::ErrorCode::PROBE_MISMATCH, "probe hash " + std::to_string(probe_hash + 1));
  }
  {
    SCOPED_TRACE("NaN in f32");
    auto with_nan = values;
    with_nan[5 * 16 + 3] = std::nanf("");
    SnapshotMeta meta = testing::probe_meta(run, "tap", step++, with_nan);
    SnapshotFrames frames(meta, with_nan.data(), probe_hash, 1 << 20);
    client.send(frames.frame(0));  // accepted silently
    expect_error(client, frames.frame(1), wire::ErrorCode::NON_FINITE, "token 5, dimension 3");
  }
  {
    SCOPED_TRACE("NaN in f16");
    std::vector<uint16_t> halves(128 * 16, 0x3c00);  // 1.0
    halves[7 * 16 + 9] = 0x7e00;                     // NaN
    SnapshotMeta meta = next_meta();
    meta.dtype = DType::kF16;
    meta.checksum = checksum64(halves.data(), halves.size() * 2);
    SnapshotFrames frames(meta, halves.data(), probe_hash, 1 << 20);
    client.send(frames.frame(0));
    expect_error(client, frames.frame(1), wire::ErrorCode::NON_FINITE, "token 7, dimension 9");
  }
  {
    SCOPED_TRACE("unknown run");
    SnapshotMeta meta = next_meta();
    meta.key.run = "ghost";
    expect_error(client, SnapshotFrames(meta, values.data(), probe_hash, 1024).frame(0), wire::ErrorCode::UNKNOWN_RUN,
                 "unknown run 'ghost'");
  }
  {
    SCOPED_TRACE("2 GiB claimed by totalBytes");
    const SnapshotKey key{"bad", "tap", step++, ArrayKind::kProbeActivations, ""};
    expect_error(client, begin_frame(key, 128, 16, DType::kF32, kTwoGiB, 1, probe_hash), wire::ErrorCode::BAD_SHAPE,
                 "claims 2147483648 bytes");
  }
  {
    SCOPED_TRACE("2 GiB implied by a shape the run does not have");
    const SnapshotKey key{"bad", "tap", step++, ArrayKind::kProbeActivations, ""};
    expect_error(client, begin_frame(key, 8192, 65536, DType::kF32, kTwoGiB, 512, probe_hash),
                 wire::ErrorCode::BAD_SHAPE, "does not match");
  }
  {
    SCOPED_TRACE("2 GiB implied by the run's own shape");
    RunDescription wide = testing::make_run("wide", {"tap"}, 65536, 8192, 64);
    ASSERT_TRUE(client.exchange(encode_hello_frame(wide)).is_ack);
    const SnapshotKey key{"wide", "tap", 0, ArrayKind::kProbeActivations, ""};
    expect_error(client, begin_frame(key, 8192, 65536, DType::kF32, kTwoGiB, 512, wide.probe.hash()),
                 wire::ErrorCode::TOO_LARGE, "2147483648 bytes exceeds max_snapshot_bytes");
  }
  {
    SCOPED_TRACE("segment table claiming 2 GiB");
    expect_error(client, segment_table_frame(0, uint32_t(kTwoGiB / 8)), wire::ErrorCode::MALFORMED,
                 "unreadable Cap'n Proto message");
    expect_error(client, segment_table_frame(0x7fffffff, 1), wire::ErrorCode::MALFORMED,
                 "unreadable Cap'n Proto message");
  }

  publisher_thread.join();
  ASSERT_TRUE(publishing_done);
  EXPECT_EQ(good_stats.acked, uint64_t(kGoodSnapshots)) << good_stats.last_error;
  EXPECT_EQ(good_stats.rejected, 0u);
  EXPECT_EQ(good_stats.dropped, 0u);

  // Still up, and it counted what it refused.
  ASSERT_TRUE(daemon.alive()) << daemon.log();
  const auto status = daemon.query("status");
  EXPECT_GE(status["daemon"]["errors"].get<uint64_t>(), 14u) << status.dump();

  auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
  SnapshotTable table(*store);
  const auto stored = table.list("good");
  ASSERT_EQ(stored.size(), std::size_t(kGoodSnapshots));
  for (int i = 0; i < kGoodSnapshots; ++i) {
    SCOPED_TRACE("good step " + std::to_string(i));
    EXPECT_EQ(stored[i].key.step, uint64_t(i));
    const auto expected = testing::random_activations(testing::array_seed("good", i), 1024 * 64);
    std::string data;
    ASSERT_TRUE(table.read(stored[i].key, &data));
    EXPECT_EQ(data, testing::as_bytes(expected));
    EXPECT_EQ(stored[i].checksum, checksum64(expected.data(), expected.size() * 4));
  }
  // Nothing of the refused run was stored.
  EXPECT_TRUE(table.list_all("bad").empty());
  EXPECT_TRUE(table.list_all("wide").empty());
}

}  // namespace
}  // namespace cw
