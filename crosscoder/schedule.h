// Learning-rate and sparsity-coefficient schedules (torch-free).
#ifndef CW_CROSSCODER_SCHEDULE_H_
#define CW_CROSSCODER_SCHEDULE_H_

#include <cstdint>

namespace cw {

struct CrosscoderOptions;

// lr at step `position` (0-based) of a training call of `total` steps:
// linear warm-up over warmup_fraction, constant, then linear decay to
// lr × final_lr_ratio over the last decay_fraction. Never above lr.
double scheduled_lr(const CrosscoderOptions& options, int64_t position, int64_t total);

// λ after `cumulative` steps of training in all: ramps linearly from 0 to
// sparsity_lambda over lambda_warmup_fraction × horizon steps, where horizon
// is the step budget of the crosscoder's first training call.
double scheduled_lambda(const CrosscoderOptions& options, int64_t cumulative, int64_t horizon);

}  // namespace cw

#endif  // CW_CROSSCODER_SCHEDULE_H_
