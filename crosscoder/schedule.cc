#include "crosscoder/schedule.h"

#include <algorithm>

#include "crosscoder/crosscoder.h"

namespace cw {

double scheduled_lr(const CrosscoderOptions& options, int64_t position, int64_t total) {
  const double n = static_cast<double>(std::max<int64_t>(total, 1));
  const double s = static_cast<double>(position);
  const double warmup = options.warmup_fraction * n;
  const double decay_start = n - options.decay_fraction * n;
  // At most lr: a call shorter than 1 / warmup_fraction steps (a backlog's
  // share, a refinement's last share) has a warm-up under one step, and
  // (s + 1) / warmup made its first step up to 20× lr (a refinement of
  // 5-step shares diverged to a loss of 835 on the demo).
  if (warmup > 0 && s < warmup) return options.lr * std::min(1.0, (s + 1) / warmup);
  if (options.decay_fraction > 0 && s >= decay_start) {
    const double t = std::min(1.0, (s - decay_start + 1) / (options.decay_fraction * n));
    return options.lr * (1.0 - t) + options.lr * options.final_lr_ratio * t;
  }
  return options.lr;
}

double scheduled_lambda(const CrosscoderOptions& options, int64_t cumulative, int64_t horizon) {
  const double ramp = options.lambda_warmup_fraction * static_cast<double>(horizon);
  if (ramp <= 0) return options.sparsity_lambda;
  return options.sparsity_lambda * std::min(1.0, static_cast<double>(cumulative + 1) / ramp);
}

}  // namespace cw
