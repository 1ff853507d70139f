#include "examples/tinygpt/checkpoint_schedule.h"

#include <algorithm>

namespace cw {

CheckpointSchedule::CheckpointSchedule(uint64_t log_spaced_until, uint64_t every, uint64_t last_step) {
  steps_.push_back(0);
  for (uint64_t s = 1; s <= log_spaced_until && s <= last_step; s *= 2) steps_.push_back(s);
  if (every > 0) {
    for (uint64_t s = every; s <= last_step; s += every) steps_.push_back(s);
  }
  steps_.push_back(last_step);
  std::sort(steps_.begin(), steps_.end());
  steps_.erase(std::unique(steps_.begin(), steps_.end()), steps_.end());
}

bool CheckpointSchedule::contains(uint64_t step) const {
  return std::binary_search(steps_.begin(), steps_.end(), step);
}

}  // namespace cw
