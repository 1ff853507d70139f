// The same (run, tap, step) sent twice over the wire: stored once, the
// second acked with duplicate = true; other bytes for it are a conflict.
#include <gtest/gtest.h>

#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "store/snapshot_table.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::IngestReply;

TEST(DaemonDuplicate, SecondSendIsAckedAsDuplicateAndStoredOnce) {
  testing::DaemonProcess daemon;
  daemon.start();
  testing::RawIngestClient client(daemon.ingest_endpoint());
  const RunDescription run = testing::make_run("dup-raw", {"tap"}, 16, 256);
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);

  const auto values = testing::random_activations(21, 256 * 16);
  const SnapshotMeta meta = testing::probe_meta(run, "tap", 7, values);
  const SnapshotFrames frames(meta, values.data(), run.probe.hash(), 4096);

  IngestReply first = client.exchange_snapshot(frames);
  ASSERT_TRUE(first.is_ack) << first.describe();
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(first.snapshot == meta.key);

  IngestReply second = client.exchange_snapshot(frames);
  ASSERT_TRUE(second.is_ack) << second.describe();
  EXPECT_TRUE(second.duplicate);
  EXPECT_TRUE(second.snapshot == meta.key);

  auto changed = values;
  changed.back() = -changed.back();
  const SnapshotMeta changed_meta = testing::probe_meta(run, "tap", 7, changed);
  IngestReply conflict = client.exchange_snapshot(SnapshotFrames(changed_meta, changed.data(), run.probe.hash(), 4096));
  EXPECT_FALSE(conflict.is_ack) << conflict.describe();
  EXPECT_EQ(conflict.code, wire::ErrorCode::CONFLICT) << conflict.describe();
  EXPECT_NE(conflict.message.find("dup-raw/tap@7"), std::string::npos) << conflict.message;
  EXPECT_NE(conflict.message.find("already stored with different contents"), std::string::npos) << conflict.message;
  EXPECT_TRUE(conflict.has_snapshot);

  const auto status = daemon.query("status");
  EXPECT_EQ(status["daemon"]["snapshots_stored"].get<uint64_t>(), 1u) << status.dump();
  EXPECT_EQ(status["daemon"]["duplicates"].get<uint64_t>(), 1u) << status.dump();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();

  auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
  SnapshotTable table(*store);
  const auto metas = table.list_all("dup-raw");
  ASSERT_EQ(metas.size(), 1u);
  std::string data;
  ASSERT_TRUE(table.read(meta.key, &data));
  EXPECT_EQ(data, testing::as_bytes(values));
}

// The task is part of the store key: a probe array sent with one, or with a
// kind the daemon does not know, would be a second array for the step. Both
// are refused at their begin.
TEST(DaemonDuplicate, AProbeArrayWithATaskOrAnUnknownKindIsRefused) {
  testing::DaemonProcess daemon;
  daemon.start();
  testing::RawIngestClient client(daemon.ingest_endpoint());
  RunDescription run = testing::make_run("dup-task", {"tap"}, 16, 256);
  run.tasks = {{"induction", std::vector<uint32_t>(256, 1), 16, "logit diff"}};
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);

  const auto values = testing::random_activations(5, 256 * 16);
  const SnapshotMeta meta = testing::probe_meta(run, "tap", 3, values);
  const IngestReply first = client.exchange_snapshot(SnapshotFrames(meta, values.data(), run.probe.hash(), 4096));
  ASSERT_TRUE(first.is_ack && !first.duplicate) << first.describe();

  auto changed = values;
  changed.front() = -changed.front();
  SnapshotMeta with_task = testing::probe_meta(run, "tap", 3, changed);
  with_task.key.task = "induction";
  const IngestReply named = client.exchange(SnapshotFrames(with_task, changed.data(), run.probe.hash(), 4096).frame(0));
  EXPECT_FALSE(named.is_ack) << named.describe();
  EXPECT_EQ(named.code, wire::ErrorCode::BAD_REQUEST) << named.describe();
  EXPECT_NE(named.message.find("a probe array names no task"), std::string::npos) << named.message;

  SnapshotMeta unknown_kind = testing::probe_meta(run, "tap", 4, values);
  unknown_kind.key.kind = static_cast<ArrayKind>(9);
  const IngestReply unknown = client.exchange(SnapshotFrames(unknown_kind, values.data(), run.probe.hash(), 4096).frame(0));
  EXPECT_FALSE(unknown.is_ack) << unknown.describe();
  EXPECT_EQ(unknown.code, wire::ErrorCode::BAD_REQUEST) << unknown.describe();
  EXPECT_NE(unknown.message.find("array kind 9 is unknown; known kinds: probe (0)"), std::string::npos)
      << unknown.message;

  const auto status = daemon.query("status");
  EXPECT_EQ(status["daemon"]["snapshots_stored"].get<uint64_t>(), 1u) << status.dump();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
  auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
  const auto metas = SnapshotTable(*store).list_all("dup-task");
  ASSERT_EQ(metas.size(), 1u);
  EXPECT_TRUE(metas[0].key == meta.key);
}

}  // namespace
}  // namespace cw
