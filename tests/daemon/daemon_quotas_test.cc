// [quotas] and [retention] (issue 11, bounded resources) through the real
// daemon over the real wire: runs, taps per run and bytes per run refused
// with quotaExceeded naming the quota, a publisher that does not re-send
// what a quota refused, and idle runs deleted by the retention policy.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "daemon/daemon_config.h"
#include "hooks/publisher.h"
#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "tests/support/cli_output.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::IngestReply;
using testing::RawIngestClient;

constexpr uint64_t kArrayBytes = 64 * 8 * 4;  // make_run(…, 8, 64): one f32 probe array

IngestReply store_snapshot(RawIngestClient& client, const RunDescription& run, const std::string& tap, uint64_t step) {
  const auto values = testing::random_activations(testing::array_seed(tap, step), run.probe.n_tokens() * 8);
  const SnapshotFrames frames(testing::probe_meta(run, tap, step, values), values.data(), run.probe.hash(), 1 << 20);
  return client.exchange_snapshot(frames);
}

void expect_quota(const IngestReply& reply, const std::string& names) {
  EXPECT_FALSE(reply.is_ack) << reply.describe();
  EXPECT_EQ(reply.code, wire::ErrorCode::QUOTA_EXCEEDED) << reply.describe();
  EXPECT_NE(reply.message.find(names), std::string::npos) << reply.message;
}

bool lists_run(const nlohmann::json& runs, const std::string& name) {
  for (const auto& run : runs)
    if (run["run"] == name) return true;
  return false;
}

class DaemonQuotas : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.sub("daemon.toml");
    std::ofstream(config_) << "[quotas]\nmax_runs = 2\nmax_taps_per_run = 2\nmax_run_bytes = " << 2 * kArrayBytes + 100
                           << "\n";
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--store-only", "--config", config_});
    daemon_->start();
  }
  // Runs "a" and "b" take the two places of max_runs. Called before the
  // publisher of a third run is made: a Publisher sends its Hello as it
  // starts, and that Hello must not take a place before "b" does.
  void fill_max_runs() {
    RawIngestClient client(daemon_->ingest_endpoint());
    ASSERT_TRUE(client.exchange(encode_hello_frame(testing::make_run("a", {"t"}, 8, 64))).is_ack);
    ASSERT_TRUE(client.exchange(encode_hello_frame(testing::make_run("b", {"t"}, 8, 64))).is_ack);
  }
  // With max_runs filled, `run` (a third) publishes its step 1 and is
  // refused. Returns that step's data.
  std::vector<float> refused_over_max_runs(const RunDescription& run, Publisher& publisher) {
    const auto data = testing::random_activations(1, 64 * 8);
    publisher.publish(testing::probe_meta(run, "t", 1, data), data.data());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (publisher.stats().last_error.empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(50ms);
    EXPECT_NE(publisher.stats().last_error.find("max_runs"), std::string::npos) << publisher.stats().last_error;
    return data;
  }

  testing::TempDir dir_;
  std::string config_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(DaemonQuotas, RunsTapsAndBytesPerRunAreRefusedWithQuotaExceeded) {
  RawIngestClient client(daemon_->ingest_endpoint());
  const RunDescription a = testing::make_run("a", {"t"}, 8, 64);
  const RunDescription b = testing::make_run("b", {"t"}, 8, 64);
  ASSERT_TRUE(client.exchange(encode_hello_frame(a)).is_ack);
  ASSERT_TRUE(client.exchange(encode_hello_frame(b)).is_ack);
  expect_quota(client.exchange(encode_hello_frame(testing::make_run("c", {"t"}, 8, 64))), "max_runs 2");
  ASSERT_TRUE(client.exchange(encode_hello_frame(a)).is_ack);  // a known run's Hello is no new run

  expect_quota(client.exchange(encode_hello_frame(testing::make_run("d", {"t", "u", "v"}, 8, 64))), "max_taps_per_run 2");
  const RunDescription a_more = testing::make_run("a", {"t", "u", "v"}, 8, 64);
  expect_quota(client.exchange(encode_hello_frame(a_more)), "3 taps pass the quota");
  const RunDescription a_two = testing::make_run("a", {"t", "u"}, 8, 64);
  ASSERT_TRUE(client.exchange(encode_hello_frame(a_two)).is_ack);

  // Two arrays fit in max_run_bytes, a third does not; re-sending a stored
  // one is still a duplicate's ack; the other run stores on.
  ASSERT_TRUE(store_snapshot(client, a_two, "t", 0).is_ack);
  ASSERT_TRUE(store_snapshot(client, a_two, "u", 0).is_ack);
  {  // its begin is refused: its chunks are not sent (each would get an error of its own)
    const auto values = testing::random_activations(3, 64 * 8);
    const SnapshotFrames frames(testing::probe_meta(a_two, "t", 100, values), values.data(), a_two.probe.hash(), 1 << 20);
    expect_quota(client.exchange(frames.frame(0)), "max_run_bytes");
  }
  const IngestReply again = store_snapshot(client, a_two, "t", 0);
  EXPECT_TRUE(again.is_ack && again.duplicate) << again.describe();
  EXPECT_TRUE(store_snapshot(client, b, "t", 100).is_ack);

  // Deleting a run frees its place and its bytes: a new run fits again.
  const testing::CommandOutput deleted = testing::run_command(
      std::string(CW_CLI_PATH) + " --ingest " + daemon_->ingest_endpoint() + " delete-run --run a --yes 2>&1");
  ASSERT_EQ(deleted.status, 0) << deleted.out;
  EXPECT_NE(deleted.out.find("comes back as the daemon compacts in the background"), std::string::npos) << deleted.out;
  EXPECT_TRUE(client.exchange(encode_hello_frame(testing::make_run("c", {"t"}, 8, 64))).is_ack);
  EXPECT_TRUE(daemon_->query("status")["daemon"]["up"].get<bool>());
}

// Arrays in flight count against max_run_bytes as they begin, not once
// stored: two begun arrays fill the run's quota and a third begun beside
// them is refused, so one burst cannot pass it; an array dropped in flight
// gives its bytes back.
TEST_F(DaemonQuotas, ArraysInFlightCountAgainstMaxRunBytes) {
  RawIngestClient client(daemon_->ingest_endpoint());
  const RunDescription a = testing::make_run("a", {"t", "u"}, 8, 64);
  ASSERT_TRUE(client.exchange(encode_hello_frame(a)).is_ack);
  // SnapshotFrames reads the values when a frame is made: they live as long.
  const auto first_values = testing::random_activations(1, 64 * 8), second_values = testing::random_activations(2, 64 * 8),
             third_values = testing::random_activations(3, 64 * 8);
  auto frames_of = [&](const std::string& tap, uint64_t step, const std::vector<float>& values) {
    return SnapshotFrames(testing::probe_meta(a, tap, step, values), values.data(), a.probe.hash(), 1 << 20);
  };
  const SnapshotFrames first = frames_of("t", 0, first_values), second = frames_of("u", 0, second_values),
                       third = frames_of("t", 100, third_values);
  client.send(first.frame(0));
  client.send(second.frame(0));
  const IngestReply refused = client.exchange(third.frame(0));
  expect_quota(refused, "max_run_bytes");
  EXPECT_NE(refused.message.find(std::to_string(2 * kArrayBytes) + " in flight"), std::string::npos) << refused.message;

  // The second is dropped in flight (a chunk out of order): its bytes are
  // free again, and the third fits beside the first.
  const IngestReply dropped = client.exchange(second.frame(2));
  EXPECT_EQ(dropped.code, wire::ErrorCode::BAD_CHUNK) << dropped.describe();
  const IngestReply stored = client.exchange_snapshot(third);
  EXPECT_TRUE(stored.is_ack) << stored.describe();
  for (uint32_t i = 1; i + 1 < first.frame_count(); ++i) client.send(first.frame(i));
  EXPECT_TRUE(client.exchange(first.frame(first.frame_count() - 1)).is_ack);
  // Both stored: the quota is full, by stored bytes now.
  expect_quota(client.exchange(second.frame(0)), "0 in flight");
}

TEST_F(DaemonQuotas, APublisherDoesNotResendWhatAQuotaRefused) {
  const RunDescription c = testing::make_run("c", {"t"}, 8, 64);
  PublisherOptions options;
  options.endpoint = daemon_->ingest_endpoint();
  options.close_timeout = 0ms;
  ASSERT_NO_FATAL_FAILURE(fill_max_runs());
  Publisher publisher(c, options);
  const auto data = refused_over_max_runs(c, publisher);
  EXPECT_TRUE(publisher.flush(2s));  // nothing left queued
  // The Hello is not sent again (it was every 500 ms while unanswered):
  // the daemon's frame count stands still, and later snapshots are refused
  // at once without being queued.
  const uint64_t frames = daemon_->query("status")["daemon"]["frames"].get<uint64_t>();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(daemon_->query("status")["daemon"]["frames"].get<uint64_t>(), frames);
  EXPECT_FALSE(publisher.publish(testing::probe_meta(c, "t", 2, data), data.data()));
  EXPECT_EQ(publisher.stats().rejected, 2u);
  EXPECT_EQ(publisher.stats().acked, 0u);
}

// Refused over a quota, a publisher tries its Hello again every
// quota_retry_wait (1 minute by default, 0.5 s here): once a run is deleted
// and there is room, its next snapshots are stored; until then they are
// refused without being queued.
TEST_F(DaemonQuotas, APublisherRefusedByAQuotaResumesOnceTheRunFits) {
  const RunDescription c = testing::make_run("c", {"t"}, 8, 64);
  PublisherOptions options;
  options.endpoint = daemon_->ingest_endpoint();
  options.close_timeout = 2000ms;
  options.quota_retry_wait = 500ms;
  ASSERT_NO_FATAL_FAILURE(fill_max_runs());
  Publisher publisher(c, options);
  const auto data = refused_over_max_runs(c, publisher);
  EXPECT_FALSE(publisher.publish(testing::probe_meta(c, "t", 2, data), data.data()));

  const testing::CommandOutput deleted = testing::run_command(
      std::string(CW_CLI_PATH) + " --ingest " + daemon_->ingest_endpoint() + " delete-run --run a --yes 2>&1");
  ASSERT_EQ(deleted.status, 0) << deleted.out;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!publisher.stats().hello_acked && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(publisher.stats().hello_acked) << publisher.stats().last_error;
  EXPECT_TRUE(publisher.publish(testing::probe_meta(c, "t", 3, data), data.data()));
  EXPECT_TRUE(publisher.flush(5s));
  EXPECT_EQ(publisher.stats().acked, 1u);
  EXPECT_EQ(publisher.stats().rejected, 2u);
  EXPECT_TRUE(lists_run(daemon_->query("runs"), "c"));
}

TEST(DaemonRetention, RunsIdleLongerThanMaxIdleHoursAreDeleted) {
  testing::TempDir dir;
  const std::string config = dir.sub("daemon.toml");
  std::ofstream(config) << "[retention]\nmax_idle_hours = 0.0005\n";  // 1.8 s
  DaemonProcess daemon({"--store-only", "--config", config});
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription idle = testing::make_run("idle", {"t"}, 8, 64);
  const RunDescription busy = testing::make_run("busy", {"t"}, 8, 64);
  ASSERT_TRUE(client.exchange(encode_hello_frame(idle)).is_ack);
  ASSERT_TRUE(store_snapshot(client, idle, "t", 0).is_ack);
  ASSERT_TRUE(client.exchange(encode_hello_frame(busy)).is_ack);
  // "busy" keeps sending (a Hello, as a job's restart does, and arrays).
  bool idle_gone = false;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t step = 0; std::chrono::steady_clock::now() - start < 8s; ++step) {
    ASSERT_TRUE(store_snapshot(client, busy, "t", step).is_ack);
    std::this_thread::sleep_for(200ms);
    if (!lists_run(daemon.query("runs"), "idle")) {
      idle_gone = true;
      break;
    }
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(idle_gone) << "after " << waited << " s";
  EXPECT_GT(waited, 1.0);  // not before it was idle for max_idle_hours
  EXPECT_TRUE(lists_run(daemon.query("runs"), "busy"));
  EXPECT_TRUE(client.exchange(encode_hello_frame(busy)).is_ack);
}

TEST(DaemonQuotasConfig, AMisspeltQuotaOrRetentionKeyIsRefusedByName) {
  testing::TempDir dir;
  const std::string path = dir.sub("daemon.toml");
  for (const char* text : {"[quotas]\nmax_run = 3\n", "[retention]\nmax_idle_days = 3\n"}) {
    std::ofstream(path) << text;
    DaemonConfig config = default_daemon_config();
    try {
      load_daemon_config(path, &config);
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("has no key"), std::string::npos) << e.what();
    }
  }
  std::ofstream(path) << "[quotas]\nmax_runs = 3\nmax_taps_per_run = 4\nmax_run_bytes = 5\n[retention]\nmax_idle_hours = 24\n";
  DaemonConfig config = default_daemon_config();
  load_daemon_config(path, &config);
  EXPECT_EQ(config.quotas.max_runs, 3u);
  EXPECT_EQ(config.quotas.max_taps_per_run, 4u);
  EXPECT_EQ(config.quotas.max_run_bytes, 5u);
  EXPECT_EQ(config.retention_max_idle_hours, 24.0);
}

}  // namespace
}  // namespace cw
