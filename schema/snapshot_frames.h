// A snapshot cut into the frames it travels as: begin, chunks of at most
// `chunk_bytes`, end. The publisher sends them over ZeroMQ; `conceptwatch
// import` without a daemon feeds the very same frames to the ingest code.
#ifndef CW_SCHEMA_SNAPSHOT_FRAMES_H_
#define CW_SCHEMA_SNAPSHOT_FRAMES_H_

#include <cstdint>

#include "schema/message_io.h"
#include "schema/records.h"

namespace cw {

class SnapshotFrames {
 public:
  // `data` must stay valid while frames are produced. meta.checksum is set
  // by the caller (checksum64 of the array).
  SnapshotFrames(const SnapshotMeta& meta, const void* data, uint64_t probe_hash, uint64_t chunk_bytes);

  uint32_t chunk_count() const { return chunk_count_; }
  // Frames in order: index 0 is begin, 1..chunk_count are chunks, then end.
  uint32_t frame_count() const { return chunk_count_ + 2; }
  Frame frame(uint32_t index) const;

 private:
  SnapshotMeta meta_;
  const char* data_;
  uint64_t probe_hash_;
  uint64_t chunk_bytes_;
  uint32_t chunk_count_;
};

}  // namespace cw

#endif  // CW_SCHEMA_SNAPSHOT_FRAMES_H_
