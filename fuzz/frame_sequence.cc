#include "fuzz/frame_sequence.h"

#include <algorithm>

namespace cw::fuzz {

std::vector<PeerFrame> split_frames(const uint8_t* data, std::size_t size) {
  static const std::string kPeers[2] = {std::string("\x00\x6b\x8b\x45\x67", 5), std::string("\x00\x6b\x8b\x45\x68", 5)};
  std::vector<PeerFrame> frames;
  std::size_t pos = 0;
  while (pos + 5 <= size) {
    const uint8_t peer = data[pos];
    const uint32_t length = uint32_t(data[pos + 1]) | uint32_t(data[pos + 2]) << 8 | uint32_t(data[pos + 3]) << 16 |
                            uint32_t(data[pos + 4]) << 24;
    pos += 5;
    const std::size_t take = std::min<std::size_t>(length, size - pos);
    frames.push_back({kPeers[peer & 1], data + pos, take});
    pos += take;
  }
  return frames;
}

std::string join_frames(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& frame : frames) {
    out.push_back('\0');
    for (int shift = 0; shift < 32; shift += 8) out.push_back(char((frame.size() >> shift) & 0xff));
    out += frame;
  }
  return out;
}

}  // namespace cw::fuzz
