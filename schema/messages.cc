#include "schema/messages.h"

#include <algorithm>

#include "schema/record_codec.h"

namespace cw {
namespace {

// An error message goes back to a peer that may have sent megabytes of
// name or JSON to provoke it: whatever the message quotes, the reply stays
// small. Cut at a character boundary so the text stays valid UTF-8.
std::string capped_message(const std::string& message) {
  constexpr std::size_t kMaxMessageBytes = 4096;
  if (message.size() <= kMaxMessageBytes) return message;
  std::size_t cut = kMaxMessageBytes;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xc0) == 0x80) --cut;
  return message.substr(0, cut) + "... (" + std::to_string(message.size()) + " bytes)";
}

}  // namespace

Frame encode_hello_frame(const RunDescription& run) {
  return build_frame([&](wire::Message::Body::Builder body) { write_hello(run, body.initHello()); });
}

Frame encode_snapshot_begin_frame(const SnapshotBegin& begin) {
  return build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initSnapshotBegin();
    write_snapshot_fields(begin.meta, out);
    out.setTotalBytes(begin.total_bytes);
    out.setChunkCount(begin.chunk_count);
    out.setProbeHash(begin.probe_hash);
  });
}

UnknownDType::UnknownDType(const SnapshotKey& key, uint16_t dtype)
    : WireError("snapshot " + key.describe() + ": unknown dtype " + std::to_string(dtype)), key(key) {}

SnapshotBegin read_snapshot_begin(wire::SnapshotBegin::Reader in) {
  SnapshotBegin begin;
  SnapshotMeta& meta = begin.meta;
  // DType is one byte: an unknown wire value must be refused before the cast.
  if (uint16_t(in.getDtype()) > uint16_t(wire::DType::BF16))
    throw UnknownDType(read_snapshot_id(in.getId()), uint16_t(in.getDtype()));
  read_snapshot_fields(in, &meta);
  begin.total_bytes = in.getTotalBytes();
  begin.chunk_count = in.getChunkCount();
  begin.probe_hash = in.getProbeHash();
  return begin;
}

Frame encode_snapshot_chunk_frame(const SnapshotChunk& chunk) {
  // The first segment holds the whole chunk, so its bytes are copied once.
  const uint64_t first_segment_words = std::min<uint64_t>(chunk.size / 8 + 256, 1u << 28);
  return build_frame(
      [&](wire::Message::Body::Builder body) {
        auto out = body.initSnapshotChunk();
        write_snapshot_id(chunk.key, out.initId());
        out.setIndex(chunk.index);
        out.setOffset(chunk.offset);
        out.setData(kj::arrayPtr(static_cast<const kj::byte*>(chunk.data), chunk.size));
      },
      unsigned(first_segment_words));
}

SnapshotChunk read_snapshot_chunk(wire::SnapshotChunk::Reader in) {
  auto data = in.getData();
  return {read_snapshot_id(in.getId()), in.getIndex(), in.getOffset(), data.begin(), data.size()};
}

Frame encode_snapshot_end_frame(const SnapshotEnd& end) {
  return build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initSnapshotEnd();
    write_snapshot_id(end.key, out.initId());
    out.setChecksum(end.checksum);
  });
}

SnapshotEnd read_snapshot_end(wire::SnapshotEnd::Reader in) { return {read_snapshot_id(in.getId()), in.getChecksum()}; }

Frame encode_hello_ack_frame(const HelloAck& ack) {
  return build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initAck();
    out.setHello(ack.run);
    out.setMaxFrameBytes(ack.max_frame_bytes);
  });
}

Frame encode_snapshot_ack_frame(const SnapshotAck& ack) {
  return build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initAck();
    write_snapshot_id(ack.key, out.initSnapshot());
    out.setDuplicate(ack.duplicate);
  });
}

std::variant<HelloAck, SnapshotAck> read_ack(wire::Ack::Reader in) {
  if (in.isHello()) return HelloAck{to_string(in.getHello()), in.getMaxFrameBytes()};
  return SnapshotAck{read_snapshot_id(in.getSnapshot()), in.getDuplicate()};
}

Frame encode_error_frame(const ErrorReply& error) {
  return build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initError();
    out.setCode(error.code);
    out.setMessage(capped_message(error.message));
    out.setHasSnapshot(error.snapshot.has_value());
    if (error.snapshot) write_snapshot_id(*error.snapshot, out.initSnapshot());
    out.setStoreUnavailable(error.store_unavailable);
  });
}

ErrorReply read_error(wire::Error::Reader in) {
  ErrorReply error;
  error.code = in.getCode();
  error.message = to_string(in.getMessage());
  if (in.getHasSnapshot()) error.snapshot = read_snapshot_id(in.getSnapshot());
  error.store_unavailable = in.getStoreUnavailable();
  return error;
}

Frame encode_query_frame(const QueryRequest& query) {
  return build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initQuery();
    out.setCommand(query.command);
    out.setParams(query.params);
  });
}

QueryRequest read_query(wire::Query::Reader in) { return {to_string(in.getCommand()), to_string(in.getParams())}; }

Frame encode_reply_frame(const QueryReply& reply) {
  return build_frame([&](wire::Message::Body::Builder body) {
    auto out = body.initReply();
    out.setOk(reply.ok);
    out.setJson(reply.json);
    out.setError(capped_message(reply.error));
  });
}

QueryReply read_reply(wire::Reply::Reader in) {
  return {in.getOk(), to_string(in.getJson()), to_string(in.getError())};
}

}  // namespace cw
