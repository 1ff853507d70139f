// When the job snapshots: log-spaced early, where the model changes fastest
// (Pythia's 0, 1, 2, 4, …, 512), then every `every` steps, and always at the
// last step.
#ifndef CW_EXAMPLES_TINYGPT_CHECKPOINT_SCHEDULE_H_
#define CW_EXAMPLES_TINYGPT_CHECKPOINT_SCHEDULE_H_

#include <cstdint>
#include <vector>

namespace cw {

class CheckpointSchedule {
 public:
  // Steps 0 and the powers of two up to `log_spaced_until` (0 disables them
  // except step 0), then multiples of `every` (0 disables them), then
  // `last_step`. Step s means "after s optimizer updates".
  CheckpointSchedule(uint64_t log_spaced_until, uint64_t every, uint64_t last_step);

  bool contains(uint64_t step) const;
  const std::vector<uint64_t>& steps() const { return steps_; }  // ascending, unique

 private:
  std::vector<uint64_t> steps_;
};

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_CHECKPOINT_SCHEDULE_H_
