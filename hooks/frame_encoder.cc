#include "hooks/frame_encoder.h"

#include <capnp/message.h>

#include <algorithm>

#include "schema/message_io.h"
#include "schema/record_codec.h"

namespace cw {
namespace {

Frame to_frame(capnp::MessageBuilder& builder) {
  auto words = encode_message(builder);
  auto bytes = words.asBytes();
  return Frame(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

wire::Message::Body::Builder start(capnp::MallocMessageBuilder& builder) {
  auto message = builder.initRoot<wire::Message>();
  message.setVersion(wire::WIRE_VERSION);
  return message.getBody();
}

}  // namespace

Frame encode_hello_frame(const RunDescription& run) {
  capnp::MallocMessageBuilder builder;
  write_hello(run, start(builder).initHello());
  return to_frame(builder);
}

SnapshotFrames::SnapshotFrames(const SnapshotMeta& meta, const void* data, uint64_t probe_hash, uint64_t chunk_bytes)
    : meta_(meta),
      data_(static_cast<const char*>(data)),
      probe_hash_(probe_hash),
      // Chunks hold whole elements so that each can be checked on arrival.
      chunk_bytes_(std::max<uint64_t>(dtype_size(meta.dtype), chunk_bytes - chunk_bytes % dtype_size(meta.dtype))),
      chunk_count_(uint32_t(std::max<uint64_t>(1, (meta.bytes() + chunk_bytes_ - 1) / chunk_bytes_))) {}

Frame SnapshotFrames::frame(uint32_t index) const {
  // The first segment is sized to hold a whole chunk so data is copied once.
  const uint64_t first_segment_words = index >= 1 && index <= chunk_count_ ? chunk_bytes_ / 8 + 256 : 1024;
  capnp::MallocMessageBuilder builder(static_cast<unsigned>(std::min<uint64_t>(first_segment_words, 1u << 28)));
  auto body = start(builder);
  if (index == 0) {
    auto begin = body.initSnapshotBegin();
    write_snapshot_id(meta_.key, begin.initId());
    begin.setTokensSeen(meta_.tokens_seen);
    write_scalars(meta_.scalars, begin.initScalars(meta_.scalars.size()));
    begin.setNTokens(meta_.n_tokens);
    begin.setDModel(meta_.d_model);
    begin.setDtype(to_wire(meta_.dtype));
    begin.setTotalBytes(meta_.bytes());
    begin.setChunkCount(chunk_count_);
    begin.setProbeHash(probe_hash_);
  } else if (index <= chunk_count_) {
    const uint64_t offset = uint64_t(index - 1) * chunk_bytes_;
    const uint64_t size = std::min(chunk_bytes_, meta_.bytes() - offset);
    auto chunk = body.initSnapshotChunk();
    write_snapshot_id(meta_.key, chunk.initId());
    chunk.setIndex(index - 1);
    chunk.setOffset(offset);
    chunk.setData(kj::arrayPtr(reinterpret_cast<const kj::byte*>(data_ + offset), size));
  } else {
    auto end = body.initSnapshotEnd();
    write_snapshot_id(meta_.key, end.initId());
    end.setChecksum(meta_.checksum);
  }
  return to_frame(builder);
}

}  // namespace cw
