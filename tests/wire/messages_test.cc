// Every wire message through its encoder and its decoder (schema/messages.h):
// what goes in comes out, field by field.
#include "schema/messages.h"

#include <gtest/gtest.h>

#include <variant>

#include "schema/record_codec.h"

namespace cw {
namespace {

wire::Message::Body::Reader body_of(const IncomingMessage& in) { return in.get().getBody(); }

// The frame must outlive the message: aligned frames are read in place.
IncomingMessage read(const Frame& frame) { return IncomingMessage(frame.data(), frame.size(), 1 << 20); }

SnapshotKey task_key() { return {"run-1", "blocks.0.resid_post", 42, ArrayKind::kTaskGradient, "induction"}; }

TEST(Messages, HelloRoundTrips) {
  RunDescription run;
  run.run = "run-1";
  run.taps = {{"embed", 8}, {"blocks.0.resid_post", 8}};
  run.dtype = DType::kBF16;
  run.probe.token_ids = {1, 2, 3, 4};
  run.probe.sequence_length = 2;
  run.probe.vocabulary = {"a", "b", "c", "d", "e"};
  run.tasks = {{"induction", {5, 6}, 2, "logit diff"}};
  const Frame frame = encode_hello_frame(run);
  auto in = read(frame);
  const RunDescription back = read_hello(body_of(in).getHello());
  EXPECT_EQ(back.run, run.run);
  ASSERT_EQ(back.taps.size(), 2u);
  EXPECT_EQ(back.taps[1].name, "blocks.0.resid_post");
  EXPECT_EQ(back.dtype, DType::kBF16);
  EXPECT_EQ(back.probe.token_ids, run.probe.token_ids);
  EXPECT_EQ(back.probe.vocabulary, run.probe.vocabulary);
  ASSERT_EQ(back.tasks.size(), 1u);
  EXPECT_EQ(back.tasks[0].metric, "logit diff");
}

TEST(Messages, SnapshotFramesRoundTrip) {
  SnapshotBegin begin;
  begin.meta.key = task_key();
  begin.meta.tokens_seen = 1000;
  begin.meta.scalars = {{"train_loss", 2.5}};
  begin.meta.n_tokens = 3;
  begin.meta.d_model = 4;
  begin.meta.dtype = DType::kF16;
  begin.total_bytes = 24;
  begin.chunk_count = 2;
  begin.probe_hash = 77;
  const Frame begin_frame = encode_snapshot_begin_frame(begin);
  auto in = read(begin_frame);
  const SnapshotBegin back = read_snapshot_begin(body_of(in).getSnapshotBegin());
  EXPECT_EQ(back.meta.key, begin.meta.key);
  EXPECT_EQ(back.meta.tokens_seen, 1000u);
  EXPECT_EQ(back.meta.scalars, begin.meta.scalars);
  EXPECT_EQ(back.meta.n_tokens, 3u);
  EXPECT_EQ(back.meta.d_model, 4u);
  EXPECT_EQ(back.meta.dtype, DType::kF16);
  EXPECT_EQ(back.total_bytes, 24u);
  EXPECT_EQ(back.chunk_count, 2u);
  EXPECT_EQ(back.probe_hash, 77u);

  const std::string bytes = "0123456789ab";
  const Frame chunk_frame = encode_snapshot_chunk_frame({task_key(), 1, 12, bytes.data(), bytes.size()});
  auto chunk_in = read(chunk_frame);
  const SnapshotChunk chunk = read_snapshot_chunk(body_of(chunk_in).getSnapshotChunk());
  EXPECT_EQ(chunk.key, task_key());
  EXPECT_EQ(chunk.index, 1u);
  EXPECT_EQ(chunk.offset, 12u);
  EXPECT_EQ(std::string(static_cast<const char*>(chunk.data), chunk.size), bytes);

  const Frame end_frame = encode_snapshot_end_frame({task_key(), 0xfeedu});
  auto end_in = read(end_frame);
  const SnapshotEnd end = read_snapshot_end(body_of(end_in).getSnapshotEnd());
  EXPECT_EQ(end.key, task_key());
  EXPECT_EQ(end.checksum, 0xfeedu);
}

TEST(Messages, AcksAndErrorsRoundTrip) {
  const Frame hello_frame = encode_hello_ack_frame({"run-1", 1u << 20});
  auto hello_in = read(hello_frame);
  const auto hello = read_ack(body_of(hello_in).getAck());
  ASSERT_TRUE(std::holds_alternative<HelloAck>(hello));
  EXPECT_EQ(std::get<HelloAck>(hello).run, "run-1");
  EXPECT_EQ(std::get<HelloAck>(hello).max_frame_bytes, 1u << 20);

  const Frame stored_frame = encode_snapshot_ack_frame({task_key(), true});
  auto stored_in = read(stored_frame);
  const auto stored = read_ack(body_of(stored_in).getAck());
  ASSERT_TRUE(std::holds_alternative<SnapshotAck>(stored));
  EXPECT_EQ(std::get<SnapshotAck>(stored).key, task_key());
  EXPECT_TRUE(std::get<SnapshotAck>(stored).duplicate);

  const Frame about_frame = encode_error_frame({wire::ErrorCode::CONFLICT, "stored once", task_key()});
  auto about_in = read(about_frame);
  const ErrorReply about = read_error(body_of(about_in).getError());
  EXPECT_EQ(about.code, wire::ErrorCode::CONFLICT);
  EXPECT_EQ(about.message, "stored once");
  ASSERT_TRUE(about.snapshot.has_value());
  EXPECT_EQ(*about.snapshot, task_key());

  const Frame general_frame = encode_error_frame({wire::ErrorCode::BAD_REQUEST, "no", std::nullopt});
  auto general_in = read(general_frame);
  EXPECT_FALSE(read_error(body_of(general_in).getError()).snapshot.has_value());
}

TEST(Messages, QueryAndReplyRoundTrip) {
  const Frame query_frame = encode_query_frame(QueryRequest{"features", R"({"run":"r"})"});
  auto query_in = read(query_frame);
  const QueryRequest query = read_query(body_of(query_in).getQuery());
  EXPECT_EQ(query.command, "features");
  EXPECT_EQ(query.params, R"({"run":"r"})");

  const Frame reply_frame = encode_reply_frame({false, "", "unknown run 'r'"});
  auto reply_in = read(reply_frame);
  const QueryReply reply = read_reply(body_of(reply_in).getReply());
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.error, "unknown run 'r'");
}

}  // namespace
}  // namespace cw
