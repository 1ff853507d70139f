// A second Hello for a run the daemon already has, over the real wire: it
// may add taps and tasks, an identical one writes nothing, and one that
// changes what was declared is refused with a conflict naming the
// difference, while the daemon keeps serving other runs.
#include <gtest/gtest.h>

#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "store/run_catalog.h"
#include "store/snapshot_table.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::DaemonProcess;
using testing::IngestReply;
using testing::RawIngestClient;

uint64_t hello_writes(const DaemonProcess& daemon) {
  return daemon.query("status")["daemon"]["hello_writes"].get<uint64_t>();
}

IngestReply send_snapshot(RawIngestClient& client, const RunDescription& run, const std::string& tap, uint64_t step) {
  const auto values = testing::random_activations(testing::array_seed(tap, step), 64 * 16);
  const SnapshotFrames frames(testing::probe_meta(run, tap, step, values), values.data(), run.probe.hash(), 4096);
  return client.exchange_snapshot(frames);
}

void expect_conflict(RawIngestClient& client, const RunDescription& hello, const std::string& says) {
  const IngestReply reply = client.exchange(encode_hello_frame(hello));
  EXPECT_FALSE(reply.is_ack) << reply.describe();
  EXPECT_EQ(reply.code, wire::ErrorCode::CONFLICT) << reply.describe();
  EXPECT_NE(reply.message.find(says), std::string::npos) << reply.message;
  EXPECT_LT(reply.message.size(), 400u) << reply.message;  // never the inputs themselves
}

TEST(DaemonHello, AddsTapsAndTasksRefusesChangesAndRewritesNothingUnchanged) {
  DaemonProcess daemon;
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  RunDescription run = testing::make_run("hello-run", {"tap"}, 16, 64, 16);
  run.probe.vocabulary.assign(50000, "tok");
  run.tasks = {{"induction", std::vector<uint32_t>(32, 1), 16, "logit diff"}};
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  EXPECT_EQ(hello_writes(daemon), 1u);

  // A restarted job: the same Hello, then one without the optional
  // vocabulary and its tasks (a subset of what is declared). None writes.
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  RunDescription without_vocabulary = run;
  without_vocabulary.probe.vocabulary.clear();
  without_vocabulary.tasks.clear();
  ASSERT_TRUE(client.exchange(encode_hello_frame(without_vocabulary)).is_ack);
  EXPECT_EQ(hello_writes(daemon), 1u);

  // Additions are stored (one synced write), and then are part of the run.
  RunDescription more = run;
  more.taps.push_back({"tap2", 16});
  more.tasks.push_back({"copying", std::vector<uint32_t>(16, 2), 16, "loss"});
  ASSERT_TRUE(client.exchange(encode_hello_frame(more)).is_ack);
  EXPECT_EQ(hello_writes(daemon), 2u);
  ASSERT_TRUE(client.exchange(encode_hello_frame(more)).is_ack);
  EXPECT_EQ(hello_writes(daemon), 2u);
  const IngestReply on_new_tap = send_snapshot(client, more, "tap2", 1);
  EXPECT_TRUE(on_new_tap.is_ack && !on_new_tap.duplicate) << on_new_tap.describe();

  // Changes to what is declared.
  RunDescription wider = run;
  wider.taps[0].d_model = 32;
  expect_conflict(client, wider, "tap 'tap' was declared with d_model 16, this hello 32");
  RunDescription half = run;
  half.dtype = DType::kBF16;
  expect_conflict(client, half, "the run was declared with dtype f32, this hello bf16");
  RunDescription other_tokens = run;
  other_tokens.tasks[0].token_ids[5] = 7;
  expect_conflict(client, other_tokens, "task 'induction' was declared with other token_ids (first difference at index 5)");
  RunDescription longer = run;
  longer.tasks[0].token_ids.resize(1 << 20, 3);
  expect_conflict(client, longer, "(stored 32 tokens, this hello 1048576)");
  RunDescription other_metric = run;
  other_metric.tasks[0].metric = "accuracy";
  expect_conflict(client, other_metric, "task 'induction' was declared with metric 'logit diff', this hello 'accuracy'");
  RunDescription other_vocabulary = run;
  other_vocabulary.probe.vocabulary[49999] = std::string(100000, 'x');
  expect_conflict(client, other_vocabulary, "the probe vocabulary differs from the stored one (first difference at index 49999)");
  RunDescription other_probe = testing::make_run("hello-run", {"tap"}, 16, 64, 16, /*probe_seed=*/9);
  const IngestReply probe = client.exchange(encode_hello_frame(other_probe));
  EXPECT_EQ(probe.code, wire::ErrorCode::PROBE_MISMATCH) << probe.describe();

  // A dtype outside the enum is refused before it is cast to one.
  RunDescription bad_dtype = testing::make_run("hello-bad-dtype", {"tap"}, 16, 64, 16);
  bad_dtype.dtype = static_cast<DType>(7);
  const IngestReply unknown = client.exchange(encode_hello_frame(bad_dtype));
  EXPECT_EQ(unknown.code, wire::ErrorCode::BAD_DTYPE) << unknown.describe();
  EXPECT_NE(unknown.message.find("unknown dtype 7"), std::string::npos) << unknown.message;
  EXPECT_EQ(hello_writes(daemon), 2u);

  // Another run's job, on its own connection, is unaffected; status answers.
  RawIngestClient other(daemon.ingest_endpoint());
  const RunDescription neighbour = testing::make_run("hello-neighbour", {"tap"}, 16, 64, 16);
  ASSERT_TRUE(other.exchange(encode_hello_frame(neighbour)).is_ack);
  const IngestReply stored = send_snapshot(other, neighbour, "tap", 1);
  EXPECT_TRUE(stored.is_ack && !stored.duplicate) << stored.describe();
  const auto status = daemon.query("status");
  EXPECT_EQ(status["daemon"]["snapshots_stored"].get<uint64_t>(), 2u) << status.dump();
  EXPECT_EQ(status["daemon"]["hello_writes"].get<uint64_t>(), 3u) << status.dump();
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();

  // The store keeps the first declarations plus the additions.
  auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
  RunCatalog runs(*store);
  const auto entry = runs.get("hello-run");
  ASSERT_TRUE(entry.has_value());
  ASSERT_EQ(entry->description.taps.size(), 2u);
  EXPECT_EQ(entry->description.taps[0].d_model, 16u);
  EXPECT_EQ(entry->description.dtype, DType::kF32);
  ASSERT_EQ(entry->description.tasks.size(), 2u);
  EXPECT_EQ(entry->description.tasks[0].token_ids, run.tasks[0].token_ids);
  EXPECT_EQ(entry->description.tasks[1].name, "copying");
  EXPECT_EQ(runs.probe("hello-run")->vocabulary, run.probe.vocabulary);
  EXPECT_FALSE(runs.get("hello-bad-dtype").has_value());
}

// A run registered without a vocabulary may be given one later (the
// probe record is rewritten once); after that it may not change.
TEST(DaemonHello, AVocabularyMayBeAddedOnce) {
  DaemonProcess daemon;
  daemon.start();
  RawIngestClient client(daemon.ingest_endpoint());
  RunDescription run = testing::make_run("hello-vocab", {"tap"}, 16, 64, 16);
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  run.probe.vocabulary = {"a", "b", "c"};
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  EXPECT_EQ(hello_writes(daemon), 2u);
  run.probe.vocabulary[1] = "B";
  expect_conflict(client, run, "(first difference at index 1)");
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
  auto store = Store::open(daemon.data_dir(), StoreOptions{true, true});
  EXPECT_EQ(RunCatalog(*store).probe("hello-vocab")->vocabulary, (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace cw
