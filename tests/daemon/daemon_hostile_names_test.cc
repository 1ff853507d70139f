// Names that are not valid UTF-8, over the real wire and in the store: the
// daemon refuses them with an error naming the field, and a bad name
// already stored (before names were checked) cannot stop `status` or
// `runs` from answering.
#include <gtest/gtest.h>

#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "store/run_catalog.h"
#include "tests/support/daemon_process.h"
#include "tests/support/raw_ingest_client.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

using testing::IngestReply;

void expect_refused(const IngestReply& reply, const std::string& field) {
  EXPECT_FALSE(reply.is_ack) << reply.describe();
  EXPECT_EQ(reply.code, wire::ErrorCode::BAD_REQUEST) << reply.describe();
  EXPECT_NE(reply.message.find(field + " '"), std::string::npos) << reply.message;
  EXPECT_NE(reply.message.find("is not valid UTF-8"), std::string::npos) << reply.message;
}

// Every run `status` lists, by name.
std::vector<std::string> status_runs(const testing::DaemonProcess& daemon) {
  const nlohmann::json status = daemon.query("status");
  std::vector<std::string> names;
  for (const auto& run : status["runs"]) names.push_back(run["run"].get<std::string>());
  return names;
}

TEST(DaemonHostileNames, NamesThatAreNotUtf8AreRefusedNamingTheField) {
  testing::DaemonProcess daemon;
  daemon.start();
  testing::RawIngestClient client(daemon.ingest_endpoint());

  expect_refused(client.exchange(encode_hello_frame(testing::make_run("bad\xff", {"tap"}, 16, 256))), "run id");
  expect_refused(client.exchange(encode_hello_frame(testing::make_run("run", {"tap\xc3"}, 16, 256))), "tap name");

  const RunDescription run = testing::make_run("names", {"tap"}, 16, 256);
  ASSERT_TRUE(client.exchange(encode_hello_frame(run)).is_ack);
  const auto values = testing::random_activations(3, 256 * 16);
  SnapshotMeta meta = testing::probe_meta(run, "tap", 1, values);
  meta.scalars = {{"train/loss", 2.5}, {"lr\xfe", 0.1}};
  const SnapshotFrames bad_scalar(meta, values.data(), run.probe.hash(), 1 << 20);
  expect_refused(client.exchange(bad_scalar.frame(0)), "scalar name");

  meta.scalars.pop_back();  // the same snapshot with good names is stored
  const SnapshotFrames good(meta, values.data(), run.probe.hash(), 1 << 20);
  const IngestReply stored = client.exchange_snapshot(good);
  EXPECT_TRUE(stored.is_ack && !stored.duplicate) << stored.describe();

  EXPECT_EQ(status_runs(daemon), std::vector<std::string>{"names"});
  const auto runs = daemon.query("runs");
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["run"], "names");
  EXPECT_EQ(runs[0]["taps"][0]["snapshots"], 1);
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

TEST(DaemonHostileNames, ABadNameAlreadyStoredDoesNotBreakStatusOrRuns) {
  testing::DaemonProcess daemon;
  {
    auto store = Store::open(daemon.data_dir());
    RunCatalog catalog(*store);  // written around the checks, as an older daemon could have
    catalog.put(testing::make_run("old\xff", {"tap\xfe"}, 16, 256), 1);
    catalog.put(testing::make_run("fine", {"tap"}, 16, 256), 2);
  }
  daemon.start();
  EXPECT_EQ(status_runs(daemon), (std::vector<std::string>{"fine", "old\xef\xbf\xbd"}));  // U+FFFD
  const auto runs = daemon.query("runs");
  ASSERT_EQ(runs.size(), 2u) << runs.dump();
  EXPECT_EQ(runs[1]["taps"][0]["name"], "tap\xef\xbf\xbd");
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
