#include "detect/cusum.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "detect/robust_scale.h"

namespace cw {

Cusum::Cusum(CusumOptions options) : options_(options) {
  if (!(options_.drift >= 0)) throw std::invalid_argument("Cusum: drift must be >= 0");
  if (!(options_.threshold > 0)) throw std::invalid_argument("Cusum: threshold must be positive");
  if (!(options_.clip > options_.drift)) throw std::invalid_argument("Cusum: clip must exceed drift");
  if (options_.warmup < 3) throw std::invalid_argument("Cusum: warmup must be at least 3 values");
  if (options_.scale_window < 3) throw std::invalid_argument("Cusum: scale_window must be at least 3 values");
}

CusumStep Cusum::observe(double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("Cusum: observations must be finite");
  values_.push_back(value);
  const size_t n = values_.size();
  if (n < options_.warmup) {
    CusumStep step;
    step.index = n - 1;
    return step;
  }
  if (n > options_.warmup) return update(n - 1);

  CusumStep last, replay_alarm;
  bool alarmed = false;
  for (size_t i = 0; i < n; ++i) {
    last = update(i);
    if (last.alarm) {
      alarmed = true;
      replay_alarm = last;
    }
  }
  if (alarmed) {
    last.alarm = true;
    last.direction = replay_alarm.direction;
    last.onset = replay_alarm.onset;
  }
  return last;
}

CusumStep Cusum::update(size_t index) {
  // Reference and scale from values known before this one (the whole warm-up
  // while replaying it), inside the current regime and the last scale_window.
  const size_t known = std::max(index, std::min(options_.warmup, values_.size()));
  const size_t begin = std::max(regime_start_, known > options_.scale_window ? known - options_.scale_window : 0);
  const std::vector<double> window(values_.begin() + begin, values_.begin() + std::max(known, begin + 1));
  // The running median, not a fixed warm-up median: a reference off by half
  // a noise sd would halve the drift allowance and multiply false alarms.
  reference_ = median(window);
  double scale = robust_noise_scale(window, options_.min_scale);
  if (window.size() <= 20) {
    // The MAD of a few differences can underestimate the noise several-fold;
    // the RMS of differences cannot, so take the larger while data are few.
    double sum_sq = 0;
    for (size_t i = 1; i < window.size(); ++i) sum_sq += (window[i] - window[i - 1]) * (window[i] - window[i - 1]);
    if (window.size() > 2) scale = std::max(scale, std::sqrt(sum_sq / (2.0 * static_cast<double>(window.size() - 1))));
  }
  const double z = std::clamp((values_[index] - reference_) / scale, -options_.clip, options_.clip);

  CusumStep step;
  step.index = index;
  step.ready = true;
  step.reference = reference_;
  step.scale = scale;
  if (options_.direction != CusumDirection::kDown) {
    if (upper_ == 0) upper_start_ = index;
    upper_ = std::max(0.0, upper_ + z - options_.drift);
  }
  if (options_.direction != CusumDirection::kUp) {
    if (lower_ == 0) lower_start_ = index;
    lower_ = std::max(0.0, lower_ - z - options_.drift);
  }
  step.upper = upper_;
  step.lower = lower_;
  if (upper_ > options_.threshold || lower_ > options_.threshold) {
    const bool up = upper_ - options_.threshold >= lower_ - options_.threshold;
    step.alarm = true;
    step.direction = up ? +1 : -1;
    step.onset = up ? upper_start_ : lower_start_;
    regime_start_ = step.onset;  // the new level is the reference from here on
    upper_ = lower_ = 0;
  }
  return step;
}

}  // namespace cw
