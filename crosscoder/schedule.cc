#include "crosscoder/schedule.h"

#include <algorithm>

#include "crosscoder/crosscoder.h"

namespace cw {

double scheduled_lr(const CrosscoderOptions& options, int64_t position, int64_t total) {
  const double n = static_cast<double>(std::max<int64_t>(total, 1));
  const double s = static_cast<double>(position);
  const double warmup = options.warmup_fraction * n;
  const double decay_start = n - options.decay_fraction * n;
  if (warmup > 0 && s < warmup) return options.lr * (s + 1) / warmup;
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
