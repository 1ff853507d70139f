#include "schema/snapshot_frames.h"

#include <algorithm>

#include "schema/messages.h"

namespace cw {

SnapshotFrames::SnapshotFrames(const SnapshotMeta& meta, const void* data, uint64_t probe_hash, uint64_t chunk_bytes)
    : meta_(meta),
      data_(static_cast<const char*>(data)),
      probe_hash_(probe_hash),
      // Chunks hold whole elements so that each can be checked on arrival.
      chunk_bytes_(std::max<uint64_t>(dtype_size(meta.dtype), chunk_bytes - chunk_bytes % dtype_size(meta.dtype))),
      chunk_count_(uint32_t(std::max<uint64_t>(1, (meta.bytes() + chunk_bytes_ - 1) / chunk_bytes_))) {}

Frame SnapshotFrames::frame(uint32_t index) const {
  if (index == 0) return encode_snapshot_begin_frame({meta_, meta_.bytes(), chunk_count_, probe_hash_});
  if (index <= chunk_count_) {
    const uint64_t offset = uint64_t(index - 1) * chunk_bytes_;
    const uint64_t size = std::min(chunk_bytes_, meta_.bytes() - offset);
    return encode_snapshot_chunk_frame({meta_.key, index - 1, offset, data_ + offset, size});
  }
  return encode_snapshot_end_frame({meta_.key, meta_.checksum});
}

}  // namespace cw
