// cw::Ingest fed frames from schema/snapshot_frames.h directly: no sockets, a
// temporary store.
#include "ingest/ingest.h"

#include <gtest/gtest.h>

#include "schema/checksum.h"
#include "schema/message_io.h"
#include "schema/record_codec.h"
#include "schema/messages.h"
#include "schema/snapshot_frames.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cw {
namespace {

constexpr const char* kPeer = "peer-1";

struct Reply {
  bool ack = false;
  bool duplicate = false;
  wire::ErrorCode code = wire::ErrorCode::INTERNAL;
  std::string message;
};

Reply decode(const Frame& frame) {
  IncomingMessage in(frame.data(), frame.size(), 1 << 20);
  auto body = in.get().getBody();
  Reply reply;
  if (body.isAck()) {
    reply.ack = true;
    const auto ack = read_ack(body.getAck());
    if (const auto* stored = std::get_if<SnapshotAck>(&ack)) reply.duplicate = stored->duplicate;
  } else if (body.isError()) {
    const ErrorReply error = read_error(body.getError());
    reply.code = error.code;
    reply.message = error.message;
  } else {
    ADD_FAILURE() << "ingest replied with neither Ack nor Error";
  }
  return reply;
}

class IngestTest : public ::testing::Test {
 protected:
  IngestTest()
      : store_(Store::open(dir_.path())),
        ingest_(*store_, IngestLimits{}),
        run_(testing::make_run("run", {"tap"}, 16, 128, 32)),
        values_(testing::random_activations(7, 128 * 16)),
        meta_(testing::probe_meta(run_, "tap", 3, values_)) {
    ingest_.on_stored([this](const SnapshotMeta& meta) { stored_.push_back(meta); });
  }

  std::vector<Frame> feed(const Frame& frame) { return ingest_.handle(kPeer, frame.data(), frame.size()); }

  // Feeds a frame that must be accepted silently.
  void feed_quietly(const Frame& frame) {
    auto replies = feed(frame);
    ASSERT_TRUE(replies.empty()) << decode(replies.front()).message;
  }

  // Feeds a frame that must get exactly one reply.
  Reply feed_one(const Frame& frame) {
    auto replies = feed(frame);
    EXPECT_EQ(replies.size(), 1u);
    return replies.empty() ? Reply{} : decode(replies.front());
  }

  void hello() {
    Reply reply = feed_one(encode_hello_frame(run_));
    ASSERT_TRUE(reply.ack) << reply.message;
  }

  // 128 x 16 floats in chunks of 1 KiB: begin, 8 chunks, end.
  SnapshotFrames frames(const SnapshotMeta& meta) { return SnapshotFrames(meta, values_.data(), run_.probe.hash(), 1024); }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  Ingest ingest_;
  RunDescription run_;
  std::vector<float> values_;
  SnapshotMeta meta_;
  std::vector<SnapshotMeta> stored_;
};

TEST_F(IngestTest, StoresACompleteSnapshotAndAcksIt) {
  hello();
  auto snapshot = frames(meta_);
  ASSERT_EQ(snapshot.chunk_count(), 8u);
  for (uint32_t i = 0; i + 1 < snapshot.frame_count(); ++i) feed_quietly(snapshot.frame(i));
  Reply reply = feed_one(snapshot.frame(snapshot.frame_count() - 1));
  EXPECT_TRUE(reply.ack) << reply.message;
  EXPECT_FALSE(reply.duplicate);
  std::string data;
  ASSERT_TRUE(SnapshotTable(*store_).read(meta_.key, &data));
  EXPECT_EQ(data, testing::as_bytes(values_));
  ASSERT_EQ(stored_.size(), 1u);
  EXPECT_EQ(stored_[0].checksum, meta_.checksum);
  EXPECT_EQ(ingest_.stats().snapshots_stored, 1u);
  EXPECT_EQ(ingest_.stats().pending_snapshots, 0u);
}

TEST_F(IngestTest, OutOfOrderChunkIsBadChunkAndForgetsThePartialArray) {
  hello();
  auto snapshot = frames(meta_);
  feed_quietly(snapshot.frame(0));
  feed_quietly(snapshot.frame(1));
  EXPECT_EQ(ingest_.stats().pending_snapshots, 1u);
  Reply reply = feed_one(snapshot.frame(3));  // chunk 2 where chunk 1 was due
  EXPECT_FALSE(reply.ack);
  EXPECT_EQ(reply.code, wire::ErrorCode::BAD_CHUNK);
  EXPECT_NE(reply.message.find("out of order"), std::string::npos) << reply.message;
  EXPECT_NE(reply.message.find("expected 1"), std::string::npos) << reply.message;
  EXPECT_EQ(ingest_.stats().pending_snapshots, 0u);
  // What follows has no begin any more: the sender is told to re-send.
  reply = feed_one(snapshot.frame(2));
  EXPECT_EQ(reply.code, wire::ErrorCode::UNKNOWN_SNAPSHOT);
  EXPECT_NE(reply.message.find("re-send"), std::string::npos) << reply.message;
  EXPECT_FALSE(SnapshotTable(*store_).meta(meta_.key).has_value());
  EXPECT_TRUE(stored_.empty());
}

// DType is one byte, the wire's dtype two: an unknown value is refused by
// name before it could be truncated into a known one (256 + 1 would be f16).
TEST_F(IngestTest, UnknownDtypeIsBadDtypeNamingTheSnapshot) {
  hello();
  const Frame begin = build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initSnapshotBegin();
    write_snapshot_id(meta_.key, out.initId());
    out.setNTokens(meta_.n_tokens);
    out.setDModel(meta_.d_model);
    out.setDtype(static_cast<wire::DType>(257));
    out.setTotalBytes(meta_.bytes());
    out.setChunkCount(8);
    out.setProbeHash(run_.probe.hash());
  });
  Reply reply = feed_one(begin);
  EXPECT_EQ(reply.code, wire::ErrorCode::BAD_DTYPE);
  EXPECT_NE(reply.message.find(meta_.key.describe() + ": unknown dtype 257"), std::string::npos) << reply.message;
  EXPECT_EQ(ingest_.stats().pending_snapshots, 0u);
}

TEST_F(IngestTest, ChecksumMismatchIsRefusedAndNothingIsStored) {
  hello();
  SnapshotMeta wrong = meta_;
  wrong.checksum ^= 1;
  auto snapshot = frames(wrong);
  for (uint32_t i = 0; i + 1 < snapshot.frame_count(); ++i) feed_quietly(snapshot.frame(i));
  Reply reply = feed_one(snapshot.frame(snapshot.frame_count() - 1));
  EXPECT_FALSE(reply.ack);
  EXPECT_EQ(reply.code, wire::ErrorCode::CHECKSUM_MISMATCH);
  EXPECT_NE(reply.message.find("checksum " + std::to_string(meta_.checksum)), std::string::npos) << reply.message;
  EXPECT_FALSE(SnapshotTable(*store_).meta(meta_.key).has_value());
  EXPECT_TRUE(stored_.empty());
}

TEST_F(IngestTest, HelloForAnExistingRunWithAnotherProbeIsProbeMismatch) {
  hello();
  RunDescription other = testing::make_run("run", {"tap"}, 16, 128, 32, /*probe_seed=*/2);
  ASSERT_NE(other.probe.hash(), run_.probe.hash());
  Reply reply = feed_one(encode_hello_frame(other));
  EXPECT_FALSE(reply.ack);
  EXPECT_EQ(reply.code, wire::ErrorCode::PROBE_MISMATCH);
  EXPECT_NE(reply.message.find("already exists with a different probe set"), std::string::npos) << reply.message;
  // The stored run keeps its first probe set.
  EXPECT_EQ(RunCatalog(*store_).get("run")->probe_hash, run_.probe.hash());
  // The same probe again is fine, and may add a tap.
  RunDescription more = run_;
  more.taps.push_back({"tap2", 32});
  EXPECT_TRUE(feed_one(encode_hello_frame(more)).ack);
  EXPECT_EQ(RunCatalog(*store_).get("run")->description.taps.size(), 2u);
}

TEST_F(IngestTest, AHelloWithoutVocabularyKeepsTheStoredVocabulary) {
  run_.probe.vocabulary = {"a", "b", "c"};
  hello();
  // The job restarts and sends its Hello again, this time without the
  // optional vocabulary (same probe tokens, same hash).
  RunDescription again = run_;
  again.probe.vocabulary.clear();
  ASSERT_TRUE(feed_one(encode_hello_frame(again)).ack);
  const auto probe = RunCatalog(*store_).probe("run");
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->vocabulary, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(IngestTest, SnapshotOfAnUnknownRunAsksForHello) {
  Reply reply = feed_one(frames(meta_).frame(0));
  EXPECT_EQ(reply.code, wire::ErrorCode::UNKNOWN_RUN);
  EXPECT_NE(reply.message.find("unknown run 'run'"), std::string::npos) << reply.message;
}

TEST_F(IngestTest, ResentBeginRestartsTheArray) {
  hello();
  auto snapshot = frames(meta_);
  feed_quietly(snapshot.frame(0));
  feed_quietly(snapshot.frame(1));
  feed_quietly(snapshot.frame(2));
  // The sender starts over (e.g. after a timeout): the daemon must follow.
  for (uint32_t i = 0; i + 1 < snapshot.frame_count(); ++i) feed_quietly(snapshot.frame(i));
  EXPECT_TRUE(feed_one(snapshot.frame(snapshot.frame_count() - 1)).ack);
  std::string data;
  ASSERT_TRUE(SnapshotTable(*store_).read(meta_.key, &data));
  EXPECT_EQ(data, testing::as_bytes(values_));
}

TEST(IngestLimitsTest, AResentBeginDoesNotCountTheArrayItReplacesAgainstThePendingLimit) {
  // Room for one partial array of 8 KiB, not two.
  testing::TempDir dir;
  auto store = Store::open(dir.path());
  IngestLimits limits;
  limits.max_pending_bytes = 12 << 10;
  Ingest ingest(*store, limits);
  const RunDescription run = testing::make_run("run", {"tap"}, 16, 128, 32);
  const auto values = testing::random_activations(7, 128 * 16);
  const SnapshotMeta meta = testing::probe_meta(run, "tap", 3, values);
  SnapshotFrames snapshot(meta, values.data(), run.probe.hash(), 1024);
  auto feed = [&](const Frame& frame) { return ingest.handle(kPeer, frame.data(), frame.size()); };
  ASSERT_EQ(feed(encode_hello_frame(run)).size(), 1u);
  ASSERT_TRUE(feed(snapshot.frame(0)).empty());
  ASSERT_TRUE(feed(snapshot.frame(1)).empty());
  // The publisher starts the array over (ack timeout, daemon said
  // unknownSnapshot): the new begin replaces the old partial array.
  auto replies = feed(snapshot.frame(0));
  ASSERT_TRUE(replies.empty()) << "a re-sent begin was refused: " << decode(replies.front()).message;
  for (uint32_t i = 1; i + 1 < snapshot.frame_count(); ++i) ASSERT_TRUE(feed(snapshot.frame(i)).empty());
  replies = feed(snapshot.frame(snapshot.frame_count() - 1));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(decode(replies.front()).ack) << decode(replies.front()).message;
}

TEST_F(IngestTest, DuplicateIsAckedAsDuplicateAndOtherBytesAreAConflict) {
  hello();
  auto send_all = [&](const SnapshotFrames& snapshot) {
    for (uint32_t i = 0; i + 1 < snapshot.frame_count(); ++i) feed_quietly(snapshot.frame(i));
    return feed_one(snapshot.frame(snapshot.frame_count() - 1));
  };
  Reply first = send_all(frames(meta_));
  ASSERT_TRUE(first.ack) << first.message;
  EXPECT_FALSE(first.duplicate);
  Reply again = send_all(frames(meta_));
  ASSERT_TRUE(again.ack) << again.message;
  EXPECT_TRUE(again.duplicate);

  std::vector<float> changed = values_;
  changed[100] += 1.0f;
  SnapshotMeta changed_meta = testing::probe_meta(run_, "tap", 3, changed);
  SnapshotFrames conflicting(changed_meta, changed.data(), run_.probe.hash(), 1024);
  Reply conflict = send_all(conflicting);
  EXPECT_FALSE(conflict.ack);
  EXPECT_EQ(conflict.code, wire::ErrorCode::CONFLICT);
  EXPECT_NE(conflict.message.find("already stored with different contents"), std::string::npos) << conflict.message;

  std::string data;
  ASSERT_TRUE(SnapshotTable(*store_).read(meta_.key, &data));
  EXPECT_EQ(data, testing::as_bytes(values_));
  EXPECT_EQ(stored_.size(), 1u);
  EXPECT_EQ(ingest_.stats().duplicates, 1u);
}

TEST_F(IngestTest, PartialArraysOfDifferentPeersDoNotMix) {
  hello();
  auto snapshot = frames(meta_);
  ingest_.handle("a", snapshot.frame(0).data(), snapshot.frame(0).size());
  ingest_.handle("b", snapshot.frame(0).data(), snapshot.frame(0).size());
  EXPECT_EQ(ingest_.stats().pending_snapshots, 2u);
  for (uint32_t i = 1; i + 1 < snapshot.frame_count(); ++i) {
    EXPECT_TRUE(ingest_.handle("a", snapshot.frame(i).data(), snapshot.frame(i).size()).empty());
  }
  const Frame end = snapshot.frame(snapshot.frame_count() - 1);
  auto replies = ingest_.handle("a", end.data(), end.size());
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(decode(replies[0]).ack);
  // Peer b sent only its begin; its end finds an incomplete array.
  replies = ingest_.handle("b", end.data(), end.size());
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(decode(replies[0]).code, wire::ErrorCode::BAD_CHUNK);
  EXPECT_NE(decode(replies[0]).message.find("ended after 0 of 8192 bytes"), std::string::npos)
      << decode(replies[0]).message;
}

TEST_F(IngestTest, IdlePartialArraysExpire) {
  hello();
  auto snapshot = frames(meta_);
  feed_quietly(snapshot.frame(0));
  EXPECT_EQ(ingest_.stats().pending_snapshots, 1u);
  EXPECT_EQ(ingest_.stats().pending_bytes, 8192u);
  ingest_.expire(UINT64_MAX / 2, 1000);
  EXPECT_EQ(ingest_.stats().pending_snapshots, 0u);
  EXPECT_EQ(ingest_.stats().pending_bytes, 0u);
}

}  // namespace
}  // namespace cw
