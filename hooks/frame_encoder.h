// Builds the wire frames of a run's Hello and of one snapshot. The publisher
// sends them over ZeroMQ; `conceptwatch import` without a daemon feeds the
// very same frames to the ingest code.
#ifndef CW_HOOKS_FRAME_ENCODER_H_
#define CW_HOOKS_FRAME_ENCODER_H_

#include <cstdint>
#include <string>

#include "schema/records.h"

namespace cw {

using Frame = std::string;

Frame encode_hello_frame(const RunDescription& run);

// A snapshot travels as begin, chunks of at most `chunk_bytes`, end.
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

#endif  // CW_HOOKS_FRAME_ENCODER_H_
