// The input format of the fuzzers that feed several frames in a row
// (ingest_fuzzer.cc): each frame is one byte naming the peer (its low bit:
// two peers, so interleaved senders are reachable), a little-endian u32
// length, then that many bytes. A length past the end takes what is left,
// so every input splits into frames and no mutation is wasted on framing.
#ifndef CW_FUZZ_FRAME_SEQUENCE_H_
#define CW_FUZZ_FRAME_SEQUENCE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "schema/message_io.h"

namespace cw::fuzz {

struct PeerFrame {
  std::string peer;  // a ZeroMQ routing id
  const uint8_t* data = nullptr;
  std::size_t size = 0;
};

// The frames of `data`; each points into it.
std::vector<PeerFrame> split_frames(const uint8_t* data, std::size_t size);

// The input that splits into `frames`, all from peer 0.
std::string join_frames(const std::vector<Frame>& frames);

}  // namespace cw::fuzz

#endif  // CW_FUZZ_FRAME_SEQUENCE_H_
