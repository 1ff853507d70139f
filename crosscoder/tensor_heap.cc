#include "crosscoder/tensor_heap.h"

#include <malloc.h>

#include <stdexcept>
#include <string>

namespace cw {

void keep_freed_tensor_memory() {
  // Setting either value also stops glibc from moving the mmap threshold
  // by itself (it starts at 128 KiB), so both are set. 16 MiB: tinygpt ran
  // as fast with it as with 32 or 64 MiB (7.9, 7.6, 8.0 s); a threshold of
  // 128 KiB with the trim threshold raised alone took 93 s (every block
  // over 128 KiB mapped afresh).
  constexpr int kMmapThreshold = 16 << 20, kTrimThreshold = 64 << 20;
  if (mallopt(M_MMAP_THRESHOLD, kMmapThreshold) != 1 || mallopt(M_TRIM_THRESHOLD, kTrimThreshold) != 1)
    throw std::runtime_error("malloc refused M_MMAP_THRESHOLD " + std::to_string(kMmapThreshold) +
                             " or M_TRIM_THRESHOLD " + std::to_string(kTrimThreshold));
}

}  // namespace cw
